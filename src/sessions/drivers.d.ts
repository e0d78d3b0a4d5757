/**
 * Minimal type declarations for the two database drivers, covering only what the stores use
 * (`@types/better-sqlite3` and `@types/pg` are not installed). The shapes follow those packages,
 * so installing them later needs no change in the stores.
 */

declare module 'better-sqlite3' {
  namespace Database {
    interface Options {
      readonly readonly?: boolean;
      readonly fileMustExist?: boolean;
      /** Busy timeout in milliseconds (default 5000). */
      readonly timeout?: number;
    }

    interface RunResult {
      readonly changes: number;
      readonly lastInsertRowid: number | bigint;
    }

    interface Statement<BindParameters extends unknown[] = unknown[], Row = unknown> {
      run(...params: BindParameters): RunResult;
      get(...params: BindParameters): Row | undefined;
      all(...params: BindParameters): Row[];
      iterate(...params: BindParameters): IterableIterator<Row>;
    }

    interface Transaction<F extends (...args: never[]) => unknown> {
      (...args: Parameters<F>): ReturnType<F>;
      deferred(...args: Parameters<F>): ReturnType<F>;
      immediate(...args: Parameters<F>): ReturnType<F>;
      exclusive(...args: Parameters<F>): ReturnType<F>;
    }

    interface PragmaOptions {
      readonly simple?: boolean;
    }

    interface Database {
      readonly open: boolean;
      readonly inTransaction: boolean;
      readonly name: string;
      readonly memory: boolean;
      prepare<BindParameters extends unknown[] = unknown[], Row = unknown>(
        source: string,
      ): Statement<BindParameters, Row>;
      transaction<F extends (...args: never[]) => unknown>(fn: F): Transaction<F>;
      pragma(source: string, options?: PragmaOptions): unknown;
      exec(source: string): this;
      close(): this;
    }

    interface SqliteError extends Error {
      readonly code: string;
    }
  }

  interface DatabaseConstructor {
    new (filename: string, options?: Database.Options): Database.Database;
    (filename: string, options?: Database.Options): Database.Database;
    readonly SqliteError: new (message: string, code: string) => Database.SqliteError;
  }

  const Database: DatabaseConstructor;
  export = Database;
}

declare module 'pg' {
  export interface QueryResultRow {
    [column: string]: unknown;
  }

  export interface QueryResult<R extends QueryResultRow = QueryResultRow> {
    readonly rows: R[];
    readonly rowCount: number | null;
    readonly command: string;
  }

  export interface PoolConfig {
    readonly connectionString?: string;
    readonly max?: number;
    readonly idleTimeoutMillis?: number;
    readonly connectionTimeoutMillis?: number;
    readonly statement_timeout?: number;
    readonly application_name?: string;
    readonly options?: string;
  }

  export interface ClientBase {
    query<R extends QueryResultRow = QueryResultRow>(
      text: string,
      values?: unknown[],
    ): Promise<QueryResult<R>>;
  }

  export interface PoolClient extends ClientBase {
    release(error?: Error | boolean): void;
  }

  export class Pool implements ClientBase {
    constructor(config?: PoolConfig);
    readonly totalCount: number;
    readonly idleCount: number;
    readonly waitingCount: number;
    readonly ended: boolean;
    connect(): Promise<PoolClient>;
    query<R extends QueryResultRow = QueryResultRow>(
      text: string,
      values?: unknown[],
    ): Promise<QueryResult<R>>;
    end(): Promise<void>;
    on(event: 'error', listener: (error: Error, client: PoolClient) => void): this;
  }

  export class Client implements ClientBase {
    constructor(config?: string | PoolConfig);
    connect(): Promise<void>;
    query<R extends QueryResultRow = QueryResultRow>(
      text: string,
      values?: unknown[],
    ): Promise<QueryResult<R>>;
    end(): Promise<void>;
  }

  export class DatabaseError extends Error {
    readonly code: string | undefined;
    readonly constraint: string | undefined;
    readonly detail: string | undefined;
    readonly table: string | undefined;
  }

  export function escapeIdentifier(identifier: string): string;
}
