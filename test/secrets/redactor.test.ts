import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeMarkdown } from '../../src/cli/render/markdown.js';
import { REDACTED, Redactor } from '../../src/secrets/redactor.js';
import { escapeWorkflowProperty } from '../../src/secrets/untrusted-text.js';

const KEY = 'essu_CANARY/key+8f2a"c\\9:d,e%1b7';
const USER = 'canary-admin';
const PASSWORD = 'CANARY-pass-w0rd-5e1c9a7b3d';

function redactor(): Redactor {
  const r = new Redactor();
  r.add(KEY);
  r.addBasic(USER, PASSWORD);
  return r;
}

/** Every 10-character piece of the secret, in lower case: what no output may contain. */
function pieces(secret: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 10 <= secret.length; i++) out.push(secret.slice(i, i + 10).toLowerCase());
  return out;
}

function expectNoPiece(text: string, secret: string): void {
  const lower = text.toLowerCase();
  for (const p of pieces(secret)) expect(lower.includes(p), `'${p}' in ${text}`).toBe(false);
}

/** Decodes every run between markers at each alignment, as someone reading base64 would. */
function decodedRuns(text: string): string[] {
  return text.split(REDACTED).flatMap((run) =>
    [0, 1, 2, 3].map((skip) =>
      Buffer.from(
        run
          .slice(skip)
          .replace(/[^A-Za-z0-9+/_-]/g, '')
          .replace(/-/g, '+')
          .replace(/_/g, '/'),
        'base64',
      ).toString('latin1'),
    ),
  );
}

describe('Redactor.scrub', () => {
  it('redacts a key as sent, in any case, escaped for JSON, Markdown, a URL or a workflow command', () => {
    const r = redactor();
    const forms = [
      KEY,
      KEY.toUpperCase(),
      KEY.toLowerCase(),
      JSON.stringify(KEY).slice(1, -1),
      JSON.stringify(KEY).replace(/\//g, '\\/'),
      escapeMarkdown(KEY),
      encodeURIComponent(KEY),
      escapeWorkflowProperty(KEY),
      `ApiKey ${KEY}`,
    ];
    for (const form of forms) {
      const out = r.scrub(`before ${form} after`);
      expect(out, form).toContain(REDACTED);
      expectNoPiece(out, KEY);
    }
  });

  it('redacts base64 of a secret wherever it sits in a longer base64 text', () => {
    const r = redactor();
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 7 }),
        fc.uint8Array({ maxLength: 7 }),
        fc.boolean(),
        (a, b, url) => {
          for (const secret of [KEY, PASSWORD, `${USER}:${PASSWORD}`]) {
            const encoded = Buffer.concat([Buffer.from(a), Buffer.from(secret), Buffer.from(b)]).toString(
              url ? 'base64url' : 'base64',
            );
            const out = r.scrub(encoded);
            for (const decoded of decodedRuns(out)) expectNoPiece(decoded, secret);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('redacts the Basic header value, user:password, and the password alone; a short user name only inside those', () => {
    const r = new Redactor();
    r.addBasic('adm', PASSWORD);
    const header = Buffer.from(`adm:${PASSWORD}`).toString('base64');
    expect(r.scrub(`Basic ${header}`)).toBe(`Basic ${REDACTED}`);
    expect(r.scrub(`adm:${PASSWORD}`)).toBe(REDACTED);
    expect(r.scrub(`password ${PASSWORD}`)).toBe(`password ${REDACTED}`);
    expect(r.scrub('the adm team')).toBe('the adm team');
  });

  it('redacts an API key that is base64 of id:key decoded as well', () => {
    const r = new Redactor();
    const decoded = 'VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw';
    r.add(Buffer.from(decoded).toString('base64'));
    expect(r.scrub(`id and key: ${decoded}`)).toBe(`id and key: ${REDACTED}`);
  });

  it('changes nothing when no secret is registered, or none is in the text', () => {
    expect(new Redactor().scrub(KEY)).toBe(KEY);
    expect(redactor().scrub('plan: 3 to create')).toBe('plan: 3 to create');
  });
});

describe('Redactor.cut', () => {
  it('never leaves part of a key at the cut, wherever the key straddles it', () => {
    const r = redactor();
    for (const secret of [KEY, PASSWORD]) {
      for (let before = 500 - secret.length - 2; before <= 502; before++) {
        const out = r.cut(`${'x'.repeat(before)}${secret}${'y'.repeat(40)}`, 500);
        expectNoPiece(out, secret);
        for (let k = 4; k <= secret.length; k++)
          expect(out.includes(secret.slice(0, k)), `${before}/${k}`).toBe(false);
        expect(out.endsWith('…')).toBe(true);
      }
    }
  });

  it('removes a start of a key left at the end of the kept text, and never cuts a marker in half', () => {
    const r = redactor();
    // A server that sends only the first part of the key, right at the cut.
    const start = KEY.slice(0, 9);
    expect(r.cut(`${'x'.repeat(496)}${start}zzzz`, 500)).toBe(`${'x'.repeat(496)}${REDACTED}…`);
    const marker = r.cut(`${'x'.repeat(495)}${KEY} tail`, 500);
    expect(marker).toBe(`${'x'.repeat(495)}${REDACTED}…`);
  });

  it('does not cut what fits', () => {
    expect(redactor().cut('short', 500)).toBe('short');
  });
});

describe('Redactor.scrubParsed', () => {
  it('scrubs every string of parsed JSON, keys included, also when the server hid letters in \\u escapes', () => {
    const r = redactor();
    const hidden = [...PASSWORD].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
    const raw = `{"name":"${hidden}","items":[{"${hidden}":1,"d":"x ${hidden}"}]}`;
    const out = r.scrubParsed(JSON.parse(raw) as unknown, raw);
    expect(out).toEqual({ name: REDACTED, items: [{ [REDACTED]: 1, d: `x ${REDACTED}` }] });
  });

  it('returns the value itself when nothing can be in it', () => {
    const value = { name: 'office' };
    expect(redactor().scrubParsed(value, JSON.stringify(value))).toBe(value);
  });
});
