// Every rule of templates.md, on both engines: each template's valid row, and at least one failing
// case per rule, through the real pipeline into a real store.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import Papa from 'papaparse';
import type { ImportResult } from '../src/ingest/index.js';
import { updateFirm } from '../src/store/index.js';
import { IMPORT_TEMPLATES } from '../src/templates/index.js';
import { importRows, seedFirm, templateNamed } from './fixtures.js';
import { ENGINES, storeWithFirm, type TestStore } from './helpers.js';

const T = templateNamed;

function rejects(r: ImportResult, column: string, message: RegExp) {
  assert.equal(r.status, 'incomplete', JSON.stringify(r.errors));
  assert.ok(
    r.errors.some((e) => e.column === column && message.test(e.message)),
    `expected an error on ${column} matching ${message}; got ${JSON.stringify(r.errors)}`,
  );
}

for (const kind of ENGINES) {
  describe(`import rules on ${kind}`, () => {
    let store: TestStore;
    before(async () => {
      store = await storeWithFirm(kind);
      await seedFirm(store.engine);
    });
    after(() => store.cleanup());
    const db = () => store.engine.db;

    test('every template: a valid row is applied, and sending it again is unchanged', async () => {
      for (const t of IMPORT_TEMPLATES) {
        const first = await importRows(store.engine, t, [{}]);
        assert.equal(first.status, 'completed', `${t.name}: ${JSON.stringify(first.errors)}`);
        assert.equal(first.rows.created + first.rows.unchanged, 1, t.name);
        const again = await importRows(store.engine, t, [{}]);
        assert.deepEqual(again.rows, { total: 1, created: 0, updated: 0, unchanged: 1, rejected: 0 }, t.name);
      }
    });

    test('values are stored canonical: countries, KB spellings, Y/N, dates, numbers', async () => {
      const e = await db()
        .selectFrom('employers')
        .selectAll()
        .where('employer_code', '=', 'ACME')
        .executeTakeFirstOrThrow();
      assert.equal(e.country, 'United States');
      assert.equal(e.status, 'Active');
      assert.equal(e.number_of_employees, 5400);
      assert.equal(e.gross_annual_income, 1200000.5);
      assert.equal(e.net_annual_income, -3500);
      const c = await db()
        .selectFrom('clients')
        .selectAll()
        .where('employee_id', '=', 'E1')
        .executeTakeFirstOrThrow();
      assert.equal(c.date_of_birth, '1990-03-14');
      assert.equal(c.country_of_citizenship, 'India');
      const p = await db()
        .selectFrom('passports')
        .selectAll()
        .where('passport_number', '=', 'Z1234567')
        .executeTakeFirstOrThrow();
      assert.equal(p.is_primary, 1);
      assert.equal(p.issuing_country, 'India');
    });

    test('company_Details_import: FEIN, integer, number, country, KB status, required, key', async () => {
      const t = T('company_Details_import');
      rejects(await importRows(store.engine, t, [{ FEIN: '123456789' }]), 'FEIN', /NN-NNNNNNN/);
      rejects(
        await importRows(store.engine, t, [{ NumberOfEmployees: '1998.5' }]),
        'NumberOfEmployees',
        /whole number/,
      );
      rejects(
        await importRows(store.engine, t, [{ GrossAnnualIncome: '$12' }]),
        'GrossAnnualIncome',
        /not a number/,
      );
      rejects(await importRows(store.engine, t, [{ Country: 'Atlantis' }]), 'Country', /country list/);
      rejects(await importRows(store.engine, t, [{ Status: 'Dormant' }]), 'Status', /employer-statuses/);
      rejects(await importRows(store.engine, t, [{ EmployerName: '  ' }]), 'EmployerName', /required/);
      rejects(await importRows(store.engine, t, [{ EmployerID: '' }]), 'EmployerID', /required/);
    });

    test('a row with several problems reports every one of them', async () => {
      const r = await importRows(store.engine, T('company_Details_import'), [
        { FEIN: 'x', Country: 'Nowhere', Status: 'Dormant', NumberOfEmployees: 'many' },
      ]);
      assert.deepEqual(r.errors.map((e) => e.column).sort(), [
        'Country',
        'FEIN',
        'NumberOfEmployees',
        'Status',
      ]);
      assert.ok(r.errors.every((e) => e.row === 2));
    });

    test('company_Additional_Contact_import: employer must exist, contact type, Y/N', async () => {
      const t = T('company_Additional_Contact_import');
      rejects(await importRows(store.engine, t, [{ EmployerID: 'NOPE' }]), 'EmployerID', /does not exist/);
      rejects(await importRows(store.engine, t, [{ ContactType: 'Boss' }]), 'ContactType', /contact-types/);
      rejects(await importRows(store.engine, t, [{ IsPrimary: 'maybe' }]), 'IsPrimary', /Yes\/No/);
      rejects(await importRows(store.engine, t, [{ FirstName: '' }]), 'FirstName', /required/);
    });

    test('fn_Details_Data_import: corporate clients only, dates, A-Number, SSN, KB lists', async () => {
      const t = T('fn_Details_Data_import');
      rejects(
        await importRows(store.engine, t, [{ EmployerID: 'NOPE', EmployeeID: 'X9' }]),
        'EmployerID',
        /does not exist/,
      );
      rejects(
        await importRows(store.engine, t, [{ DateOfBirth: '02/30/1990' }]),
        'DateOfBirth',
        /not a date/,
      );
      rejects(await importRows(store.engine, t, [{ HireDate: '2021-13-01' }]), 'HireDate', /not a date/);
      rejects(await importRows(store.engine, t, [{ ANumber: 'A123' }]), 'ANumber', /8 or 9 digits/);
      rejects(await importRows(store.engine, t, [{ SSN: '123456789' }]), 'SSN', /NNN-NN-NNNN/);
      rejects(await importRows(store.engine, t, [{ Gender: 'Robot' }]), 'Gender', /genders/);
      rejects(
        await importRows(store.engine, t, [{ CurrentImmigrationStatus: 'Z-9' }]),
        'CurrentImmigrationStatus',
        /visa-types/,
      );
      rejects(
        await importRows(store.engine, t, [{ MaritalStatus: 'Complicated' }]),
        'MaritalStatus',
        /marital/,
      );
      rejects(
        await importRows(store.engine, t, [{ EmploymentStatus: 'Gone' }]),
        'EmploymentStatus',
        /employment/,
      );
      rejects(await importRows(store.engine, t, [{ AnnualSalary: 'lots' }]), 'AnnualSalary', /not a number/);
    });

    test('fn_* rows need an existing client', async () => {
      for (const name of [
        'fn_expiry_dates_import',
        'fn_Visa_Details_import',
        'fn_Passport_Details_import',
        'fn_Address_Details_import',
        'fn_School_History_import',
        'fn_Supervisor_Details_import',
        'fn_Custom_Data_import',
        'case_Details_Data_import',
      ]) {
        rejects(
          await importRows(store.engine, T(name), [{ EmployeeID: 'GHOST' }]),
          'EmployeeID',
          /no client/,
        );
      }
    });

    test('expirations, visas, passports, addresses, education: their keys, KB lists and required columns', async () => {
      rejects(
        await importRows(store.engine, T('fn_expiry_dates_import'), [{ DocumentType: 'Library Card' }]),
        'DocumentType',
        /document-types/,
      );
      rejects(
        await importRows(store.engine, T('fn_expiry_dates_import'), [{ ExpirationDate: '' }]),
        'ExpirationDate',
        /required/,
      );
      rejects(
        await importRows(store.engine, T('fn_Visa_Details_import'), [{ IssueDate: '' }]),
        'IssueDate',
        /required/,
      );
      rejects(
        await importRows(store.engine, T('fn_Visa_Details_import'), [{ NumberOfEntries: 'Many' }]),
        'NumberOfEntries',
        /visa-entries/,
      );
      rejects(
        await importRows(store.engine, T('fn_Passport_Details_import'), [{ IssuingCountry: 'XX' }]),
        'IssuingCountry',
        /country/,
      );
      rejects(
        await importRows(store.engine, T('fn_Passport_Details_import'), [{ ExpirationDate: '' }]),
        'ExpirationDate',
        /required/,
      );
      rejects(
        await importRows(store.engine, T('fn_Address_Details_import'), [{ Country: '' }]),
        'Country',
        /required/,
      );
      rejects(
        await importRows(store.engine, T('fn_Address_Details_import'), [{ AddressType: 'Boat' }]),
        'AddressType',
        /address-types/,
      );
      rejects(
        await importRows(store.engine, T('fn_School_History_import'), [{ DegreeType: 'Wizard' }]),
        'DegreeType',
        /degree-types/,
      );
      const two = await importRows(store.engine, T('fn_Visa_Details_import'), [{ IssueDate: '2020-01-01' }]);
      assert.equal(
        two.rows.created,
        1,
        'VisaType + IssueDate is the key: another issue date is another visa',
      );
    });

    test('fn_Supervisor_Details_import: the supervisor must be a Supervisor contact of the employer', async () => {
      const t = T('fn_Supervisor_Details_import');
      rejects(
        await importRows(store.engine, t, [{ SupervisorContactID: 'C1' }]),
        'SupervisorContactID',
        /not a Supervisor contact/,
      );
      rejects(
        await importRows(store.engine, t, [{ SupervisorContactID: 'S404' }]),
        'SupervisorContactID',
        /not a Supervisor contact/,
      );
    });

    test('fn_Custom_Data_import: a defined field and a value of its type', async () => {
      const t = T('fn_Custom_Data_import');
      rejects(
        await importRows(store.engine, t, [{ FieldName: 'Shoe size' }]),
        'FieldName',
        /no custom field/,
      );
      rejects(
        await importRows(store.engine, t, [{ FieldName: 'Budget', FieldValue: 'abc' }]),
        'FieldValue',
        /number/,
      );
      rejects(
        await importRows(store.engine, t, [{ FieldName: 'Onboarded', FieldValue: '2024-02-30' }]),
        'FieldValue',
        /date/,
      );
      rejects(
        await importRows(store.engine, t, [{ FieldName: 'Remote', FieldValue: 'maybe' }]),
        'FieldValue',
        /Yes\/No/,
      );
      rejects(
        await importRows(store.engine, t, [{ FieldName: 'Site', FieldValue: 'Paris' }]),
        'FieldValue',
        /Austin, Remote/,
      );
      const ok = await importRows(store.engine, t, [
        { FieldName: 'site', FieldValue: 'remote' },
        { FieldName: 'Onboarded', FieldValue: '06/01/2021' },
        { FieldName: 'Remote', FieldValue: 'yes' },
      ]);
      assert.equal(ok.status, 'completed', JSON.stringify(ok.errors));
      const vals = await db()
        .selectFrom('custom_values')
        .select(['field_name', 'field_value'])
        .orderBy('field_name')
        .execute();
      assert.deepEqual(
        vals.filter((v) => v.field_name !== 'CostCenter').map((v) => [v.field_name, v.field_value]),
        [
          ['Onboarded', '2021-06-01'],
          ['Remote', 'Y'],
          ['Site', 'Remote'],
        ],
      );
    });

    test('case_Details_Data_import: PetID of the firm (active), case manager, receipt number, status', async () => {
      const t = T('case_Details_Data_import');
      rejects(await importRows(store.engine, t, [{ PetID: 'NOPE' }]), 'PetID', /petitions/);
      rejects(await importRows(store.engine, t, [{ PetID: 'OLD-PET' }]), 'PetID', /"OLD-PET" is inactive/);
      rejects(await importRows(store.engine, t, [{ PetID: '' }]), 'PetID', /required/);
      rejects(
        await importRows(store.engine, t, [{ CaseManagerEmail: 'who@x.example' }]),
        'CaseManagerEmail',
        /case-managers/,
      );
      rejects(await importRows(store.engine, t, [{ ReceiptNumber: 'WAC12' }]), 'ReceiptNumber', /3 letters/);
      rejects(await importRows(store.engine, t, [{ CaseStatus: 'Lost' }]), 'CaseStatus', /case-statuses/);
    });

    test('a blank cell overwrites the stored value with empty', async () => {
      const t = T('fn_Details_Data_import');
      const r = await importRows(store.engine, t, [{ EmployeeID: 'B1', JobTitle: 'Lead' }]);
      assert.equal(r.rows.created, 1);
      const r2 = await importRows(store.engine, t, [{ EmployeeID: 'B1', JobTitle: '' }]);
      assert.equal(r2.rows.updated, 1);
      const c = await db()
        .selectFrom('clients')
        .select('job_title')
        .where('employee_id', '=', 'B1')
        .executeTakeFirstOrThrow();
      assert.equal(c.job_title, null);
    });

    test('Zoom No Update: rejected where the firm has not enabled it', async () => {
      const r = await importRows(store.engine, T('fn_Details_Data_import'), [{ JobTitle: 'Zoom No Update' }]);
      rejects(r, 'JobTitle', /not enabled for this firm/);
    });

    test('Zoom No Update enabled: keeps stored values; refused in a key; required keeps only for existing', async () => {
      await updateFirm(store.engine, 'acme', { zoomNoUpdate: true });
      try {
        const t = T('fn_Details_Data_import');
        await importRows(store.engine, t, [{ EmployeeID: 'Z1', JobTitle: 'Architect', Department: 'Ops' }]);
        const r = await importRows(store.engine, t, [
          {
            EmployeeID: 'Z1',
            JobTitle: 'zoom no update',
            Department: 'ZOOM NO UPDATE',
            LastName: 'Zoom No Update',
            Email: '',
          },
        ]);
        assert.equal(r.rows.updated, 1, JSON.stringify(r.errors));
        const c = await db()
          .selectFrom('clients')
          .selectAll()
          .where('employee_id', '=', 'Z1')
          .executeTakeFirstOrThrow();
        assert.deepEqual(
          [c.job_title, c.department, c.last_name, c.email],
          ['Architect', 'Ops', 'Sharma', null],
        );
        rejects(
          await importRows(store.engine, t, [{ EmployeeID: 'Zoom No Update' }]),
          'EmployeeID',
          /key column/,
        );
        rejects(
          await importRows(store.engine, t, [{ EmployeeID: 'NEW1', LastName: 'Zoom No Update' }]),
          'LastName',
          /this record is new/,
        );
      } finally {
        await updateFirm(store.engine, 'acme', { zoomNoUpdate: false });
      }
    });

    test('rows apply in file order: a later row for the same key sees the earlier one', async () => {
      const t = T('fn_Details_Data_import');
      const r = await importRows(store.engine, t, [
        { EmployeeID: 'O1', JobTitle: 'First' },
        { EmployeeID: 'O1', JobTitle: 'Second' },
        { EmployeeID: 'O1', JobTitle: 'Second' },
      ]);
      assert.deepEqual(r.rows, { total: 3, created: 1, updated: 1, unchanged: 1, rejected: 0 });
      const c = await db()
        .selectFrom('clients')
        .select('job_title')
        .where('employee_id', '=', 'O1')
        .executeTakeFirstOrThrow();
      assert.equal(c.job_title, 'Second');
    });

    test('dry run reports what a real run would do and writes nothing', async () => {
      const t = T('fn_Details_Data_import');
      const patches: Array<Record<string, string>> = [
        { EmployeeID: 'D1' },
        { EmployeeID: 'E1', JobTitle: 'Principal Engineer' },
        { EmployeeID: 'E1', JobTitle: 'Principal Engineer' },
        { EmployeeID: 'D2', SSN: 'bad' },
      ];
      const count = async () => ({
        clients: (await db().selectFrom('clients').select('id').execute()).length,
        runs: (await db().selectFrom('runs').select('id').execute()).length,
        audit: (await db().selectFrom('audit').select('id').execute()).length,
      });
      const before = await count();
      const dry = await importRows(store.engine, t, patches, { dryRun: true });
      assert.equal(dry.dryRun, true);
      assert.equal(dry.runId, null);
      assert.deepEqual(await count(), before, 'nothing written');
      const real = await importRows(store.engine, t, patches);
      assert.deepEqual(dry.rows, real.rows);
      assert.deepEqual(dry.rows, { total: 4, created: 1, updated: 1, unchanged: 1, rejected: 1 });
      assert.deepEqual(dry.errors, real.errors);
    });

    test('result file: each rejected row as sent plus ErrorRow, ErrorColumn, ErrorMessage', async () => {
      const t = T('fn_Passport_Details_import');
      const r = await importRows(store.engine, t, [
        { PassportNumber: 'P-OK' },
        { PassportNumber: 'P-BAD', IssuingCountry: 'Narnia', ExpirationDate: '' },
      ]);
      assert.ok(r.resultFile?.endsWith('_result.csv'));
      const parsed = Papa.parse<string[]>(readFileSync(r.resultFile!, 'utf8').trim()).data;
      assert.deepEqual(parsed[0], [
        ...t.columns.map((c) => c.name),
        'ErrorRow',
        'ErrorColumn',
        'ErrorMessage',
      ]);
      assert.equal(parsed.length, 2);
      assert.equal(parsed[1][2], 'P-BAD');
      assert.equal(parsed[1][8], '3');
      assert.equal(parsed[1][9], 'IssuingCountry; ExpirationDate');
      assert.match(parsed[1][10], /Narnia.*; ExpirationDate is required/);
    });

    test('record allowance: a file over what is left is not started, and runs once raised', async () => {
      const used = await db()
        .selectFrom('runs')
        .select((eb) => eb.fn.sum<number>('billed_rows').as('n'))
        .where('firm_id', '=', 'acme')
        .executeTakeFirstOrThrow();
      await updateFirm(store.engine, 'acme', { recordLimit: Number(used.n) + 2 });
      try {
        const t = T('fn_Details_Data_import');
        const patches = [{ EmployeeID: 'L1' }, { EmployeeID: 'L2' }, { EmployeeID: 'L3' }];
        const r = await importRows(store.engine, t, patches);
        assert.equal(r.status, 'interrupted');
        assert.match(r.message ?? '', /3 rows but only 2 are left.*\(1 over\)/);
        const none = await db()
          .selectFrom('clients')
          .select('id')
          .where('employee_id', 'in', ['L1', 'L2', 'L3'])
          .execute();
        assert.equal(none.length, 0);
        await updateFirm(store.engine, 'acme', { recordLimit: Number(used.n) + 3 });
        const ok = await importRows(store.engine, t, patches);
        assert.equal(ok.status, 'completed');
        const next = await importRows(store.engine, t, [{ EmployeeID: 'L4' }]);
        assert.match(next.message ?? '', /only 0 are left/);
      } finally {
        await updateFirm(store.engine, 'acme', { recordLimit: null });
      }
    });
  });
}
