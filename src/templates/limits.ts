// The contract's limits on what a file may hold (../shared/spec/templates.md, "Limits" and "Numbers"):
// every value that passes them fits the columns of both engines, so the store never refuses a row
// that validation accepted.

/** Characters in one cell: a spreadsheet cell's limit. */
export const MAX_CELL_CHARS = 32_767;
/** Characters in one key cell (EmployerID, EmployeeID, PassportNumber...). */
export const MAX_KEY_CHARS = 100;
/** Characters in one row, line breaks of quoted cells included (1 MiB of ASCII text). */
export const MAX_ROW_CHARS = 1_048_576;
/** Cells in one row. */
export const MAX_ROW_CELLS = 1_000;
/** Digits in a whole number or an amount: what a 64-bit integer and a double hold exactly. */
export const MAX_NUMBER_DIGITS = 15;
/** Calendar years a date may have. */
export const MIN_YEAR = 1900;
export const MAX_YEAR = 2199;
