// Migration 1: firms, the system of record, the knowledge base's per-firm entries, the audit trail
// and the run ledger. Column names of record tables are the `field`s of the templates.
import type { Kysely } from 'kysely';
import type { Engine } from '../engine.js';

type ColType = 'text' | 'integer' | 'double precision';
type Cols = ReadonlyArray<readonly [string, ColType]>;

const t = (...names: string[]): Cols => names.map((n) => [n, 'text'] as const);

const employerCols: Cols = [
  ...t('employer_code', 'employer_name', 'dba_name', 'fein', 'business_type'),
  ['year_established', 'integer'],
  ['number_of_employees', 'integer'],
  ['gross_annual_income', 'double precision'],
  ['net_annual_income', 'double precision'],
  ...t('naics_code', 'address_line1', 'address_line2', 'city', 'state', 'postal_code', 'country'),
  ...t('phone', 'email', 'website', 'status'),
];
const contactCols: Cols = [
  ['employer_id', 'integer'],
  ...t('contact_code', 'contact_type', 'first_name', 'last_name', 'job_title', 'email', 'phone'),
  ['is_primary', 'integer'],
];
const clientCols: Cols = [
  ['employer_id', 'integer'],
  ...t('employee_id', 'first_name', 'middle_name', 'last_name', 'other_names', 'gender', 'date_of_birth'),
  ...t('city_of_birth', 'country_of_birth', 'country_of_citizenship', 'marital_status', 'email'),
  ...t('work_phone', 'mobile_phone', 'job_title', 'department', 'hire_date', 'employment_status'),
  ...t('termination_date', 'work_location_city', 'work_location_state', 'work_location_country'),
  ['annual_salary', 'double precision'],
  ...t('current_immigration_status', 'status_expiration_date', 'a_number', 'ssn'),
];
const clientId: Cols = [['client_id', 'integer']];
const expirationCols: Cols = [
  ...clientId,
  ...t('document_type', 'document_number', 'issue_date', 'expiration_date', 'notes'),
];
const visaCols: Cols = [
  ...clientId,
  ...t('visa_type', 'visa_number', 'issue_date', 'expiration_date', 'issuing_post', 'issuing_country'),
  ...t('number_of_entries', 'annotation'),
];
const passportCols: Cols = [
  ...clientId,
  ...t('passport_number', 'issuing_country', 'issue_date', 'expiration_date', 'place_of_issue'),
  ['is_primary', 'integer'],
];
const addressCols: Cols = [
  ...clientId,
  ...t('address_type', 'address_line1', 'address_line2', 'city', 'state', 'postal_code', 'country'),
  ...t('from_date', 'to_date'),
];
const educationCols: Cols = [
  ...clientId,
  ...t('school_name', 'degree_type', 'field_of_study', 'start_date', 'end_date', 'degree_date', 'city'),
  ...t('country'),
];
const supervisorCols: Cols = [...clientId, ...t('supervisor_contact_code', 'effective_date')];
const customFieldCols: Cols = t('field_name', 'field_type', 'list_values');
const customValueCols: Cols = [...clientId, ...t('field_name', 'field_value')];
const petitionCols: Cols = [
  ...t('pet_id', 'petition_name', 'form_type', 'visa_category', 'description'),
  ['active', 'integer'],
];
const caseManagerCols: Cols = [
  ...t('case_manager_code', 'first_name', 'last_name', 'email', 'phone', 'role'),
  ['active', 'integer'],
];
const caseCols: Cols = [
  ...clientId,
  ...t('case_reference', 'pet_id', 'case_status', 'case_manager_email', 'open_date', 'filed_date'),
  ...t('receipt_number', 'priority_date', 'approval_date', 'valid_from', 'valid_to', 'notes'),
];

/** Record tables: name, columns and natural key (besides firm_id). Contacts and clients put their own
 * key before employer_id so the key index also serves lookups by ContactID / EmployeeID alone. */
const recordTables: ReadonlyArray<{ name: string; cols: Cols; key: string[]; index?: string[] }> = [
  { name: 'employers', cols: employerCols, key: ['employer_code'] },
  { name: 'contacts', cols: contactCols, key: ['contact_code', 'employer_id'] },
  { name: 'clients', cols: clientCols, key: ['employee_id', 'employer_id'] },
  { name: 'expirations', cols: expirationCols, key: ['client_id', 'document_type'] },
  { name: 'visas', cols: visaCols, key: ['client_id', 'visa_type', 'issue_date'] },
  { name: 'passports', cols: passportCols, key: ['client_id', 'passport_number', 'issuing_country'] },
  { name: 'addresses', cols: addressCols, key: ['client_id', 'address_type'] },
  { name: 'education', cols: educationCols, key: ['client_id', 'school_name', 'degree_type'] },
  { name: 'supervisor_links', cols: supervisorCols, key: ['client_id'] },
  { name: 'custom_fields', cols: customFieldCols, key: ['field_name'] },
  { name: 'custom_values', cols: customValueCols, key: ['client_id', 'field_name'] },
  { name: 'petitions', cols: petitionCols, key: ['pet_id'] },
  { name: 'case_managers', cols: caseManagerCols, key: ['case_manager_code'] },
  { name: 'cases', cols: caseCols, key: ['client_id', 'case_reference'] },
];

// biome-ignore lint/suspicious/noExplicitAny: migrations run before any typed schema exists
export async function up(db: Kysely<any>, engine: Engine): Promise<void> {
  await db.schema
    .createTable('firms')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('timezone', 'text', (c) => c.notNull().defaultTo('America/Los_Angeles'))
    .addColumn('zoom_no_update', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('record_limit', 'integer')
    .addColumn('billing_period', 'text', (c) => c.notNull().defaultTo('month'))
    .addColumn('export_date_format', 'text', (c) => c.notNull().defaultTo('MM/DD/YYYY'))
    .addColumn('sftp_password_hash', 'text')
    .addColumn('sftp_public_key', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  for (const table of recordTables) {
    let b = db.schema
      .createTable(table.name)
      .addColumn('id', engine.idType, (c) => engine.idColumn(c))
      .addColumn('firm_id', 'text', (c) => c.notNull().references('firms.id'));
    for (const [name, type] of table.cols) b = b.addColumn(name, type);
    b = b
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('created_run_id', 'integer')
      .addColumn('updated_run_id', 'integer')
      .addColumn('updated_by', 'text', (c) => c.notNull());
    await b.execute();
    await db.schema
      .createIndex(`${table.name}_key`)
      .on(table.name)
      .columns(['firm_id', ...table.key])
      .unique()
      .execute();
    await db.schema
      .createIndex(`${table.name}_changed`)
      .on(table.name)
      .columns(['firm_id', 'updated_at'])
      .execute();
  }

  await db.schema
    .createTable('audit')
    .addColumn('id', engine.idType, (c) => engine.idColumn(c))
    .addColumn('firm_id', 'text', (c) => c.notNull())
    .addColumn('table_name', 'text', (c) => c.notNull())
    .addColumn('record_id', 'integer', (c) => c.notNull())
    .addColumn('field', 'text', (c) => c.notNull())
    .addColumn('old_value', 'text')
    .addColumn('new_value', 'text')
    .addColumn('changed_at', 'text', (c) => c.notNull())
    .addColumn('run_id', 'integer')
    .addColumn('changed_by', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('audit_record')
    .on('audit')
    .columns(['firm_id', 'table_name', 'record_id'])
    .execute();
  await db.schema.createIndex('audit_run').on('audit').columns(['run_id']).execute();

  await db.schema
    .createTable('kb_entries')
    .addColumn('id', engine.idType, (c) => engine.idColumn(c))
    .addColumn('firm_id', 'text', (c) => c.notNull().references('firms.id'))
    .addColumn('list_name', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('kb_entries_key')
    .on('kb_entries')
    .columns(['firm_id', 'list_name', 'value'])
    .unique()
    .execute();

  await db.schema
    .createTable('runs')
    .addColumn('id', engine.idType, (c) => engine.idColumn(c))
    .addColumn('firm_id', 'text', (c) => c.notNull().references('firms.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('template', 'text', (c) => c.notNull())
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('file_path', 'text')
    .addColumn('file_sha256', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .addColumn('rows_total', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rows_created', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rows_updated', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rows_unchanged', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rows_rejected', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('billed_rows', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('checkpoint_row', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('message', 'text')
    .addColumn('warnings', 'text')
    .addColumn('result_file', 'text')
    .addColumn('repeat_of_run_id', 'integer')
    .addColumn('acknowledged_at', 'text')
    .execute();
  await db.schema.createIndex('runs_firm').on('runs').columns(['firm_id', 'started_at']).execute();
  await db.schema.createIndex('runs_file').on('runs').columns(['firm_id', 'file_sha256']).execute();

  await db.schema
    .createTable('run_errors')
    .addColumn('id', engine.idType, (c) => engine.idColumn(c))
    .addColumn('run_id', 'integer', (c) => c.notNull().references('runs.id'))
    .addColumn('firm_id', 'text', (c) => c.notNull())
    .addColumn('row_number', 'integer', (c) => c.notNull())
    .addColumn('column_name', 'text', (c) => c.notNull())
    .addColumn('value', 'text')
    .addColumn('message', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('run_errors_run').on('run_errors').columns(['run_id', 'row_number']).execute();

  // Each rejected row as it was sent, so the result file can be written again after a resume.
  await db.schema
    .createTable('rejected_rows')
    .addColumn('run_id', 'integer', (c) => c.notNull().references('runs.id'))
    .addColumn('firm_id', 'text', (c) => c.notNull())
    .addColumn('row_number', 'integer', (c) => c.notNull())
    .addColumn('cells', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('rejected_rows_pk', ['run_id', 'row_number'])
    .execute();

  await db.schema
    .createTable('export_marks')
    .addColumn('firm_id', 'text', (c) => c.notNull().references('firms.id'))
    .addColumn('task', 'text', (c) => c.notNull())
    .addColumn('last_exported_at', 'text', (c) => c.notNull())
    .addColumn('last_run_id', 'integer')
    .addPrimaryKeyConstraint('export_marks_pk', ['firm_id', 'task'])
    .execute();
}
