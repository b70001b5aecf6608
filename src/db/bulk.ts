import {
  type Compilable,
  CompiledQuery,
  type Kysely,
  type QueryResult,
  type RawBuilder,
  sql,
} from 'kysely';

/** PostgreSQL types of the columns a BulkStatement sends, one array parameter each. */
export type PgColumnType =
  'text' | 'smallint' | 'integer' | 'bigint' | 'double precision' | 'bit varying';

/**
 * A PostgreSQL statement over any number of rows, sent as one array parameter per column:
 * `insert into t (a, b) select * from unnest($1::text[], $2::bigint[]) … on conflict …`.
 * Kysely builds it once; every run re-binds the arrays. A flush of thousands of rows is then
 * one round trip with a statement of a few dozen characters, rather than one multi-row
 * VALUES statement (thousands of placeholders, parsed and planned anew) per few hundred rows.
 */
export class BulkStatement<Row, DB> {
  private text: string | undefined;
  private readonly columns: readonly (keyof Row & string)[];

  constructor(
    /** the columns, in the order of the builder's column list, with their types */
    private readonly types: readonly (readonly [keyof Row & string, PgColumnType])[],
    /**
     * the statement, with `rows` a SELECT of the rows whose columns are `columns`, named and
     * ordered as in `types` (an INSERT lists `columns` as its own, so that the order is one)
     */
    private readonly build: (
      db: Kysely<DB>,
      rows: RawBuilder<Row>,
      columns: readonly (keyof Row & string)[],
    ) => Compilable,
  ) {
    this.columns = types.map(([c]) => c);
  }

  private sqlFor(db: Kysely<DB>): string {
    if (this.text === undefined) {
      const arrays = this.types.map(([, t]) => sql`${[]}::${sql.raw(t)}[]`);
      const names = sql.join(this.columns.map((c) => sql.ref(c)));
      const rows = sql<Row>`select * from unnest(${sql.join(arrays)}) as rows(${names})`;
      const compiled = this.build(db, rows, this.columns).compile();
      // The parameters must be exactly the column arrays, in order, for re-binding to be right.
      if (compiled.parameters.length !== this.columns.length) {
        throw new Error(
          `BulkStatement: ${compiled.parameters.length} parameters for ${this.columns.length} columns`,
        );
      }
      this.text = compiled.sql;
    }
    return this.text;
  }

  async execute<O = unknown>(db: Kysely<DB>, rows: readonly Row[]): Promise<QueryResult<O>> {
    const text = this.sqlFor(db);
    const params = this.columns.map((c) => {
      const column = new Array<unknown>(rows.length);
      for (let i = 0; i < rows.length; i++) column[i] = rows[i]![c];
      return column;
    });
    return db.executeQuery<O>(CompiledQuery.raw(text, params));
  }
}
