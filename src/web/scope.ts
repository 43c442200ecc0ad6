// Who may see which firm: a firm user their own, an operator any that exists. Anything else is 404,
// the same answer as for a firm that does not exist.
import type { FastifyReply } from 'fastify';
import type { Engine } from '../store/engine.js';
import { type Firm, findFirm } from '../store/firms.js';
import type { User } from './accounts.js';
import { notFound, type WebContext } from './app.js';

export async function firmFor(engine: Engine, user: User, firmId: string): Promise<Firm> {
  if (user.role !== 'operator' && user.firmId !== firmId) throw notFound();
  const firm = await findFirm(engine, firmId);
  if (!firm) throw notFound();
  return firm;
}

/** The largest id of the store (ids are 32-bit integers on PostgreSQL): a larger one names nothing. */
export const MAX_ID = 2_147_483_647;

/** A positive integer from a path or query parameter within the stores' ids, or undefined. */
export function intParam(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v > 0 && v <= MAX_ID ? v : undefined;
  if (typeof v !== 'string' || !/^\d{1,10}$/.test(v)) return undefined;
  const n = Number(v);
  return n > 0 && n <= MAX_ID ? n : undefined;
}

/** The page number a query asks for: 1 unless a whole number from 1 up. */
export const pageOf = (v: unknown): number => intParam(v) ?? 1;

/**
 * Fetches page `pageNo` of `size` items; asked for a page past the last, the last page instead (and
 * says which page it shows).
 */
export async function pageAt<T extends { total: number }>(
  pageNo: number,
  size: number,
  fetch: (p: { limit: number; offset: number }) => Promise<T>,
): Promise<{ result: T; pageNo: number }> {
  const result = await fetch({ limit: size, offset: (pageNo - 1) * size });
  const last = Math.max(1, Math.ceil(result.total / size));
  if (pageNo <= last) return { result, pageNo };
  return { result: await fetch({ limit: size, offset: (last - 1) * size }), pageNo: last };
}

/** Sends a file of the store as a download, under its own name. */
export function sendStoredFile(
  ctx: WebContext,
  reply: FastifyReply,
  f: { name: string; size: number; content_key: string | null },
) {
  if (!f.content_key) throw notFound('The file has no content any more.');
  const ascii = f.name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return reply
    .header(
      'content-type',
      f.name.toLowerCase().endsWith('.csv') ? 'text/csv; charset=utf-8' : 'application/octet-stream',
    )
    .header('content-length', String(f.size))
    .header(
      'content-disposition',
      `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(f.name)}`,
    )
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'no-store')
    .send(ctx.store.read(f.content_key));
}
