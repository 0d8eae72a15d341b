import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What the secret tests look for: every 10-character piece, lower-cased, of every form in which a
 * canary could leak — as sent, base64 and base64url (any case is caught by comparing lower-cased).
 */
export function forbiddenPieces(secrets: readonly string[]): string[] {
  const out = new Set<string>();
  for (const secret of secrets) {
    const bytes = Buffer.from(secret);
    for (const form of [secret, bytes.toString('base64'), bytes.toString('base64url')]) {
      for (let i = 0; i + 10 <= form.length; i++) out.add(form.slice(i, i + 10).toLowerCase());
    }
  }
  return [...out];
}

/** The forbidden pieces found in `text`. */
export function leaks(text: string, pieces: readonly string[]): string[] {
  const lower = text.toLowerCase();
  return pieces.filter((p) => lower.includes(p));
}

/** Lines the GitHub Actions runner would run as workflow commands. */
export function workflowCommands(text: string): string[] {
  return text.split(/\r\n|\r|\n/).filter((l) => l.trimStart().startsWith('::') || l.includes('##['));
}

export function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}
