// Migration 2: leases (who may run what, for how long: a per-firm import lease makes concurrent imports
// of one firm end as if run one after the other); column types that hold everything the contract lets
// through (YearEstablished is text; a whole number has up to 15 digits); firm additions to shipped KB
// lists become records like any other, so they load through the import pipeline.
import { type Kysely, sql } from 'kysely';
import type { Engine } from '../engine.js';

/** Changes a column's type on both engines: add, copy, drop, rename (SQLite has no ALTER TYPE). */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before any typed schema exists
async function retype(db: Kysely<any>, table: string, column: string, type: 'text' | 'bigint') {
  const tmp = `${column}_new`;
  await db.schema.alterTable(table).addColumn(tmp, type).execute();
  await sql`update ${sql.table(table)} set ${sql.ref(tmp)} = cast(${sql.ref(column)} as ${sql.raw(type)})`.execute(
    db,
  );
  await db.schema.alterTable(table).dropColumn(column).execute();
  await db.schema.alterTable(table).renameColumn(tmp, column).execute();
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run before any typed schema exists
export async function up(db: Kysely<any>, engine: Engine): Promise<void> {
  await db.schema
    .createTable('leases')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('acquired_at', 'text', (c) => c.notNull())
    .addColumn('holder', 'text')
    // When a waiter first found the lease expired: taken over only if it is still not renewed a while later.
    .addColumn('suspect_at', 'bigint')
    .execute();
  // Processes waiting for a lease, served in the order they came; each renews its place while it waits.
  await db.schema
    .createTable('lease_waiters')
    .addColumn('id', engine.idType, (c) => engine.idColumn(c))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('owner', 'text', (c) => c.notNull())
    // When the waiting process started (its own clock): the order waiters are served in.
    .addColumn('arrived_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('lease_waiters_name').on('lease_waiters').columns(['name', 'id']).execute();

  await retype(db, 'employers', 'year_established', 'text');
  await retype(db, 'employers', 'number_of_employees', 'bigint');

  await db.schema
    .alterTable('kb_entries')
    .addColumn('updated_at', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await db.schema.alterTable('kb_entries').addColumn('created_run_id', 'integer').execute();
  await db.schema.alterTable('kb_entries').addColumn('updated_run_id', 'integer').execute();
  await db.schema
    .alterTable('kb_entries')
    .addColumn('updated_by', 'text', (c) => c.notNull().defaultTo('user:kb-import'))
    .execute();
  await sql`update kb_entries set updated_at = created_at`.execute(db);
}
