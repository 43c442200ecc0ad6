// The scheduler's decisions with an injected clock: cron in the firm's time zone across daylight-saving
// changes (a time that does not exist runs once, at the next valid minute; a repeated hour runs once),
// checked expressions, and due jobs made once per due time whatever the number of schedulers or ticks.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { checkCron, latestDue, nextDue } from '../src/schedule/cron.js';
import { createDueJobs } from '../src/schedule/due.js';
import { startScheduler } from '../src/schedule/scheduler.js';
import { addTask, upcomingRuns } from '../src/schedule/tasks.js';
import { ENGINES, storeWithFirm, type TestStore } from './helpers.js';

const LA = 'America/Los_Angeles';
const iso = (ds: Date[]) => ds.map((d) => d.toISOString());

describe('cron in the firm time zone', () => {
  test('02:00 daily across the spring-forward day: 02:00 does not exist, it runs once at 03:00', () => {
    assert.deepEqual(iso(nextDue('0 2 * * *', LA, new Date('2026-03-07T12:00:00Z'), 3)), [
      '2026-03-08T10:00:00.000Z', // 03:00 PDT, the next valid minute
      '2026-03-09T09:00:00.000Z', // 02:00 PDT
      '2026-03-10T09:00:00.000Z',
    ]);
  });

  test('01:30 daily across the fall-back day: the repeated hour runs once', () => {
    assert.deepEqual(iso(nextDue('30 1 * * *', LA, new Date('2026-10-31T12:00:00Z'), 3)), [
      '2026-11-01T08:30:00.000Z', // 01:30 PDT, the first of the two
      '2026-11-02T09:30:00.000Z',
      '2026-11-03T09:30:00.000Z',
    ]);
  });

  test('the latest due time at or before now', () => {
    assert.equal(
      latestDue('0 2 * * *', LA, new Date('2026-11-27T10:00:00Z'))?.toISOString(),
      '2026-11-27T10:00:00.000Z',
    );
    assert.equal(
      latestDue('0 2 * * *', LA, new Date('2026-11-27T09:59:59Z'))?.toISOString(),
      '2026-11-26T10:00:00.000Z',
    );
  });

  test('expressions are checked, with the reason', () => {
    assert.equal(checkCron('  0   2 * * * '), '0 2 * * *');
    assert.equal(checkCron('@daily'), '@daily');
    for (const [bad, why] of [
      ['61 * * * *', /minute: 61/],
      ['* * * *', /five fields/],
      ['*/5 * * * * *', /five fields/],
      ['0 2 30 2 *', /never runs/],
      ['', /five fields/],
    ] as const) {
      assert.throws(() => checkCron(bad), why);
    }
  });
});

for (const kind of ENGINES) {
  describe(`due jobs (${kind})`, () => {
    let s: TestStore;
    before(async () => {
      s = await storeWithFirm(kind);
      // Created just before the night below (a task created earlier would first make its last missed run).
      await s.engine.db.updateTable('tasks').set({ created_at: '2026-03-08T07:59:00.000Z' }).execute();
    });
    after(() => s.cleanup());

    let dailyTask = 0;
    const importJobs = async () =>
      (
        await s.engine.db
          .selectFrom('jobs')
          .select('due_at')
          .where('kind', '=', 'import')
          .where('trigger', '=', 'schedule')
          .where('firm_id', '=', 'acme')
          .where('task_id', '=', dailyTask)
          .orderBy('due_at')
          .execute()
      ).map((j) => j.due_at);

    test('a scheduler ticking every minute through the spring-forward night makes one job, at 03:00 PDT', async () => {
      dailyTask = (
        await s.engine.db
          .selectFrom('tasks')
          .select('id')
          .where('firm_id', '=', 'acme')
          .executeTakeFirstOrThrow()
      ).id;
      for (let t = Date.parse('2026-03-08T08:00:00Z'); t <= Date.parse('2026-03-08T12:00:00Z'); t += 60_000) {
        await createDueJobs(s.engine, new Date(t));
      }
      assert.deepEqual(await importJobs(), ['2026-03-08T10:00:00.000Z']);
    });

    test('four schedulers racing over a day of ticks: each due time once', async () => {
      const others = await Promise.all([s.reopen(), s.reopen(), s.reopen()]);
      const all = [s.engine, ...others];
      for (
        let t = Date.parse('2026-03-09T08:00:00Z');
        t <= Date.parse('2026-03-10T10:30:00Z');
        t += 15 * 60_000
      ) {
        await Promise.all(all.map((e) => createDueJobs(e, new Date(t))));
      }
      assert.deepEqual(await importJobs(), [
        '2026-03-08T10:00:00.000Z',
        '2026-03-09T09:00:00.000Z',
        '2026-03-10T09:00:00.000Z',
      ]);
    });

    test('... and through the fall-back night, with a task at 01:30: one job', async () => {
      const t = await addTask(s.engine, 'acme', { kind: 'import', cron: '30 1 * * *' });
      await s.engine.db
        .updateTable('tasks')
        .set({ created_at: '2026-11-01T06:59:00.000Z' })
        .where('id', '=', t.id)
        .execute();
      for (
        let at = Date.parse('2026-11-01T07:00:00Z');
        at <= Date.parse('2026-11-01T11:00:00Z');
        at += 60_000
      ) {
        await createDueJobs(s.engine, new Date(at));
      }
      const jobs = await s.engine.db
        .selectFrom('jobs')
        .select('due_at')
        .where('task_id', '=', t.id)
        .execute();
      assert.deepEqual(
        jobs.map((j) => j.due_at),
        ['2026-11-01T08:30:00.000Z'],
      );
      await s.engine.db.updateTable('tasks').set({ paused: 1 }).where('id', '=', t.id).execute();
    });

    test('the scheduler loop keeps making due jobs, tick after tick (injected clock)', async () => {
      const t = await addTask(s.engine, 'acme', { kind: 'import', cron: '*/5 * * * *' });
      await s.engine.db
        .updateTable('tasks')
        .set({ created_at: '2026-12-01T00:00:00.000Z' })
        .where('id', '=', t.id)
        .execute();
      let now = Date.parse('2026-12-01T00:00:30Z');
      const loop = startScheduler({
        engine: s.engine,
        log: pino({ level: 'silent' }),
        intervalMs: 20,
        now: () => new Date(now),
      });
      try {
        const jobs = async () =>
          (
            await s.engine.db
              .selectFrom('jobs')
              .select('due_at')
              .where('task_id', '=', t.id)
              .orderBy('due_at')
              .execute()
          ).map((j) => j.due_at);
        for (const step of [5, 10, 15]) {
          now = Date.parse(`2026-12-01T00:${String(step).padStart(2, '0')}:30Z`);
          const due = `2026-12-01T00:${String(step).padStart(2, '0')}:00.000Z`;
          const until = Date.now() + 5000;
          while (!(await jobs()).includes(due)) {
            if (Date.now() > until) assert.fail(`no job due at ${due}: ${JSON.stringify(await jobs())}`);
            await new Promise((r) => setTimeout(r, 20));
          }
        }
        assert.deepEqual(await jobs(), [
          '2026-12-01T00:05:00.000Z',
          '2026-12-01T00:10:00.000Z',
          '2026-12-01T00:15:00.000Z',
        ]);
      } finally {
        await loop.stop();
        await s.engine.db.updateTable('tasks').set({ paused: 1 }).where('id', '=', t.id).execute();
      }
    });

    test('upcoming runs: local time and UTC', async () => {
      const up = await upcomingRuns(s.engine, 'acme', LA, new Date('2026-03-07T12:00:00Z'), 2);
      const daily = up.filter((u) => u.kind === 'import');
      assert.deepEqual(
        daily.map((u) => [u.dueLocal, u.dueAt]),
        [
          ['2026-03-08 03:00 PDT', '2026-03-08T10:00:00.000Z'],
          ['2026-03-09 02:00 PDT', '2026-03-09T09:00:00.000Z'],
        ],
      );
    });
  });
}
