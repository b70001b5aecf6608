import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

// As Fastify's own defaults, except: a field the API does not know is refused (not dropped),
// and a JSON body is taken as sent — `{"password": true}` is an error, not the string "true".
// Query strings and path parameters arrive as text, so there numbers and booleans are read.
const base: Options = {
  useDefaults: true,
  removeAdditional: false,
  allErrors: false,
  strict: false,
};

function ajv(coerceTypes: Options['coerceTypes']): Ajv {
  const a = new Ajv({ ...base, coerceTypes });
  addFormats.default(a);
  return a;
}

export function registerValidation(app: FastifyInstance): void {
  const body = ajv(false);
  const text = ajv('array');
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? body : text).compile(schema),
  );
}
