import { createRequire } from 'node:module';
import type * as Pino from 'pino';
import type { Redactor } from './secrets/redactor.js';
import { defuseWorkflowCommands, escapeJsonText, oneLine } from './secrets/untrusted-text.js';

/** Logs an object (structured fields) with a message, or a message alone. */
export type LogFn = (obj: object | string, msg?: string) => void;

/** The logging ecfence does: pino's interface, the part of it the code uses. */
export interface Logger {
  fatal: LogFn;
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  trace: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
type Level = (typeof LEVELS)[number];

/** `text`: one readable line per event, for people; `json`: pino's JSON lines, for log tooling. */
export type LogFormat = 'text' | 'json';

/**
 * Structured logs on stderr (stdout carries only the product). Credentials are redacted by path
 * here, and the HTTP layer never puts a key in a log object in the first place; every line is
 * then scrubbed by the run's `redactor` as it is written (a final write, issue 22), after its
 * controls are escaped (as JSON, or onto one line as text) and its workflow commands defused.
 * The events are the same in both formats: `text` writes each as `warning: message (key=value, …)`.
 *
 * pino is loaded when the first message at an enabled level is logged: at the default level
 * (`warn`) most runs log nothing and never pay for loading it.
 */
export function createLogger(
  level: string = process.env['ECFENCE_LOG_LEVEL'] ?? 'warn',
  redactor?: Redactor,
  format: LogFormat = 'text',
): Logger {
  let root: Pino.Logger | undefined;
  const materialise = (): Pino.Logger => (root ??= pinoLogger(level, redactor, format));
  return lazyLogger(level, (bindings) => {
    const logger = materialise();
    return bindings.length === 0 ? logger : bindings.reduce((l, b) => l.child(b), logger);
  });
}

/** A logger that drops everything: for tests and in-process library use. */
export function silentLogger(): Logger {
  return lazyLogger('silent', () => {
    throw new Error('a silent logger never logs');
  });
}

function lazyLogger(
  level: string,
  resolve: (bindings: readonly Record<string, unknown>[]) => Pino.Logger,
  bindings: readonly Record<string, unknown>[] = [],
): Logger {
  const threshold = (LEVELS as readonly string[]).indexOf(level);
  let target: Pino.Logger | undefined;
  const at = (name: Level): LogFn => {
    if (threshold === -1 || LEVELS.indexOf(name) < threshold) return () => undefined;
    return (obj, msg) => {
      target ??= resolve(bindings);
      if (typeof obj === 'string') target[name](obj);
      else target[name](obj, msg);
    };
  };
  return {
    fatal: at('fatal'),
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    trace: at('trace'),
    child: (more) => lazyLogger(level, resolve, [...bindings, more]),
  };
}

function pinoLogger(level: string, redactor: Redactor | undefined, format: LogFormat): Pino.Logger {
  const { pino } = createRequire(import.meta.url)('pino') as typeof Pino;
  const stderr = pino.destination({ fd: 2, sync: true });
  const scrub = (text: string): string => (redactor ? redactor.scrub(text) : text);
  const scrubbed = {
    write: (line: string) =>
      stderr.write(
        format === 'json'
          ? scrub(escapeJsonText(line))
          : `${scrub(defuseWorkflowCommands(oneLine(textLine(line))))}\n`,
      ),
  };
  return pino(
    {
      level,
      base: undefined,
      redact: {
        paths: [
          'authorization',
          'headers.authorization',
          'req.headers.authorization',
          'request.headers.authorization',
          'options.headers.authorization',
          '*.authorization',
          'apiKey',
          'password',
        ],
        censor: '[redacted]',
      },
    },
    scrubbed,
  );
}

/** pino's numeric levels, as a person reads them. */
const LEVEL_LABELS: Readonly<Record<number, string>> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warning',
  50: 'error',
  60: 'fatal',
};

/** One JSON line pino wrote, as `warning: operation failed (env=prod, op=…, reason=…)`. */
export function textLine(json: string): string {
  const { level, msg, time: _time, ...fields } = JSON.parse(json) as Record<string, unknown>;
  const label = LEVEL_LABELS[Number(level)] ?? String(level);
  const details = Object.entries(fields).map(
    ([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`,
  );
  return `${label}: ${String(msg ?? '')}${details.length > 0 ? ` (${details.join(', ')})` : ''}`;
}
