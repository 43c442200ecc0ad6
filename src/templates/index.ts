// Templates as data: the import and export templates and the file-name rules.
export * from './export-templates.js';
export * from './file-names.js';
export * from './import-templates.js';
export * from './types.js';
