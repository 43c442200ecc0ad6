// The import pipeline's public face.
export {
  dryRunTogether,
  type ImportOptions,
  type ImportResult,
  type ImportStatus,
  importFile,
} from './pipeline.js';
