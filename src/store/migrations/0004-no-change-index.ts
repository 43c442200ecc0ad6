// Migration 4, for speed (issue 12):
// - the (firm_id, updated_at) index of every record table goes. No query reads it (exports find changed
//   rows in one pass along the key index, see src/export/query.ts), and keeping it cost every insert and
//   update a second index write: about 0.8 s per million rows on SQLite;
// - on PostgreSQL, the record tables' foreign key to firms goes: its trigger ran a query per inserted
//   row (2.4 s of 8 s for a million passports). No firm is ever deleted, and every writer reads the firm
//   before it writes (getFirm). SQLite checks the key in C at little cost, and cannot drop it in place.
import { type Kysely, sql } from 'kysely';
import type { Engine } from '../engine.js';

export const RECORD_TABLES = [
  'employers',
  'contacts',
  'clients',
  'expirations',
  'visas',
  'passports',
  'addresses',
  'education',
  'supervisor_links',
  'custom_fields',
  'custom_values',
  'petitions',
  'case_managers',
  'cases',
];

// biome-ignore lint/suspicious/noExplicitAny: migrations run before any typed schema exists
export async function up(db: Kysely<any>, engine: Engine): Promise<void> {
  for (const table of RECORD_TABLES) {
    await db.schema.dropIndex(`${table}_changed`).ifExists().execute();
    if (engine.kind === 'postgres') {
      await sql`alter table ${sql.table(table)} drop constraint if exists ${sql.id(`${table}_firm_id_fkey`)}`.execute(
        db,
      );
    }
  }
}
