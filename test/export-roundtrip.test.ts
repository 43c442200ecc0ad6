// Round trip, on both engines and in both export date formats: import files through the real pipeline,
// export every template that has an import twin, strip the export-only columns, import the result under
// the twin's name, and every row comes back unchanged.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Papa from 'papaparse';
import { exportFile } from '../src/export/index.js';
import { importFile } from '../src/ingest/index.js';
import type { ExportDateFormat } from '../src/store/index.js';
import {
  caseDetailsExport,
  corporationDetailsExport,
  EXPORT_TEMPLATES,
  type ExportTemplate,
  FIRM_LIST_TEMPLATES,
  twinColumnNames,
} from '../src/templates/index.js';
import { ENGINES, storeWithFirm, type TestStore, tempDir, writeCsv } from './helpers.js';

const EXAMPLES = path.resolve('examples');

/** Files beyond the examples: quoting, accents, negative numbers, every child template. */
const EXTRA: Record<string, string[][]> = {
  company_Details_import_20261121: [
    ['EmployerID', 'EmployerName', 'DBAName', 'FEIN', 'BusinessType', 'YearEstablished', 'NumberOfEmployees'],
    ['INITECH', 'Initech, LLC', 'Initech "The Company"', '55-1234567', 'LLC', '1999', '1250'],
  ].map((r, i) =>
    i === 0
      ? [
          ...r,
          'GrossAnnualIncome',
          'NetAnnualIncome',
          'NAICSCode',
          'AddressLine1',
          'AddressLine2',
          'City',
        ].concat(['State', 'PostalCode', 'Country', 'Phone', 'Email', 'Website', 'Status'])
      : [...r, '2500000.75', '-42', '541511', '4120 Freidrich Ln', 'Suite 5, Floor 2', 'São Paulo'].concat([
          'SP',
          '01310-100',
          'BRA',
          '+55 (11) 5555-0100',
          'hr@initech.example',
          '',
          'inactive',
        ]),
  ),
  fn_Details_Data_import_20261121: [
    [
      'EmployerID',
      'EmployeeID',
      'FirstName',
      'MiddleName',
      'LastName',
      'OtherNames',
      'Gender',
      'DateOfBirth',
      'CityOfBirth',
      'CountryOfBirth',
      'CountryOfCitizenship',
      'MaritalStatus',
      'Email',
      'WorkPhone',
      'MobilePhone',
      'JobTitle',
      'Department',
      'HireDate',
      'EmploymentStatus',
      'TerminationDate',
      'WorkLocationCity',
      'WorkLocationState',
      'WorkLocationCountry',
      'AnnualSalary',
      'CurrentImmigrationStatus',
      'StatusExpirationDate',
      'ANumber',
      'SSN',
    ],
    [
      'INITECH',
      'I-1',
      'José',
      '',
      'Núñez',
      'Pepe\nJoe',
      'Male',
      '1985-12-31',
      'Ciudad de México',
      'MEX',
      'Mexico',
      'Divorced',
      'jose@initech.example',
      '-',
      '+52 55 5555 0100',
      'Analyst, Senior',
      'Ops',
      '01/02/2020',
      'On Leave',
      '',
      'Austin',
      'TX',
      'USA',
      '99999.99',
      'TN',
      '2027-01-15',
      'A987654321',
      '',
    ],
  ],
  fn_expiry_dates_import_20261121: [
    ['EmployerID', 'EmployeeID', 'DocumentType', 'DocumentNumber', 'IssueDate', 'ExpirationDate', 'Notes'],
    ['ACME', 'E1001', 'I-94', '123456789A1', '2024-10-01', '2027-09-30', ''],
    ['ACME', 'E1002', 'ead', '', '', '01/31/2025', 'expired; renewal "pending"'],
    ['INITECH', 'I-1', 'Green Card', 'IOE0912345678', '2020-01-02', '2030-01-01', 'line one\nline two'],
  ],
  fn_Visa_Details_import_20261121: [
    [
      'EmployerID',
      'EmployeeID',
      'VisaType',
      'VisaNumber',
      'IssueDate',
      'ExpirationDate',
      'IssuingPost',
    ].concat(['IssuingCountry', 'NumberOfEntries', 'Annotation']),
    ['ACME', 'E1001', 'H-1B', 'V123', '2024-09-01', '2027-09-30', 'Mumbai', 'IND', 'M', ''],
    ['ACME', 'E1002', 'L-1A', '', '09/15/2023', '', 'Paris', 'France', 'Multiple', 'Blanket L, PE'],
    ['INITECH', 'I-1', 'TN', 'TN-77', '2020-01-02', '2023-01-01', '', 'Mexico', '1', ''],
  ],
  fn_Passport_Details_import_20261121: [
    ['EmployerID', 'EmployeeID', 'PassportNumber', 'IssuingCountry', 'IssueDate', 'ExpirationDate'].concat([
      'PlaceOfIssue',
      'IsPrimary',
    ]),
    ['INITECH', 'I-1', 'G00112233', 'MX', '2019-05-05', '2029-05-04', 'Ciudad de México', 'No'],
    ['INITECH', 'I-1', 'X999', 'Spain', '', '2031-01-01', '', ''],
  ],
  fn_Supervisor_Details_import_20261121: [
    ['EmployerID', 'EmployeeID', 'SupervisorContactID', 'EffectiveDate'],
    ['ACME', 'E1001', 'S-200', '2021-06-01'],
  ],
  case_Details_Data_import_20261121: [
    [
      'EmployerID',
      'EmployeeID',
      'CaseReference',
      'PetID',
      'CaseStatus',
      'CaseManagerEmail',
      'OpenDate',
    ].concat(['FiledDate', 'ReceiptNumber', 'PriorityDate', 'ApprovalDate', 'ValidFrom', 'ValidTo', 'Notes']),
    ['INITECH', 'I-1', 'IN-9', 'L1A-NEW', 'Approved', '', '2019-01-01', '2019-02-01', 'EAC1990012345'].concat(
      ['2019-02-01', '2019-06-01', '2019-06-01', '2022-05-31', 'Approved, 3 years; "blanket"'],
    ),
  ],
};

async function seed(store: TestStore): Promise<void> {
  const dir = tempDir();
  const { engine } = store;
  for (const t of FIRM_LIST_TEMPLATES.filter((x) => x.name !== 'custom-fields')) {
    const file = path.join(EXAMPLES, 'kb', `${t.name}.csv`);
    const r = await importFile(engine, { firmId: 'acme', file, template: t, resultDir: dir });
    assert.equal(r.status, 'completed', `${t.name}: ${r.message}`);
  }
  const files = [
    ...['company_Details_import', 'company_Additional_Contact_import', 'fn_Details_Data_import']
      .concat(['fn_Passport_Details_import', 'case_Details_Data_import'])
      .map((n) => path.join(EXAMPLES, 'import', `${n}_20261120.csv`)),
    ...Object.entries(EXTRA).map(([name, rows]) => writeCsv(dir, `${name}.csv`, rows)),
  ];
  const order = (f: string) => path.basename(f).replace(/_\d{8}\.csv$/, '');
  const rank = [
    'company_Details_import',
    'company_Additional_Contact_import',
    'fn_Details_Data_import',
    'fn_expiry_dates_import',
    'fn_Visa_Details_import',
    'fn_Passport_Details_import',
    'fn_Supervisor_Details_import',
    'case_Details_Data_import',
  ];
  files.sort((a, b) => rank.indexOf(order(a)) - rank.indexOf(order(b)));
  for (const file of files) {
    const r = await importFile(engine, { firmId: 'acme', file, resultDir: dir });
    assert.ok(r.rows.created > 0, `${path.basename(file)}: ${r.message ?? JSON.stringify(r.errors)}`);
  }
}

function readCsv(file: string): string[][] {
  return Papa.parse<string[]>(readFileSync(file, 'utf8').replace(/\r\n$/, ''), {
    newline: '\r\n',
    delimiter: ',',
  }).data;
}

/** The export's twin columns, as a file named for the twin: what the HR system would send back. */
function stripToTwin(t: ExportTemplate, exported: string[][], dir: string): string {
  const [head, ...rows] = exported;
  const keep = twinColumnNames(t).map((name) => head.indexOf(name));
  assert.ok(
    keep.every((i) => i >= 0),
    `${t.name}: twin columns missing from ${head.join(',')}`,
  );
  const name = t.twin.order > 0 ? `${t.twin.name}_20261122.csv` : `${t.twin.name}.csv`;
  const file = path.join(dir, name);
  writeFileSync(file, `${Papa.unparse([twinColumnNames(t), ...rows.map((r) => keep.map((i) => r[i]))])}\r\n`);
  return file;
}

for (const kind of ENGINES) {
  for (const dateFormat of ['MM/DD/YYYY', 'YYYY-MM-DD'] as ExportDateFormat[]) {
    describe(`${kind}: export round trip, dates ${dateFormat}`, () => {
      let store: TestStore;
      const out = tempDir();
      before(async () => {
        store = await storeWithFirm(kind, { exportDateFormat: dateFormat });
        await seed(store);
      });
      after(() => store.cleanup());

      for (const t of EXPORT_TEMPLATES) {
        test(`${t.name} imports back as ${t.twin.name} with every row unchanged`, async () => {
          const r = await exportFile(store.engine, { firmId: 'acme', template: t, outDir: out });
          assert.equal(r.status, 'completed', r.message ?? '');
          const exported = readCsv(r.file!);
          assert.deepEqual(
            exported[0],
            t.columns.map((c) => c.name),
            'the header is the template',
          );
          assert.equal(exported.length - 1, r.rows);
          assert.ok(r.rows >= 2, `${t.name}: only ${r.rows} rows exported`);
          const back = await importFile(store.engine, {
            firmId: 'acme',
            file: stripToTwin(t, exported, tempDir()),
            template: t.twin.order > 0 ? undefined : t.twin,
            resultDir: tempDir(),
          });
          assert.equal(back.status, 'completed', back.message ?? JSON.stringify(back.errors));
          assert.deepEqual(back.rows, {
            total: r.rows,
            created: 0,
            updated: 0,
            unchanged: r.rows,
            rejected: 0,
          });
        });
      }

      test('what the export shows beside the twin columns', async () => {
        const corp = readCsv(
          (
            await exportFile(store.engine, {
              firmId: 'acme',
              template: corporationDetailsExport,
              outDir: out,
            })
          ).file!,
        );
        const [head, ...rows] = corp;
        const initech = rows.find((r) => r[head.indexOf('EmployerID')] === 'INITECH')!;
        const cell = (name: string) => initech[head.indexOf(name)];
        assert.match(cell('CaseportEmployerID'), /^\d+$/);
        assert.equal(cell('NetAnnualIncome'), '-42');
        assert.equal(cell('NumberOfEmployees'), '1250');
        assert.equal(cell('Phone'), '+55 (11) 5555-0100');
        assert.equal(cell('Country'), 'Brazil');
        assert.equal(cell('Status'), 'Inactive');
        assert.match(cell('LastModified'), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}-0[78]:00$/);

        const cases = readCsv(
          (await exportFile(store.engine, { firmId: 'acme', template: caseDetailsExport, outDir: out }))
            .file!,
        );
        const ch = cases[0];
        const byRef = new Map(cases.slice(1).map((r) => [r[ch.indexOf('CaseReference')], r]));
        const c1 = byRef.get('WD-CASE-0001')!;
        assert.equal(c1[ch.indexOf('PetitionName')], 'H-1B Extension');
        assert.equal(c1[ch.indexOf('FormType')], 'I-129');
        assert.equal(c1[ch.indexOf('CaseManagerName')], 'Maria Lopez');
        assert.equal(c1[ch.indexOf('OpenDate')], dateFormat === 'MM/DD/YYYY' ? '05/01/2026' : '2026-05-01');
        assert.equal(byRef.get('IN-9')![ch.indexOf('CaseManagerName')], '', 'no case manager: blank');
      });
    });
  }
}
