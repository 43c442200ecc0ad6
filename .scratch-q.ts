import SqliteDatabase from 'better-sqlite3';
const W = process.argv[2];
const db = new SqliteDatabase(`${W}/sqlite/caseport.db`);
db.pragma('cache_size = -65536');
const cols = `r.client_id as v0, e.employer_code as v1, c.employee_id as v2, r.passport_number as v3, r.issuing_country as v4, r.issue_date as v5, r.expiration_date as v6, r.place_of_issue as v7, r.is_primary as v8, r.client_id as k0, r.passport_number as k1, r.issuing_country as k2, r.updated_at as u0`;
const from = `from passports r join clients c on c.id = r.client_id join employers e on e.id = c.employer_id where r.firm_id = ?`;
const order = `order by r.client_id, r.passport_number, r.issuing_country`;
let t = performance.now();
let n = 0;
for (const row of db.prepare(`select ${cols} ${from} ${order}`).iterate('bench')) n++;
console.log('iterate one query', n, (performance.now() - t).toFixed(0));
t = performance.now();
n = 0;
for (const row of db.prepare(`select ${cols} ${from} ${order}`).raw().iterate('bench')) n++;
console.log('iterate raw', n, (performance.now() - t).toFixed(0));
t = performance.now();
n = 0; let after: unknown[] | null = null;
const first = db.prepare(`select ${cols} ${from} ${order} limit 1000`);
const next = db.prepare(`select ${cols} ${from} and (r.client_id, r.passport_number, r.issuing_country) > (?, ?, ?) ${order} limit 1000`);
for (;;) {
  const rows: any[] = after ? next.all('bench', ...after) : first.all('bench');
  n += rows.length;
  if (rows.length < 1000) break;
  const l = rows[rows.length - 1]; after = [l.k0, l.k1, l.k2];
}
console.log('pages of 1000', n, (performance.now() - t).toFixed(0));
t = performance.now();
const all = db.prepare(`select ${cols} ${from} ${order}`).all('bench');
console.log('all', all.length, (performance.now() - t).toFixed(0));
