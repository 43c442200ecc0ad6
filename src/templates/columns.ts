// Column builders shared by the import and export templates, so a column is defined once.
import type { Column, KbListName } from './types.js';

/** FirstName -> first_name, DBAName -> dba_name, AddressLine1 -> address_line1. */
export function snake(name: string): string {
  return name
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

type Opts = Partial<Omit<Column, 'name' | 'type'>>;

export const text = (name: string, o: Opts = {}): Column => ({
  name,
  field: snake(name),
  type: 'text',
  ...o,
});
export const date = (name: string, o: Opts = {}): Column => ({
  name,
  field: snake(name),
  type: 'date',
  ...o,
});
export const yesno = (name: string, o: Opts = {}): Column => ({
  name,
  field: snake(name),
  type: 'yesno',
  ...o,
});
export const integer = (name: string, o: Opts = {}): Column => ({
  name,
  field: snake(name),
  type: 'integer',
  ...o,
});
export const number = (name: string, o: Opts = {}): Column => ({
  name,
  field: snake(name),
  type: 'number',
  ...o,
});
export const country = (name: string, o: Opts = {}): Column => ({
  name,
  field: snake(name),
  type: 'country',
  ...o,
});
export const kb = (name: string, list: KbListName, o: Opts = {}): Column => ({
  name,
  field: snake(name),
  type: 'kb',
  list,
  ...o,
});
export const pattern = (name: string, re: RegExp, hint: string, o: Opts = {}): Column => ({
  name,
  field: snake(name),
  type: 'pattern',
  pattern: re,
  hint,
  ...o,
});

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
