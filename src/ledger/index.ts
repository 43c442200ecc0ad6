// The ledger: runs, rejected rows and their problems, billing usage.
export * from './periods.js';
export * from './runs.js';
