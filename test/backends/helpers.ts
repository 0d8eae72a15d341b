import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Logger } from '../../src/log.js';
import type { ApiKind, EnvironmentConfig } from '../../src/model/types.js';
import type { RetryOptions } from '../../src/backends/http.js';

/** A key that must never show up anywhere but the Authorization header. */
export const CANARY_KEY = 'essu_CANARY_d3adb33f_never_log_me';

/** Tiny backoff so retry tests stay fast. */
export const FAST_RETRY: Partial<RetryOptions> = { baseDelayMs: 5, maxDelayMs: 20, maxTotalMs: 10_000 };

export function envConfig(
  api: ApiKind,
  endpoint: string,
  extra: Partial<EnvironmentConfig> = {},
): EnvironmentConfig {
  return {
    name: `test-${api}`,
    api,
    endpoint,
    prune: false,
    protect: [],
    safety: { max_delete_percent: 30, max_dissociate_percent: 30 },
    ...extra,
  };
}

/** A debug-level pino logger writing into memory, to assert on every line it produced. */
export function memoryLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}

/** A self-signed certificate for 127.0.0.1/localhost, generated with openssl in a temp dir. */
export function selfSignedCert(): { cert: string; key: string; certFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ecfence-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    '/usr/bin/openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile };
}
