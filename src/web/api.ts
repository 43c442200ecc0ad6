// The REST API under /api/v1: the reports as JSON for scripts, with an API token. Requests and responses
// are described by JSON schemas (Fastify validates the one and serializes the other by them), and the
// same schemas make the OpenAPI document. Every firm's route checks the firm first (scope.ts).
import type { FastifyInstance } from 'fastify';
import { listTasks, upcomingRuns } from '../schedule/tasks.js';
import { IMPORT_TEMPLATES } from '../templates/index.js';
import type { User } from './accounts.js';
import { HttpError, notFound, type WebContext } from './app.js';
import { clientPage, searchClients } from './records.js';
import {
  ATTENTION_STATUSES,
  acknowledge,
  addComment,
  billing,
  COMMENT_MAX,
  commentsOf,
  completedJobs,
  fileErrors,
  fileOf,
  filterProblem,
  needAttention,
  notAcknowledgeable,
  resultFileOf,
} from './reports.js';
import { downloadResponses, errorBody, firmObjectParams, firmParams } from './schemas.js';
import { firmFor, MAX_ID, sendStoredFile } from './scope.js';
import { registerSetupApi } from './setup-api.js';
import { registerTemplateApi } from './templates-page.js';

const error = errorBody;
const IMPORT_TEMPLATES_NAMES = IMPORT_TEMPLATES.map((t) => t.name);
const errors = { 400: error, 401: error, 404: error } as const;

const counts = {
  type: 'object',
  properties: {
    total: { type: 'integer' },
    created: { type: 'integer' },
    updated: { type: 'integer' },
    unchanged: { type: 'integer' },
    rejected: { type: 'integer' },
  },
} as const;

const nullableString = { type: 'string', nullable: true } as const;
const nullableInt = { type: 'integer', nullable: true } as const;

const fileSummary = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    template: nullableString,
    status: { type: 'string', description: 'completed, incomplete, interrupted, received, queued, running' },
    receivedAt: { type: 'string', format: 'date-time' },
    startedAt: nullableString,
    finishedAt: nullableString,
    acknowledgedAt: nullableString,
    message: nullableString,
    runId: nullableInt,
    jobId: nullableInt,
    rows: counts,
  },
} as const;

const comment = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    author: { type: 'string' },
    body: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

const fileParams = firmObjectParams;
const paging = {
  limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
  offset: { type: 'integer', minimum: 0, maximum: 1_000_000_000, default: 0 },
} as const;

type FileParams = { firm: string; id: number };
type Paging = { limit: number; offset: number };

export async function registerApi(app: FastifyInstance, ctx: WebContext): Promise<void> {
  const { engine } = ctx;
  await app.register(
    async (api) => {
      // Every route with a body may also answer 413 (over 1 MiB) and 415 (not JSON): said in the document.
      api.addHook('onRoute', (route) => {
        const methods = ([] as string[]).concat(route.method);
        if (!methods.some((m) => ['POST', 'PATCH', 'PUT'].includes(m)) || !route.schema) return;
        route.schema.response = { ...(route.schema.response as object), 413: errorBody, 415: errorBody };
      });
      api.addHook('onRequest', async (req) => {
        if (!req.user) throw new HttpError(401, 'An API token is needed: Authorization: Bearer <token>');
      });
      api.addHook('preValidation', async (req) => {
        // An id is digits, as on the pages: not 1e3, 0x10 or +3, which a number schema would read.
        const id = (req.params as Record<string, unknown> | undefined)?.id;
        if (id !== undefined && !/^\d+$/.test(String(id)))
          throw new HttpError(400, `params.id is digits only, not "${String(id).slice(0, 40)}"`);
        if (id !== undefined && (String(id).length > 10 || Number(id) > MAX_ID))
          throw new HttpError(400, `params.id must be <= ${MAX_ID}`);
        // A route that takes no body refuses one, as a route with a body schema refuses unknown keys.
        const body = req.body as unknown;
        if (!req.routeOptions.schema?.body && body !== undefined && body !== null) {
          const keys = typeof body === 'object' && !Array.isArray(body) ? Object.keys(body) : ['(a body)'];
          if (keys.length > 0) throw new HttpError(400, `body: "${keys[0]}" is not a field of this request`);
        }
      });
      const me = (u: User | undefined) => u!;
      await registerSetupApi(api, ctx, me);
      await registerTemplateApi(api, ctx, me);

      api.get(
        '/me',
        {
          schema: {
            summary: 'The caller',
            tags: ['account'],
            response: {
              200: {
                type: 'object',
                properties: { email: { type: 'string' }, role: { type: 'string' }, firmId: nullableString },
              },
              401: error,
            },
          },
        },
        async (req) => {
          const u = me(req.user);
          return { email: u.email, role: u.role, firmId: u.firmId };
        },
      );

      api.get<{
        Params: { firm: string };
        Querystring: Paging & {
          template?: string;
          status?: string;
          from?: string;
          to?: string;
          acknowledged?: boolean;
        };
      }>(
        '/firms/:firm/attention',
        {
          schema: {
            summary: 'Need Attention: Interrupted and Incomplete files not yet acknowledged, newest first',
            tags: ['reports'],
            params: firmParams,
            querystring: {
              type: 'object',
              properties: {
                template: { type: 'string', maxLength: 100 },
                status: { type: 'string', enum: [...ATTENTION_STATUSES] },
                from: {
                  type: 'string',
                  format: 'date',
                  description: "received on or after this day (in the firm's time zone)",
                },
                to: {
                  type: 'string',
                  format: 'date',
                  description: "received on or before this day (in the firm's time zone)",
                },
                acknowledged: { type: 'boolean', default: false, description: 'include acknowledged files' },
                ...paging,
              },
              additionalProperties: false,
            },
            response: {
              200: {
                type: 'object',
                properties: { total: { type: 'integer' }, files: { type: 'array', items: fileSummary } },
              },
              ...errors,
            },
          },
        },
        async (req) => {
          const firm = await firmFor(engine, me(req.user), req.params.firm);
          const { limit, offset, ...filter } = req.query;
          const problem = filterProblem(filter, IMPORT_TEMPLATES_NAMES);
          if (problem) throw new HttpError(400, problem);
          return needAttention(engine, firm.id, { ...filter, timezone: firm.timezone }, { limit, offset });
        },
      );

      const jobFile = {
        type: 'object',
        properties: {
          id: { type: 'integer' },
          folder: { type: 'string', description: 'Import or Export' },
          name: { type: 'string' },
          status: { type: 'string' },
          template: nullableString,
          rows: counts,
        },
      } as const;
      api.get<{ Params: { firm: string }; Querystring: Paging }>(
        '/firms/:firm/completed',
        {
          schema: {
            summary:
              'Completed runs with the job status report: start, end, files and counts per file, newest first',
            tags: ['reports'],
            params: firmParams,
            querystring: { type: 'object', properties: { ...paging }, additionalProperties: false },
            response: {
              200: {
                type: 'object',
                properties: {
                  total: { type: 'integer' },
                  jobs: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: {
                        id: { type: 'integer' },
                        kind: { type: 'string' },
                        trigger: { type: 'string', description: 'schedule, arrival, manual or cli' },
                        taskId: nullableInt,
                        dueAt: { type: 'string' },
                        startedAt: nullableString,
                        finishedAt: nullableString,
                        message: nullableString,
                        files: { type: 'array', items: jobFile },
                      },
                    },
                  },
                },
              },
              ...errors,
            },
          },
        },
        async (req) => {
          const firm = await firmFor(engine, me(req.user), req.params.firm);
          return completedJobs(engine, firm.id, req.query);
        },
      );

      api.get<{ Params: { firm: string } }>(
        '/firms/:firm/upcoming',
        {
          schema: {
            summary: "The next runs of the firm's scheduled tasks, in UTC and in the firm's time zone",
            tags: ['reports'],
            params: firmParams,
            response: {
              200: {
                type: 'object',
                properties: {
                  timezone: { type: 'string' },
                  onArrivalTasks: { type: 'array', items: { type: 'integer' } },
                  runs: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: {
                        taskId: { type: 'integer' },
                        kind: { type: 'string' },
                        template: nullableString,
                        scope: nullableString,
                        dueAt: { type: 'string', format: 'date-time' },
                        dueLocal: { type: 'string' },
                      },
                    },
                  },
                },
              },
              ...errors,
            },
          },
        },
        async (req) => {
          const firm = await firmFor(engine, me(req.user), req.params.firm);
          const [runs, tasks] = await Promise.all([
            upcomingRuns(engine, firm.id, firm.timezone, new Date(), 5),
            listTasks(engine, firm.id),
          ]);
          return {
            timezone: firm.timezone,
            onArrivalTasks: tasks.filter((t) => t.onArrival && !t.paused).map((t) => t.id),
            runs,
          };
        },
      );

      api.get<{ Params: { firm: string } }>(
        '/firms/:firm/billing',
        {
          schema: {
            summary:
              'Billing: the allowance, used and left in the current period, records per day and per run',
            tags: ['reports'],
            params: firmParams,
            response: {
              200: {
                type: 'object',
                properties: {
                  period: { type: 'string', enum: ['month', 'year'] },
                  periodStart: { type: 'string', format: 'date-time' },
                  allowance: nullableInt,
                  used: { type: 'integer' },
                  left: nullableInt,
                  days: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: { day: { type: 'string', format: 'date' }, records: { type: 'integer' } },
                    },
                  },
                  runs: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: {
                        runId: { type: 'integer' },
                        jobId: nullableInt,
                        file: { type: 'string' },
                        template: { type: 'string' },
                        startedAt: { type: 'string' },
                        records: { type: 'integer' },
                      },
                    },
                  },
                },
              },
              ...errors,
            },
          },
        },
        async (req) => billing(engine, await firmFor(engine, me(req.user), req.params.firm)),
      );

      const recordView = {
        type: 'object',
        properties: {
          id: { type: 'integer' },
          fields: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                column: { type: 'string' },
                value: { description: 'the stored value: text, a number, or null' },
              },
            },
          },
          createdAt: { type: 'string' },
          updatedAt: { type: 'string' },
          createdRunId: nullableInt,
          updatedRunId: nullableInt,
        },
      } as const;
      api.get<{ Params: { firm: string }; Querystring: { q: string } }>(
        '/firms/:firm/clients',
        {
          schema: {
            summary:
              'Search clients by the start of an EmployeeID, a first or last name, or "first last" (case-insensitive; at most 50)',
            tags: ['records'],
            params: firmParams,
            querystring: {
              type: 'object',
              properties: { q: { type: 'string', minLength: 1, maxLength: 100 } },
              required: ['q'],
              additionalProperties: false,
            },
            response: {
              200: {
                type: 'object',
                properties: {
                  clients: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: {
                        id: { type: 'integer' },
                        employerCode: { type: 'string' },
                        employeeId: { type: 'string' },
                        name: { type: 'string' },
                      },
                    },
                  },
                },
              },
              ...errors,
            },
          },
        },
        async (req) => {
          const firm = await firmFor(engine, me(req.user), req.params.firm);
          return { clients: await searchClients(engine, firm.id, req.query.q) };
        },
      );

      api.get<{ Params: FileParams }>(
        '/firms/:firm/clients/:id',
        {
          schema: {
            summary:
              'A client with its passports, visas, expirations, addresses, education, supervisors, custom data and cases, and the audit trail of every field a run changed (newest first)',
            tags: ['records'],
            params: fileParams,
            response: {
              200: {
                type: 'object',
                properties: {
                  id: { type: 'integer' },
                  employerCode: { type: 'string' },
                  employeeId: { type: 'string' },
                  name: { type: 'string' },
                  client: recordView,
                  sections: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: {
                        template: { type: 'string' },
                        table: { type: 'string' },
                        records: { type: 'array', items: recordView },
                      },
                    },
                  },
                  audit: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: {
                        table: { type: 'string' },
                        recordId: { type: 'integer' },
                        column: { type: 'string' },
                        old: nullableString,
                        now: nullableString,
                        at: { type: 'string' },
                        runId: nullableInt,
                        by: { type: 'string' },
                      },
                    },
                  },
                },
              },
              ...errors,
            },
          },
        },
        async (req) => {
          const firm = await firmFor(engine, me(req.user), req.params.firm);
          const p = await clientPage(engine, firm.id, req.params.id);
          if (!p) throw notFound('No such client');
          return p;
        },
      );

      const fileOr404 = async (user: User | undefined, p: FileParams) => {
        const firm = await firmFor(engine, me(user), p.firm);
        const file = await fileOf(engine, firm.id, p.id);
        if (!file) throw notFound('No such file');
        return { firm, file };
      };

      api.get<{ Params: FileParams }>(
        '/firms/:firm/files/:id',
        {
          schema: {
            summary: 'An import file: status, times, counts and its result file',
            tags: ['reports'],
            params: fileParams,
            response: {
              200: {
                type: 'object',
                properties: {
                  ...fileSummary.properties,
                  resultFile: {
                    type: 'object',
                    nullable: true,
                    properties: { name: { type: 'string' }, size: { type: 'integer' } },
                  },
                },
              },
              ...errors,
            },
          },
        },
        async (req) => {
          const { firm, file } = await fileOr404(req.user, req.params);
          const result = await resultFileOf(engine, firm.id, file.id);
          return { ...file, resultFile: result ? { name: result.name, size: Number(result.size) } : null };
        },
      );

      api.get<{ Params: FileParams; Querystring: Paging }>(
        '/firms/:firm/files/:id/errors',
        {
          schema: {
            summary: "A page of a file's rejected rows: row, column, value and message, in row order",
            tags: ['reports'],
            params: fileParams,
            querystring: { type: 'object', properties: { ...paging }, additionalProperties: false },
            response: {
              200: {
                type: 'object',
                properties: {
                  total: { type: 'integer' },
                  errors: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: {
                        row: { type: 'integer' },
                        column: { type: 'string' },
                        value: nullableString,
                        message: { type: 'string' },
                      },
                    },
                  },
                },
              },
              ...errors,
            },
          },
        },
        async (req) => {
          const { firm, file } = await fileOr404(req.user, req.params);
          return fileErrors(engine, firm.id, file, req.query);
        },
      );

      api.get<{ Params: FileParams }>(
        '/firms/:firm/files/:id/result',
        {
          schema: {
            summary: 'Download the result file (the rejected rows with an error column)',
            tags: ['reports'],
            params: fileParams,
            response: downloadResponses('the result file (CSV)', 'text/csv'),
          },
        },
        async (req, reply) => {
          const { firm, file } = await fileOr404(req.user, req.params);
          const result = await resultFileOf(engine, firm.id, file.id);
          if (!result) throw notFound('The file has no result file');
          return sendStoredFile(ctx, reply, result);
        },
      );

      api.get<{ Params: FileParams }>(
        '/firms/:firm/files/:id/comments',
        {
          schema: {
            summary: "A file's comments, oldest first",
            tags: ['reports'],
            params: fileParams,
            response: {
              200: { type: 'object', properties: { comments: { type: 'array', items: comment } } },
              ...errors,
            },
          },
        },
        async (req) => {
          const { firm, file } = await fileOr404(req.user, req.params);
          return { comments: await commentsOf(engine, firm.id, file.id) };
        },
      );

      api.post<{ Params: FileParams; Body: { body: string } }>(
        '/firms/:firm/files/:id/comments',
        {
          schema: {
            summary: 'Add a comment to a file (kept with its author and time)',
            tags: ['reports'],
            params: fileParams,
            body: {
              type: 'object',
              properties: { body: { type: 'string', minLength: 1, maxLength: COMMENT_MAX } },
              required: ['body'],
              additionalProperties: false,
            },
            response: { 201: comment, ...errors },
          },
        },
        async (req, reply) => {
          const { firm, file } = await fileOr404(req.user, req.params);
          const text = req.body.body.replace(/\r\n?/g, '\n').trim();
          if (!text) throw new HttpError(400, 'body: a comment cannot be blank');
          const added = await addComment(engine, firm.id, file.id, me(req.user).email, text);
          if (!added) throw notFound('No such file');
          return reply.code(201).send(added);
        },
      );

      api.post<{ Params: FileParams }>(
        '/firms/:firm/files/:id/acknowledge',
        {
          schema: {
            summary:
              'Acknowledge an Interrupted or Incomplete file: it leaves Need Attention and stays findable',
            tags: ['reports'],
            params: fileParams,
            response: { 200: fileSummary, 409: errorBody, ...errors },
          },
        },
        async (req) => {
          const { firm, file } = await fileOr404(req.user, req.params);
          const refused = notAcknowledgeable(file);
          if (refused) throw new HttpError(409, refused);
          const after = await acknowledge(engine, firm.id, file);
          if (!after) throw notFound('No such file');
          return after;
        },
      );
    },
    { prefix: '/api/v1' },
  );
}
