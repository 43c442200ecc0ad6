// JSON-schema pieces every API route shares: the error body, a firm's path, a firm's object by id.
import { MAX_ID } from './scope.js';

export const errorBody = {
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' } },
  required: ['error', 'message'],
} as const;

export const firmParams = {
  type: 'object',
  properties: { firm: { type: 'string', maxLength: 40 } },
  required: ['firm'],
} as const;

/** A firm and the id of one of its objects (a file, a client, a task). */
export const firmObjectParams = {
  type: 'object',
  properties: {
    firm: { type: 'string', maxLength: 40 },
    id: { type: 'integer', minimum: 1, maximum: MAX_ID },
  },
  required: ['firm', 'id'],
} as const;

/** The usual error answers of a route. */
export const errorResponses = { 400: errorBody, 401: errorBody, 404: errorBody } as const;

/** A download's answers: the file in one of `types` (200), or the usual JSON errors. */
export function downloadResponses(description: string, ...types: string[]) {
  return {
    200: {
      description,
      content: Object.fromEntries(types.map((t) => [t, { schema: { type: 'string', format: 'binary' } }])),
    },
    ...errorResponses,
  };
}
