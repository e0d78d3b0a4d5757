/**
 * A secret from the environment (an API key): kept out of every rendering of the configuration —
 * `JSON.stringify`, `String(…)`, template strings, `console.log`/`util.inspect` and pino all see
 * `[redacted]`. The one way to the value is `reveal()`, called where it is handed to a client.
 */
const REDACTED = '[redacted]';

export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
    Object.freeze(this);
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Secret(${REDACTED})`;
  }
}
