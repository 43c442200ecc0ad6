// Migration 5, for speed (issue 12): on PostgreSQL, the record tables' pages are filled to half, so that
// an update that changes no key column finds room for the new row version on the same page (a HOT
// update: no index entry is written, the old version is pruned when the page is next read). A nightly
// full feed updates every row of a table once; with full pages each update wrote a row elsewhere and an
// entry into every index. Measured with 1,000,000 passports updated by id: 28.8 s with full pages, 5.8 s
// at half (every update HOT, again on a second full update). The table takes about twice the space, and
// a fresh insert of a million rows took 7.0 s instead of 6.6 s. Pages written before this migration keep
// their fill until the table is rewritten (VACUUM FULL). SQLite updates rows in place: nothing to do.
import { type Kysely, sql } from 'kysely';
import type { Engine } from '../engine.js';
import { RECORD_TABLES } from './0004-no-change-index.js';

// biome-ignore lint/suspicious/noExplicitAny: migrations run before any typed schema exists
export async function up(db: Kysely<any>, engine: Engine): Promise<void> {
  if (engine.kind !== 'postgres') return;
  for (const table of RECORD_TABLES) {
    await sql`alter table ${sql.table(table)} set (fillfactor = 50)`.execute(db);
  }
}
