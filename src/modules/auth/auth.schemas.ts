import { Type } from 'typebox';
import { SCOPES } from './auth.table.ts';

const Email = Type.String({ minLength: 3, maxLength: 254, format: 'email' });
const Password = Type.String({ minLength: 1, maxLength: 1024 });

export const LoginBody = Type.Object(
  { email: Type.String({ minLength: 1, maxLength: 254 }), password: Password },
  { additionalProperties: false },
);

export const TokenPair = Type.Object({
  access_token: Type.String(),
  refresh_token: Type.String(),
  token_type: Type.Literal('bearer'),
  expires_in: Type.Integer({ description: 'seconds the access token lives' }),
});

export const LoginResponse = Type.Union([
  TokenPair,
  Type.Object({ mfa_required: Type.Literal(true), mfa_token: Type.String() }),
]);

export const MfaBody = Type.Object(
  {
    mfa_token: Type.String({ minLength: 1, maxLength: 4096 }),
    code: Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'a 6-digit code or a backup code',
    }),
  },
  { additionalProperties: false },
);

export const RefreshBody = Type.Object(
  { refresh_token: Type.String({ minLength: 1, maxLength: 512 }) },
  { additionalProperties: false },
);

export const SetupBody = Type.Object(
  {
    setup_token: Type.String({ minLength: 1, maxLength: 512 }),
    email: Email,
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    password: Password,
  },
  { additionalProperties: false },
);

export const SetupStatus = Type.Object({
  setup_needed: Type.Boolean({ description: 'true while no account exists' }),
});

export const PasswordBody = Type.Object(
  { current_password: Password, new_password: Password },
  { additionalProperties: false },
);

export const PasswordOnlyBody = Type.Object(
  { password: Password },
  { additionalProperties: false },
);

export const CodeBody = Type.Object(
  { code: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);

export const DisableBody = Type.Object(
  { password: Password, code: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);

export const TwoFactorSetup = Type.Object({
  secret: Type.String({ description: 'base32, for typing into an authenticator by hand' }),
  otpauth_uri: Type.String(),
  qr_code: Type.String({ description: 'PNG data URL of the otpauth URI' }),
});

export const TwoFactorState = Type.Object({
  enabled: Type.Boolean(),
  backup_codes: Type.Optional(Type.Array(Type.String(), { description: 'shown once' })),
});

export const Scope = Type.Union([
  Type.Literal('metrics:write'),
  Type.Literal('events:write'),
  Type.Literal('analytics:read'),
  Type.Literal('export:read'),
  Type.Literal('admin'),
]);

export const ApiKeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    scopes: Type.Array(Scope, { minItems: 1, maxItems: SCOPES.length }),
    class_ids: Type.Optional(
      Type.Union([
        Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { minItems: 1, maxItems: 1000 }),
        Type.Null(),
      ]),
    ),
    expires_at: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
  },
  { additionalProperties: false },
);

export const ApiKeyOut = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String(),
  scopes: Type.Array(Scope),
  class_ids: Type.Union([Type.Array(Type.String()), Type.Null()]),
  expires_at: Type.Union([Type.String(), Type.Null()]),
  last_used_at: Type.Union([Type.String(), Type.Null()]),
  created_by: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
  revoked_at: Type.Union([Type.String(), Type.Null()]),
});

export const ApiKeyCreated = Type.Intersect([
  ApiKeyOut,
  Type.Object({ key: Type.String({ description: 'the secret: shown this once only' }) }),
]);

export const ApiKeyList = Type.Object({ api_keys: Type.Array(ApiKeyOut) });
export const ApiKeyListQuery = Type.Object({
  include_revoked: Type.Optional(Type.Boolean()),
});
export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
