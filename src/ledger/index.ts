// The ledger: runs, rejected rows and their problems, billing usage.
export * from './runs.js';
