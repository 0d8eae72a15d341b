import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured logs on stderr (stdout carries only the product). Credentials are redacted by path
 * here, and the HTTP layer never puts a key in a log object in the first place.
 */
export function createLogger(level: string = process.env['ECFENCE_LOG_LEVEL'] ?? 'warn'): Logger {
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
    pino.destination({ fd: 2, sync: true }),
  );
}

/** A logger that drops everything: for tests and in-process library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
