// Valid sample rows for every template, and a seeded firm: the base that rule tests change one cell of.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ImportResult } from '../src/ingest/index.js';
import { importFile } from '../src/ingest/index.js';
import type { Engine } from '../src/store/index.js';
import {
  caseManagersList,
  customFieldsList,
  IMPORT_TEMPLATES,
  type ImportTemplate,
  petitionsList,
} from '../src/templates/index.js';
import { tempDir, writeCsv } from './helpers.js';

export const header = (t: ImportTemplate) => t.columns.map((c) => c.name);

/** A valid row per template, by column name. */
export const VALID: Record<string, Record<string, string>> = {
  company_Details_import: {
    EmployerID: 'ACME',
    EmployerName: 'Acme Robotics',
    DBAName: 'Acme',
    FEIN: '12-3456789',
    BusinessType: 'Corporation',
    YearEstablished: '1998',
    NumberOfEmployees: '5400',
    GrossAnnualIncome: '1200000.50',
    NetAnnualIncome: '-3500',
    NAICSCode: '333318',
    AddressLine1: '100 Market St',
    AddressLine2: '',
    City: 'San Francisco',
    State: 'CA',
    PostalCode: '94105',
    Country: 'USA',
    Phone: '+1 415 555 0100',
    Email: 'hr@acme.example',
    Website: 'acme.example',
    Status: 'active',
  },
  company_Additional_Contact_import: {
    EmployerID: 'ACME',
    ContactID: 'S1',
    ContactType: 'Supervisor',
    FirstName: 'Raj',
    LastName: 'Patel',
    JobTitle: 'Manager',
    Email: 'raj@acme.example',
    Phone: '',
    IsPrimary: 'N',
  },
  fn_Details_Data_import: {
    EmployerID: 'ACME',
    EmployeeID: 'E1',
    FirstName: 'Priya',
    MiddleName: '',
    LastName: 'Sharma',
    OtherNames: '',
    Gender: 'Female',
    DateOfBirth: '03/14/1990',
    CityOfBirth: 'Pune',
    CountryOfBirth: 'India',
    CountryOfCitizenship: 'IND',
    MaritalStatus: 'Married',
    Email: 'p@acme.example',
    WorkPhone: '',
    MobilePhone: '',
    JobTitle: 'Engineer',
    Department: 'R&D',
    HireDate: '2021-06-01',
    EmploymentStatus: 'Active',
    TerminationDate: '',
    WorkLocationCity: 'San Francisco',
    WorkLocationState: 'CA',
    WorkLocationCountry: 'US',
    AnnualSalary: '152000',
    CurrentImmigrationStatus: 'H-1B',
    StatusExpirationDate: '2027-09-30',
    ANumber: 'A12345678',
    SSN: '123-45-6789',
  },
  fn_expiry_dates_import: {
    EmployerID: 'ACME',
    EmployeeID: 'E1',
    DocumentType: 'I-94',
    DocumentNumber: '123456789A1',
    IssueDate: '2024-10-01',
    ExpirationDate: '2027-09-30',
    Notes: '',
  },
  fn_Visa_Details_import: {
    EmployerID: 'ACME',
    EmployeeID: 'E1',
    VisaType: 'H-1B',
    VisaNumber: 'V123',
    IssueDate: '2024-09-01',
    ExpirationDate: '2027-09-30',
    IssuingPost: 'Mumbai',
    IssuingCountry: 'India',
    NumberOfEntries: 'Multiple',
    Annotation: '',
  },
  fn_Passport_Details_import: {
    EmployerID: 'ACME',
    EmployeeID: 'E1',
    PassportNumber: 'Z1234567',
    IssuingCountry: 'India',
    IssueDate: '2019-02-10',
    ExpirationDate: '2029-02-09',
    PlaceOfIssue: 'Mumbai',
    IsPrimary: 'Yes',
  },
  fn_Address_Details_import: {
    EmployerID: 'ACME',
    EmployeeID: 'E1',
    AddressType: 'Home',
    AddressLine1: '1 Main St',
    AddressLine2: '',
    City: 'Oakland',
    State: 'CA',
    PostalCode: '94601',
    Country: 'United States',
    FromDate: '2021-06-01',
    ToDate: '',
  },
  fn_School_History_import: {
    EmployerID: 'ACME',
    EmployeeID: 'E1',
    SchoolName: 'IIT Bombay',
    DegreeType: "Master's",
    FieldOfStudy: 'Robotics',
    StartDate: '2012-07-01',
    EndDate: '2014-05-31',
    DegreeDate: '2014-06-15',
    City: 'Mumbai',
    Country: 'IN',
  },
  fn_Supervisor_Details_import: {
    EmployerID: 'ACME',
    EmployeeID: 'E1',
    SupervisorContactID: 'S1',
    EffectiveDate: '2021-06-01',
  },
  fn_Custom_Data_import: {
    EmployerID: 'ACME',
    EmployeeID: 'E1',
    FieldName: 'CostCenter',
    FieldValue: 'CC-42',
  },
  case_Details_Data_import: {
    EmployerID: 'ACME',
    EmployeeID: 'E1',
    CaseReference: 'WD-1',
    PetID: 'H1B-EXT',
    CaseStatus: 'Filed',
    CaseManagerEmail: 'maria@firm.example',
    OpenDate: '2026-05-01',
    FiledDate: '2026-06-15',
    ReceiptNumber: 'WAC2619012345',
    PriorityDate: '',
    ApprovalDate: '',
    ValidFrom: '',
    ValidTo: '',
    Notes: '',
  },
};

export function templateNamed(name: string): ImportTemplate {
  const t = IMPORT_TEMPLATES.find((x) => x.name === name);
  if (!t) throw new Error(`no template ${name}`);
  return t;
}

export function rowOf(t: ImportTemplate, patch: Record<string, string> = {}): string[] {
  const base = { ...VALID[t.name], ...patch };
  return t.columns.map((c) => base[c.name] ?? '');
}

/** A CSV of `n` rows of template t, row i patched by patch(i); written fast (cells that need no quoting). */
export function manyRows(
  dir: string,
  name: string,
  t: ImportTemplate,
  n: number,
  patch: (i: number) => Record<string, string>,
): string {
  const lines = [header(t).join(',')];
  for (let i = 0; i < n; i++) lines.push(rowOf(t, patch(i)).join(','));
  const file = path.join(dir, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

let seq = 0;
/** Imports rows (given as patches of the valid row) as a file of template t; a fresh name each time. */
export async function importRows(
  engine: Engine,
  t: ImportTemplate,
  patches: Array<Record<string, string>>,
  opts: { firmId?: string; dryRun?: boolean } = {},
): Promise<ImportResult> {
  const dir = tempDir();
  seq++;
  const file = writeCsv(dir, `${t.name}_20261120_${seq}.csv`, [
    header(t),
    ...patches.map((p) => rowOf(t, p)),
  ]);
  return importFile(engine, { firmId: opts.firmId ?? 'acme', file, resultDir: dir, dryRun: opts.dryRun });
}

async function importList(engine: Engine, t: ImportTemplate, rows: string[][], firmId: string) {
  const dir = tempDir();
  const file = writeCsv(dir, `${t.name}.csv`, [header(t), ...rows]);
  return importFile(engine, { firmId, file, template: t, resultDir: dir });
}

/** Seeds employer ACME, supervisor S1 and contact C1, client E1, petitions, case managers, custom fields. */
export async function seedFirm(engine: Engine, firmId = 'acme'): Promise<void> {
  await importList(
    engine,
    petitionsList,
    [
      ['H1B-EXT', 'H-1B Extension', 'I-129', 'H-1B', '', 'Y'],
      ['OLD-PET', 'Retired petition', 'I-129', 'H-1B', '', 'N'],
    ],
    firmId,
  );
  await importList(
    engine,
    caseManagersList,
    [['CM1', 'Maria', 'Lopez', 'maria@firm.example', '', 'Paralegal', 'Y']],
    firmId,
  );
  await importList(
    engine,
    customFieldsList,
    [
      ['CostCenter', 'text', ''],
      ['Budget', 'number', ''],
      ['Onboarded', 'date', ''],
      ['Remote', 'yesno', ''],
      ['Site', 'list', 'Austin|Remote'],
    ],
    firmId,
  );
  const opts = { firmId };
  await importRows(engine, templateNamed('company_Details_import'), [{}], opts);
  await importRows(
    engine,
    templateNamed('company_Additional_Contact_import'),
    [{}, { ContactID: 'C1', ContactType: 'Contact', FirstName: 'Dana' }],
    opts,
  );
  await importRows(engine, templateNamed('fn_Details_Data_import'), [{}], opts);
}
