// Firms (tenants): the settings every run reads, created and listed by the CLI.
import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { configError, firmExists, firmNotFound } from '../errors.js';
import { addDefaultTasks } from '../schedule/tasks.js';
import { isTimeZone } from '../time/zones.js';
import type { Engine } from './engine.js';
import type { FirmTable } from './schema.js';

export type ExportDateFormat = 'MM/DD/YYYY' | 'YYYY-MM-DD';
export type BillingPeriod = 'month' | 'year';

export interface Firm {
  id: string;
  name: string;
  timezone: string;
  zoomNoUpdate: boolean;
  recordLimit: number | null;
  billingPeriod: BillingPeriod;
  exportDateFormat: ExportDateFormat;
  hasSftpPassword: boolean;
  sftpPublicKey: string | null;
  createdAt: string;
}

export interface NewFirm {
  id: string;
  name: string;
  timezone?: string;
  zoomNoUpdate?: boolean;
  recordLimit?: number | null;
  billingPeriod?: BillingPeriod;
  exportDateFormat?: ExportDateFormat;
  sftpPassword?: string;
  sftpPublicKey?: string;
}

const FIRM_ID = /^[a-z0-9][a-z0-9_-]{0,39}$/;

export function checkTimeZone(tz: string): string {
  if (isTimeZone(tz)) return tz;
  throw configError(`time zone "${tz}" is not an IANA time zone (e.g. America/Los_Angeles)`);
}

/** scrypt hash with a random salt, stored as scrypt$salt$hash; never the password itself. */
export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  return `scrypt$${salt.toString('hex')}$${scryptSync(password, salt, 32).toString('hex')}`;
}

const scryptAsync = promisify(scrypt) as (p: string, salt: Buffer, len: number) => Promise<Buffer>;

/** Checks a password against its stored hash on libuv's thread pool: the event loop keeps serving. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const want = Buffer.from(hash, 'hex');
  const got = await scryptAsync(password, Buffer.from(salt, 'hex'), 32);
  return want.length === got.length && timingSafeEqual(got, want);
}

function toFirm(row: FirmTable): Firm {
  return {
    id: row.id,
    name: row.name,
    timezone: row.timezone,
    zoomNoUpdate: row.zoom_no_update === 1,
    recordLimit: row.record_limit,
    billingPeriod: row.billing_period as BillingPeriod,
    exportDateFormat: row.export_date_format as ExportDateFormat,
    hasSftpPassword: row.sftp_password_hash !== null,
    sftpPublicKey: row.sftp_public_key,
    createdAt: row.created_at,
  };
}

/** The largest allowance a firm can have (the stores keep it as a 32-bit integer). */
export const MAX_RECORD_LIMIT = 2_147_483_647;

export function checkRecordLimit(limit: number | null | undefined): void {
  if (limit != null && (!Number.isInteger(limit) || limit < 0 || limit > MAX_RECORD_LIMIT)) {
    throw configError(
      `the allowance "${limit}" must be a whole number of records from 0 to ${MAX_RECORD_LIMIT.toLocaleString('en-US')}`,
    );
  }
}

export async function addFirm(engine: Engine, f: NewFirm): Promise<Firm> {
  if (!FIRM_ID.test(f.id)) {
    throw configError(`firm id "${f.id}" must be 1-40 lowercase letters, digits, "-" or "_"`);
  }
  if (!f.name.trim()) throw configError('firm name must not be empty');
  checkRecordLimit(f.recordLimit);
  const existing = await engine.db.selectFrom('firms').select('id').where('id', '=', f.id).executeTakeFirst();
  if (existing) throw firmExists(f.id);
  const row: FirmTable = {
    id: f.id,
    name: f.name.trim(),
    timezone: checkTimeZone(f.timezone ?? 'America/Los_Angeles'),
    zoom_no_update: f.zoomNoUpdate ? 1 : 0,
    record_limit: f.recordLimit ?? null,
    billing_period: f.billingPeriod ?? 'month',
    export_date_format: f.exportDateFormat ?? 'MM/DD/YYYY',
    sftp_password_hash: f.sftpPassword ? hashPassword(f.sftpPassword) : null,
    sftp_public_key: f.sftpPublicKey ?? null,
    created_at: new Date().toISOString(),
  };
  await engine.db.transaction().execute(async (trx) => {
    await trx.insertInto('firms').values(row).execute();
    await addDefaultTasks(trx, row.id);
  });
  return toFirm(row);
}

export async function updateFirm(
  engine: Engine,
  id: string,
  patch: Partial<
    Pick<
      NewFirm,
      'zoomNoUpdate' | 'recordLimit' | 'exportDateFormat' | 'timezone' | 'sftpPassword' | 'sftpPublicKey'
    >
  >,
): Promise<Firm> {
  const set: Partial<FirmTable> = {};
  if (patch.zoomNoUpdate !== undefined) set.zoom_no_update = patch.zoomNoUpdate ? 1 : 0;
  if (patch.recordLimit !== undefined) {
    checkRecordLimit(patch.recordLimit);
    set.record_limit = patch.recordLimit;
  }
  if (patch.exportDateFormat !== undefined) set.export_date_format = patch.exportDateFormat;
  if (patch.timezone !== undefined) set.timezone = checkTimeZone(patch.timezone);
  if (patch.sftpPassword !== undefined) set.sftp_password_hash = hashPassword(patch.sftpPassword);
  if (patch.sftpPublicKey !== undefined) set.sftp_public_key = patch.sftpPublicKey;
  if (Object.keys(set).length > 0)
    await engine.db.updateTable('firms').set(set).where('id', '=', id).execute();
  return getFirm(engine, id);
}

export async function findFirm(engine: Engine, id: string): Promise<Firm | undefined> {
  const row = await engine.db.selectFrom('firms').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toFirm(row) : undefined;
}

export async function getFirm(engine: Engine, id: string): Promise<Firm> {
  const firm = await findFirm(engine, id);
  if (!firm) throw firmNotFound(id);
  return firm;
}

export async function listFirms(engine: Engine): Promise<Firm[]> {
  const rows = await engine.db.selectFrom('firms').selectAll().orderBy('id').execute();
  return rows.map(toFirm);
}
