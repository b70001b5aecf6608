import { Ajv, type Options, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance, FastifySchemaValidationError } from 'fastify';
import { NUL_MESSAGE } from './input.ts';

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

/** Where a value holds U+0000, in a string or a key, as a JSON pointer (undefined if nowhere). */
function nulAt(v: unknown, at: string): string | undefined {
  if (typeof v === 'string') return v.includes('\u0000') ? at : undefined;
  if (typeof v !== 'object' || v === null) return undefined;
  for (const [k, x] of Object.entries(v)) {
    if (k.includes('\u0000')) return `${at}/${k}`;
    const found = nulAt(x, `${at}/${k}`);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * The validator of every part a route declares a schema for. Besides the schema, a string may
 * not hold U+0000: PostgreSQL's text cannot store it, and refusing it on SQLite as well keeps
 * what one database accepts the same as the other. (Intake routes check their records one by
 * one, with `externalId`, and do not come here.)
 */
export function registerValidation(app: FastifyInstance): void {
  const body = ajv(false);
  const text = ajv('array');
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const validate = (httpPart === 'body' ? body : text).compile(schema);
    const check = Object.assign(
      (data: unknown, ctx?: Parameters<ValidateFunction>[1]) => {
        if (!validate(data, ctx)) {
          check.errors = validate.errors;
          return false;
        }
        const at = nulAt(data, '');
        if (at === undefined) return true;
        check.errors = [
          { keyword: 'nul', instancePath: at, schemaPath: '', params: {}, message: NUL_MESSAGE },
        ];
        return false;
      },
      // Fastify passes the parent object (so that the schema's defaults may apply to a missing
      // part) only to a function that carries this.
      {
        schemaEnv: validate.schemaEnv,
        errors: null as FastifySchemaValidationError[] | null | undefined,
      },
    );
    return check;
  });
}
