import { Type } from 'typebox';

export const RoleSchema = Type.Union([
  Type.Literal('admin'),
  Type.Literal('instructor'),
  Type.Literal('learner'),
]);

const LearnerId = Type.String({ minLength: 1, maxLength: 128 });
const Email = Type.String({ minLength: 3, maxLength: 254, format: 'email' });

export const UserOut = Type.Object({
  id: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  name: Type.String(),
  role: RoleSchema,
  learner_id: Type.Union([Type.String(), Type.Null()]),
  active: Type.Boolean(),
  two_factor_enabled: Type.Boolean(),
  can_sign_in: Type.Boolean({ description: 'false until the account has an email and a password' }),
  created_at: Type.String(),
  updated_at: Type.String(),
});

export const CreateUserBody = Type.Object(
  {
    email: Type.Optional(Type.Union([Email, Type.Null()])),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    password: Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Null()])),
    role: RoleSchema,
    learner_id: Type.Optional(Type.Union([LearnerId, Type.Null()])),
  },
  { additionalProperties: false },
);

export const PatchUserBody = Type.Object(
  {
    email: Type.Optional(Type.Union([Email, Type.Null()])),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    role: Type.Optional(RoleSchema),
    learner_id: Type.Optional(Type.Union([LearnerId, Type.Null()])),
    active: Type.Optional(Type.Boolean()),
    password: Type.Optional(
      Type.String({ maxLength: 1024, description: 'an administrator reset' }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const UserListQuery = Type.Object({
  role: Type.Optional(RoleSchema),
  active: Type.Optional(Type.Boolean()),
  q: Type.Optional(
    Type.String({ maxLength: 200, description: 'part of a name or email, or a learner id' }),
  ),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  // Bounded: SQL takes a 64-bit offset, and JSON numbers past 2^53 are not exact anyway.
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 0 })),
});

export const UserList = Type.Object({ users: Type.Array(UserOut) });
export const UserIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const MemberParams = Type.Object({
  class_id: Type.String({ minLength: 1, maxLength: 512 }),
  user_id: Type.String({ minLength: 1, maxLength: 64, description: 'the account id' }),
});

export const MemberOut = Type.Object({
  class_id: Type.String(),
  user_id: Type.String(),
  role: Type.Union([Type.Literal('instructor'), Type.Literal('learner')]),
  created: Type.Boolean(),
});

export const MemberList = Type.Object({
  class_id: Type.String(),
  members: Type.Array(
    Type.Object({
      user_id: Type.String(),
      role: Type.String(),
      added_at: Type.String(),
      name: Type.String(),
      email: Type.Union([Type.String(), Type.Null()]),
      learner_id: Type.Union([Type.String(), Type.Null()]),
      active: Type.Boolean(),
    }),
  ),
});

const RowErrors = Type.Array(Type.Object({ field: Type.String(), message: Type.String() }));

export const RosterReport = Type.Object({
  rows: Type.Integer(),
  users_created: Type.Integer(),
  users_updated: Type.Integer(),
  memberships_added: Type.Integer(),
  rejected: Type.Array(Type.Object({ line: Type.Integer(), errors: RowErrors })),
});
