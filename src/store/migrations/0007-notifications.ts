// Migration 7: notifications (issue 13). A firm's channels (e-mail addresses, a webhook and the secret
// that signs it), and an outbox: a notification is written in the same transaction as the event it
// tells of (a file that needs attention, a run that completed), then delivered by any server process,
// retried with a back-off, and kept with its outcome.
import type { Kysely } from 'kysely';
import type { Engine } from '../engine.js';

// biome-ignore lint/suspicious/noExplicitAny: migrations run before any typed schema exists
export async function up(db: Kysely<any>, engine: Engine): Promise<void> {
  await db.schema
    .createTable('notify_settings')
    .addColumn('firm_id', 'text', (c) => c.primaryKey().references('firms.id'))
    .addColumn('emails', 'text', (c) => c.notNull().defaultTo('')) // comma-separated
    .addColumn('webhook_url', 'text')
    .addColumn('webhook_secret', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('notifications')
    .addColumn('id', engine.idType, (c) => engine.idColumn(c))
    .addColumn('firm_id', 'text', (c) => c.notNull())
    .addColumn('event', 'text', (c) => c.notNull()) // attention | completed
    .addColumn('channel', 'text', (c) => c.notNull()) // email | webhook
    .addColumn('target', 'text', (c) => c.notNull()) // an address or a URL
    .addColumn('payload', 'text', (c) => c.notNull()) // JSON
    .addColumn('status', 'text', (c) => c.notNull()) // pending | sending | sent | failed
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_at', 'bigint', (c) => c.notNull()) // ms since the epoch
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'text')
    .execute();
  await db.schema
    .createIndex('notifications_due')
    .on('notifications')
    .columns(['status', 'next_at'])
    .execute();
}
