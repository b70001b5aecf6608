import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '../db/errors.ts';
import { MAX_PATH_PARAM_CHARS } from './input.ts';

/** An error meant for the client: its status, code, message and details are sent as they are. */
export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const notFound = (message: string, details?: unknown) =>
  new AppError(404, 'not_found', message, details);
export const badRequest = (field: string, message: string) =>
  new AppError(400, 'invalid_request', `${field} ${message}`, [{ field, message }]);

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

const body = (code: string, message: string, details?: unknown): ErrorBody => ({
  error: details === undefined ? { code, message } : { code, message, details },
});

interface AjvError {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Turns Ajv's errors into [{field, message}], naming the field as a client wrote it. */
function validationDetails(errors: AjvError[]): { field: string; message: string }[] {
  return errors.map((e) => {
    let field = (e.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    const missing = e.params?.missingProperty;
    if (typeof missing === 'string') field = field ? `${field}.${missing}` : missing;
    const extra = e.params?.additionalProperty;
    if (typeof extra === 'string') field = field ? `${field}.${extra}` : extra;
    const allowed = e.params?.allowedValues;
    const message = Array.isArray(allowed)
      ? `must be one of ${allowed.join(', ')}`
      : typeof extra === 'string'
        ? 'is not a known field'
        : (e.message ?? 'is invalid');
    return { field: field || 'request', message };
  });
}

const FASTIFY_CODES: Record<string, [number, string, string?]> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [
    415,
    'unsupported_media_type',
    'Content-Type must be application/json',
  ],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [
    400,
    'invalid_request',
    'Content-Length does not match the body',
  ],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid_json', 'The request body is empty; send JSON'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'invalid_json'],
};

/**
 * The errors Fastify's router answers before any route runs (a path that is not valid
 * percent-encoding, a path parameter past `maxParamLength`), in the same shape as the rest.
 */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply) {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return reply.status(414).send(
      body('uri_too_long', `A path parameter is longer than ${MAX_PATH_PARAM_CHARS} characters`, [
        {
          field: 'path',
          message: `holds a parameter longer than ${MAX_PATH_PARAM_CHARS} characters`,
        },
      ]),
    );
  }
  if (err.code === 'FST_ERR_BAD_URL') {
    return reply
      .status(400)
      .send(
        body('invalid_request', 'The path is not valid percent-encoded UTF-8', [
          { field: 'path', message: 'is not valid percent-encoded UTF-8' },
        ]),
      );
  }
  return reply.status(400).send(body('invalid_request', err.message));
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof AppError) {
      return reply.status(err.statusCode).send(body(err.code, err.message, err.details));
    }
    if (err.validation) {
      const details = validationDetails(err.validation as AjvError[]);
      const where = err.validationContext ?? 'request';
      const first = details[0];
      const message = first
        ? `Invalid ${where}: ${first.field} ${first.message}`
        : `Invalid ${where}`;
      return reply.status(400).send(body('validation_failed', message, details));
    }
    const known = err.code ? FASTIFY_CODES[err.code] : undefined;
    if (known) {
      return reply.status(known[0]).send(body(known[1], known[2] ?? err.message));
    }
    if (err instanceof SyntaxError || err.statusCode === 400) {
      return reply
        .status(400)
        .send(body('invalid_json', `The body is not valid JSON: ${err.message}`));
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code =
        status === 413
          ? 'payload_too_large'
          : status === 415
            ? 'unsupported_media_type'
            : status === 429
              ? 'rate_limited'
              : 'invalid_request';
      return reply.status(status).send(body(code, err.message));
    }
    if (isDatabaseUnavailable(err)) {
      req.log.warn({ err }, 'database unavailable');
      return reply
        .status(503)
        .header('retry-after', '1')
        .send(
          body(
            'database_unavailable',
            'The database is busy or unreachable and the request was not completed; ' +
              'try again shortly',
          ),
        );
    }
    req.log.error({ err }, 'request failed');
    return reply
      .status(status >= 500 ? status : 500)
      .send(body('internal_error', 'Internal server error'));
  });

  app.setNotFoundHandler((req, reply) => {
    reply
      .status(404)
      .send(body('not_found', `No route for ${req.method} ${req.url.split('?')[0]}`));
  });
}
