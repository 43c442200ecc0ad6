// The Setup routes of the REST API: a firm's tasks and settings. Every caller of the firm reads them;
// only operators change them (403 for a firm user, 404 for another firm's).
import type { FastifyInstance } from 'fastify';
import { checkNotifySettings, getNotifySettings, setNotifySettings } from '../notify/notify.js';
import {
  addTask,
  getTask,
  listTasks,
  type NewTask,
  removeTask,
  type Task,
  updateTask,
} from '../schedule/tasks.js';
import { checkRecordLimit, checkTimeZone, type Firm, MAX_RECORD_LIMIT, updateFirm } from '../store/firms.js';
import type { User } from './accounts.js';
import { asBadRequest, HttpError, notFound, type WebContext } from './app.js';
import { errorBody, firmObjectParams, firmParams } from './schemas.js';
import { firmFor } from './scope.js';

const error = errorBody;
const errors = { 400: error, 401: error, 403: error, 404: error } as const;
const taskParams = firmObjectParams;
const task = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    kind: { type: 'string', enum: ['import', 'export'] },
    template: { type: 'string', nullable: true },
    scope: { type: 'string', nullable: true, enum: ['full', 'delta', null] },
    cron: { type: 'string', nullable: true },
    onArrival: { type: 'boolean' },
    paused: { type: 'boolean' },
    createdAt: { type: 'string' },
  },
} as const;
const settings = {
  type: 'object',
  properties: {
    zoomNoUpdate: { type: 'boolean' },
    timezone: { type: 'string' },
    exportDateFormat: { type: 'string', enum: ['MM/DD/YYYY', 'YYYY-MM-DD'] },
    recordLimit: { type: 'integer', nullable: true, minimum: 0, maximum: MAX_RECORD_LIMIT },
    billingPeriod: { type: 'string' },
    notifyEmails: { type: 'array', items: { type: 'string' } },
    webhookUrl: { type: 'string', nullable: true },
    webhookSecret: { type: 'string', nullable: true, description: 'shown to operators only' },
  },
} as const;

const taskOut = (t: Task) => ({ ...t });

export async function registerSetupApi(
  api: FastifyInstance,
  ctx: WebContext,
  me: (u: User | undefined) => User,
) {
  const { engine } = ctx;
  const operatorFirm = async (u: User | undefined, firmId: string): Promise<Firm> => {
    const firm = await firmFor(engine, me(u), firmId);
    if (me(u).role !== 'operator') throw new HttpError(403, "Only an operator can change a firm's setup");
    return firm;
  };
  const settingsOf = async (firm: Firm, u: User) => {
    const n = await getNotifySettings(engine.db, firm.id);
    return {
      zoomNoUpdate: firm.zoomNoUpdate,
      timezone: firm.timezone,
      exportDateFormat: firm.exportDateFormat,
      recordLimit: firm.recordLimit,
      billingPeriod: firm.billingPeriod,
      notifyEmails: n.emails,
      webhookUrl: n.webhookUrl,
      webhookSecret: u.role === 'operator' ? n.webhookSecret : null,
    };
  };

  api.get<{ Params: { firm: string } }>(
    '/firms/:firm/tasks',
    {
      schema: {
        summary: "The firm's tasks",
        tags: ['setup'],
        params: firmParams,
        response: {
          200: { type: 'object', properties: { tasks: { type: 'array', items: task } } },
          ...errors,
        },
      },
    },
    async (req) => {
      const firm = await firmFor(engine, me(req.user), req.params.firm);
      return { tasks: (await listTasks(engine, firm.id)).map(taskOut) };
    },
  );

  api.post<{
    Params: { firm: string };
    Body: {
      kind: 'import' | 'export';
      onArrival?: boolean;
      cron?: string;
      template?: string;
      scope?: 'full' | 'delta';
    };
  }>(
    '/firms/:firm/tasks',
    {
      schema: {
        summary:
          'Add a task (operators): an import on arrival or on a schedule, or an export of a template on a schedule',
        tags: ['setup'],
        params: firmParams,
        body: {
          type: 'object',
          properties: {
            kind: { type: 'string', enum: ['import', 'export'] },
            onArrival: { type: 'boolean' },
            cron: { type: 'string', maxLength: 100, description: "in the firm's time zone" },
            template: { type: 'string', maxLength: 100 },
            scope: { type: 'string', enum: ['full', 'delta'] },
          },
          required: ['kind'],
          additionalProperties: false,
        },
        response: { 201: task, ...errors },
      },
    },
    async (req, reply) => {
      const firm = await operatorFirm(req.user, req.params.firm);
      const b = req.body;
      let t: NewTask;
      if (b.kind === 'import') {
        if (b.onArrival && b.cron) throw new HttpError(400, 'give onArrival or cron, not both');
        if (b.onArrival) t = { kind: 'import', onArrival: true };
        else if (b.cron) t = { kind: 'import', cron: b.cron };
        else throw new HttpError(400, 'an import task needs onArrival: true or a cron');
      } else {
        if (!b.cron || !b.template) throw new HttpError(400, 'an export task needs a template and a cron');
        t = { kind: 'export', template: b.template, cron: b.cron, delta: b.scope === 'delta' };
      }
      return reply.code(201).send(taskOut(await asBadRequest(() => addTask(engine, firm.id, t))));
    },
  );

  api.patch<{ Params: { firm: string; id: number }; Body: { cron?: string; paused?: boolean } }>(
    '/firms/:firm/tasks/:id',
    {
      schema: {
        summary: "Change a task's schedule, or pause or resume it (operators)",
        tags: ['setup'],
        params: taskParams,
        body: {
          type: 'object',
          properties: { cron: { type: 'string', maxLength: 100 }, paused: { type: 'boolean' } },
          additionalProperties: false,
        },
        response: { 200: task, ...errors },
      },
    },
    async (req) => {
      const firm = await operatorFirm(req.user, req.params.firm);
      await getTask(engine, firm.id, req.params.id).catch(() => {
        throw notFound('No such task');
      });
      return taskOut(await asBadRequest(() => updateTask(engine, firm.id, req.params.id, req.body)));
    },
  );

  api.delete<{ Params: { firm: string; id: number } }>(
    '/firms/:firm/tasks/:id',
    {
      schema: {
        summary: 'Remove a task (operators); its runs stay',
        tags: ['setup'],
        params: taskParams,
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (req, reply) => {
      const firm = await operatorFirm(req.user, req.params.firm);
      await getTask(engine, firm.id, req.params.id).catch(() => {
        throw notFound('No such task');
      });
      await removeTask(engine, firm.id, req.params.id);
      return reply.code(204).send();
    },
  );

  api.get<{ Params: { firm: string } }>(
    '/firms/:firm/settings',
    {
      schema: {
        summary: "The firm's settings and notification channels",
        tags: ['setup'],
        params: firmParams,
        response: { 200: settings, ...errors },
      },
    },
    async (req) => settingsOf(await firmFor(engine, me(req.user), req.params.firm), me(req.user)),
  );

  api.patch<{
    Params: { firm: string };
    Body: {
      zoomNoUpdate?: boolean;
      timezone?: string;
      exportDateFormat?: 'MM/DD/YYYY' | 'YYYY-MM-DD';
      recordLimit?: number | null;
      notifyEmails?: string[];
      webhookUrl?: string | null;
    };
  }>(
    '/firms/:firm/settings',
    {
      schema: {
        summary:
          'Change settings (operators): Zoom No Update, time zone, export date format, allowance, notifications',
        tags: ['setup'],
        params: firmParams,
        body: {
          type: 'object',
          properties: {
            zoomNoUpdate: { type: 'boolean' },
            timezone: { type: 'string', maxLength: 100 },
            exportDateFormat: { type: 'string', enum: ['MM/DD/YYYY', 'YYYY-MM-DD'] },
            recordLimit: { type: 'integer', nullable: true, minimum: 0, maximum: MAX_RECORD_LIMIT },
            notifyEmails: { type: 'array', items: { type: 'string', maxLength: 320 }, maxItems: 20 },
            webhookUrl: { type: 'string', nullable: true, maxLength: 2000 },
          },
          additionalProperties: false,
        },
        response: { 200: settings, ...errors },
      },
    },
    async (req) => {
      let firm = await operatorFirm(req.user, req.params.firm);
      const b = req.body;
      const timezone = b.timezone?.trim();
      // Everything is checked before anything is changed: a refused request changes nothing.
      const notify =
        b.notifyEmails !== undefined || b.webhookUrl !== undefined
          ? await asBadRequest(async () => {
              const now = await getNotifySettings(engine.db, firm.id);
              const next = {
                emails: b.notifyEmails ?? now.emails,
                webhookUrl: b.webhookUrl === undefined ? (now.webhookUrl ?? '') : (b.webhookUrl ?? ''),
              };
              checkNotifySettings(next);
              return next;
            })
          : undefined;
      await asBadRequest(async () => {
        if (timezone !== undefined) checkTimeZone(timezone);
        checkRecordLimit(b.recordLimit);
      });
      firm = await asBadRequest(() =>
        updateFirm(engine, firm.id, {
          zoomNoUpdate: b.zoomNoUpdate,
          timezone,
          exportDateFormat: b.exportDateFormat,
          recordLimit: b.recordLimit,
        }),
      );
      if (notify) await asBadRequest(() => setNotifySettings(engine, firm.id, notify));
      return settingsOf(firm, me(req.user));
    },
  );
}
