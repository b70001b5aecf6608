/** The few places where SQLite and PostgreSQL differ. */
export type Dialect = 'sqlite' | 'postgres';
