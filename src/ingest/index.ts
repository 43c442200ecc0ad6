// The import pipeline's public face.
export {
  dryRunTogether,
  type ImportOptions,
  type ImportResult,
  type ImportStatus,
  importFile,
  MAX_ERRORS_KEPT,
  withImportLease,
} from './pipeline.js';
