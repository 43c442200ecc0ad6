// Migration 6: the reports web app and API (issue 13). Accounts (a firm's users, and operators who set
// up any firm), their sessions and API tokens (both stored as hashes only), failed logins (for throttling
// by account and by address, shared by every node), and comments on files.
import type { Kysely } from 'kysely';
import type { Engine } from '../engine.js';

// biome-ignore lint/suspicious/noExplicitAny: migrations run before any typed schema exists
export async function up(db: Kysely<any>, engine: Engine): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', engine.idType, (c) => engine.idColumn(c))
    .addColumn('email', 'text', (c) => c.notNull().unique()) // lower case
    .addColumn('firm_id', 'text', (c) => c.references('firms.id')) // null for an operator
    .addColumn('role', 'text', (c) => c.notNull()) // firm | operator
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('sessions')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull()) // ms since the epoch
    .execute();
  await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();

  await db.schema
    .createTable('api_tokens')
    .addColumn('id', engine.idType, (c) => engine.idColumn(c))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_used_at', 'text')
    .addColumn('revoked_at', 'text')
    .execute();

  await db.schema
    .createTable('login_failures')
    .addColumn('id', engine.idType, (c) => engine.idColumn(c))
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull()) // ms since the epoch
    .execute();
  await db.schema
    .createIndex('login_failures_account')
    .on('login_failures')
    .columns(['account', 'at'])
    .execute();
  await db.schema
    .createIndex('login_failures_address')
    .on('login_failures')
    .columns(['address', 'at'])
    .execute();

  await db.schema
    .createTable('file_comments')
    .addColumn('id', engine.idType, (c) => engine.idColumn(c))
    .addColumn('firm_id', 'text', (c) => c.notNull().references('firms.id'))
    .addColumn('file_id', 'integer', (c) => c.notNull())
    .addColumn('author', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('file_comments_file')
    .on('file_comments')
    .columns(['firm_id', 'file_id'])
    .execute();
}
