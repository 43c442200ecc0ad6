// Column builders shared by the import and export templates, so a column is defined once.
import type { CellType, Column, KbListName } from './types.js';

/** FirstName -> first_name, DBAName -> dba_name, AddressLine1 -> address_line1. */
export function snake(name: string): string {
  return name
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

type Opts = Partial<Omit<Column, 'name' | 'type'>>;

/** A builder of columns of one type: the field is the snake_case of the header name unless given. */
const ofType =
  (type: CellType) =>
  (name: string, o: Opts = {}): Column => ({ name, field: snake(name), type, ...o });

export const text = ofType('text');
export const date = ofType('date');
export const yesno = ofType('yesno');
export const integer = ofType('integer');
export const number = ofType('number');
export const country = ofType('country');
export const kb = (name: string, list: KbListName, o: Opts = {}): Column =>
  ofType('kb')(name, { list, ...o });
export const pattern = (name: string, re: RegExp, hint: string, o: Opts = {}): Column =>
  ofType('pattern')(name, { pattern: re, hint, ...o });

export const K = { key: true, required: true } as const;
export const R = { required: true } as const;

/** EmployerID as the parent of a contact or client, EmployerID + EmployeeID as the parent of a child. */
export const employerParent: Column = {
  name: 'EmployerID',
  type: 'text',
  key: true,
  required: true,
  parent: true,
};
export const employeeParent: Column = {
  name: 'EmployeeID',
  type: 'text',
  key: true,
  required: true,
  parent: true,
};
