// Row types of the system of record and the ledger, as Kysely sees them.
import type { Generated } from 'kysely';

export interface FirmTable {
  id: string;
  name: string;
  timezone: string;
  zoom_no_update: number;
  record_limit: number | null;
  billing_period: string;
  export_date_format: string;
  sftp_password_hash: string | null;
  sftp_public_key: string | null;
  created_at: string;
}

/** Columns every record table has; the template's own columns come on top (see migrations). */
export interface RecordBase {
  id: Generated<number>;
  firm_id: string;
  created_at: string;
  updated_at: string;
  created_run_id: number | null;
  updated_run_id: number | null;
  updated_by: string;
}
// biome-ignore lint/suspicious/noExplicitAny: record tables are described by template data, not by types
export type RecordTable = RecordBase & { [column: string]: any };

export interface AuditTable {
  id: Generated<number>;
  firm_id: string;
  table_name: string;
  record_id: number;
  field: string;
  old_value: string | null;
  new_value: string | null;
  changed_at: string;
  run_id: number | null;
  changed_by: string;
}

export interface KbEntryTable {
  id: Generated<number>;
  firm_id: string;
  list_name: string;
  value: string;
  created_at: string;
  updated_at: string;
  created_run_id: number | null;
  updated_run_id: number | null;
  updated_by: string;
}

export interface LeaseWaiterTable {
  id: Generated<number>;
  name: string;
  owner: string;
  arrived_at: number;
  expires_at: number;
}

export interface LeaseTable {
  name: string;
  owner: string;
  expires_at: number;
  acquired_at: string;
  holder: string | null;
  suspect_at: number | null;
}

export interface RunTable {
  id: Generated<number>;
  firm_id: string;
  kind: string;
  template: string;
  file_name: string;
  file_path: string | null;
  file_sha256: string | null;
  status: string;
  started_at: string;
  finished_at: string | null;
  rows_total: Generated<number>;
  rows_created: Generated<number>;
  rows_updated: Generated<number>;
  rows_unchanged: Generated<number>;
  rows_rejected: Generated<number>;
  billed_rows: Generated<number>;
  checkpoint_row: Generated<number>;
  message: string | null;
  warnings: string | null;
  result_file: string | null;
  repeat_of_run_id: number | null;
  acknowledged_at: string | null;
  file_id: number | null;
  job_id: number | null;
  lease_name: string | null;
  lease_owner: string | null;
}

export interface TaskTable {
  id: Generated<number>;
  firm_id: string | null;
  kind: string;
  template: string | null;
  scope: string | null;
  cron: string | null;
  on_arrival: Generated<number>;
  paused: Generated<number>;
  last_due_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface JobTable {
  id: Generated<number>;
  firm_id: string | null;
  task_id: number | null;
  trigger: string;
  kind: string;
  due_at: string;
  status: string;
  attempts: Generated<number>;
  not_before: number | null;
  lease_owner: string | null;
  message: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface FileTable {
  id: Generated<number>;
  firm_id: string;
  folder: string;
  name: string;
  run_order: string;
  template: string | null;
  size: number;
  sha256: string;
  content_key: string | null;
  status: string;
  job_id: number | null;
  run_id: number | null;
  source_file_id: number | null;
  attempts: Generated<number>;
  not_before: number | null;
  lease_owner: string | null;
  message: string | null;
  received_at: string;
  started_at: string | null;
  finished_at: string | null;
  acknowledged_at: string | null;
}

export interface FileChunkTable {
  content_key: string;
  seq: number;
  data: Buffer;
}

export interface SettingTable {
  name: string;
  value: string;
}

export interface UserTable {
  id: Generated<number>;
  email: string;
  firm_id: string | null;
  role: string;
  password_hash: string;
  disabled: Generated<number>;
  created_at: string;
}

export interface SessionTable {
  token_hash: string;
  user_id: number;
  created_at: string;
  expires_at: number;
}

export interface ApiTokenTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  token_hash: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface LoginFailureTable {
  id: Generated<number>;
  account: string;
  address: string;
  at: number;
  /** 1 while the attempt is being checked; 0 once it failed (a success is deleted). */
  pending: Generated<number>;
}

export interface FileCommentTable {
  id: Generated<number>;
  firm_id: string;
  file_id: number;
  author: string;
  body: string;
  created_at: string;
}

export interface NotifySettingsTable {
  firm_id: string;
  emails: string;
  webhook_url: string | null;
  webhook_secret: string | null;
  updated_at: string;
}

export interface NotificationTable {
  id: Generated<number>;
  firm_id: string;
  event: string;
  channel: string;
  target: string;
  payload: string;
  status: string;
  attempts: Generated<number>;
  next_at: number;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
}

export interface RunErrorTable {
  id: Generated<number>;
  run_id: number;
  firm_id: string;
  row_number: number;
  column_name: string;
  value: string | null;
  message: string;
}

export interface RejectedRowTable {
  run_id: number;
  firm_id: string;
  row_number: number;
  cells: string;
}

export interface ExportMarkTable {
  firm_id: string;
  task: string;
  last_exported_at: string;
  last_run_id: number | null;
}

export interface Database {
  firms: FirmTable;
  audit: AuditTable;
  kb_entries: KbEntryTable;
  runs: RunTable;
  run_errors: RunErrorTable;
  rejected_rows: RejectedRowTable;
  export_marks: ExportMarkTable;
  leases: LeaseTable;
  lease_waiters: LeaseWaiterTable;
  tasks: TaskTable;
  jobs: JobTable;
  files: FileTable;
  file_chunks: FileChunkTable;
  settings: SettingTable;
  users: UserTable;
  sessions: SessionTable;
  api_tokens: ApiTokenTable;
  login_failures: LoginFailureTable;
  file_comments: FileCommentTable;
  notify_settings: NotifySettingsTable;
  notifications: NotificationTable;
  employers: RecordTable;
  contacts: RecordTable;
  clients: RecordTable;
  expirations: RecordTable;
  visas: RecordTable;
  passports: RecordTable;
  addresses: RecordTable;
  education: RecordTable;
  supervisor_links: RecordTable;
  custom_fields: RecordTable;
  custom_values: RecordTable;
  petitions: RecordTable;
  case_managers: RecordTable;
  cases: RecordTable;
}

export type RecordTableName =
  | 'employers'
  | 'contacts'
  | 'clients'
  | 'expirations'
  | 'visas'
  | 'passports'
  | 'addresses'
  | 'education'
  | 'supervisor_links'
  | 'custom_fields'
  | 'custom_values'
  | 'petitions'
  | 'case_managers'
  | 'cases'
  | 'kb_entries';
