// The export writer's public face: one streaming writer for every export template.

export { exportFolderProblem, fsReason } from '../folders.js';
export { parseInstant } from '../time/zones.js';
export { neutraliseFormula } from './format.js';
export { type ExportOptions, type ExportResult, type ExportScope, exportFile } from './pipeline.js';
