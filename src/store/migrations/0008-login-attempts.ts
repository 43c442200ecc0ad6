// Migration 8: a login attempt being checked is kept apart from a failure. Attempts are written before
// their password is checked (so that attempts sent at once are counted, on every node), and until now
// counted as failures while in flight: a firm's parallel SFTP transfers, all with the right password,
// could throttle their own address. A pending attempt now only makes the next one wait its turn.
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run before any typed schema exists
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('login_failures')
    .addColumn('pending', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}
