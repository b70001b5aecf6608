import { type Compilable, CompiledQuery, type Kysely, type QueryResult } from 'kysely';

/**
 * A multi-row statement built once by Kysely per row count and then re-run with fresh
 * parameters. Building a 256-row INSERT through the query builder costs microseconds per row,
 * more than SQLite takes to store it; on the ingest path that would be the bottleneck.
 */
export class BulkStatement<Row, DB> {
  private readonly sqlByRows = new Map<number, string>();

  constructor(
    /** the row's fields in the order the builder receives them */
    private readonly columns: readonly (keyof Row & string)[],
    private readonly build: (db: Kysely<DB>, rows: Row[]) => Compilable,
  ) {}

  private sqlFor(db: Kysely<DB>, rows: Row[]): string {
    let text = this.sqlByRows.get(rows.length);
    if (text === undefined) {
      const ordered = rows.map(
        (r) => Object.fromEntries(this.columns.map((c) => [c, r[c]])) as Row,
      );
      const compiled = this.build(db, ordered).compile();
      // The parameters must be exactly the row values, row by row, for re-binding to be right.
      if (compiled.parameters.length !== rows.length * this.columns.length) {
        throw new Error(
          `BulkStatement: ${compiled.parameters.length} parameters for ${rows.length} rows`,
        );
      }
      text = compiled.sql;
      this.sqlByRows.set(rows.length, text);
    }
    return text;
  }

  async execute<O = unknown>(db: Kysely<DB>, rows: Row[]): Promise<QueryResult<O>> {
    const text = this.sqlFor(db, rows);
    const cols = this.columns;
    const params = new Array<unknown>(rows.length * cols.length);
    let k = 0;
    for (const r of rows) for (const c of cols) params[k++] = r[c];
    return db.executeQuery<O>(CompiledQuery.raw(text, params));
  }
}
