import { describe, expect, it } from 'vitest';
import { renderDiagnosticsText, tokenEnd } from '../../src/cli/render/diagnostics.js';
import { diagnostic } from '../../src/model/diagnostics.js';

describe('the token under the caret', () => {
  it.each([
    ['  - source: 10.0.0.0/8 # office', 12, '10.0.0.0/8'],
    ['    policies: [office, ofice]', 14, '[office, ofice]'],
    ['    policies: [office, ofice]', 23, 'ofice'],
    ['  description: "a \\" b" # c', 15, '"a \\" b"'],
    ["  description: 'it''s' ", 15, "'it''s'"],
    ['  polcies:', 2, 'polcies'],
  ])('%s at %i', (line, start, token) => {
    expect(line.slice(start, tokenEnd(line, start))).toBe(token);
  });
});

describe('text diagnostics', () => {
  it('quotes only what can be quoted: never a file that is not a mapping', () => {
    const lines = () => ['SECRET=abc'];
    const notOurs = diagnostic('error', 'E_NOT_MAPPING', "'key.yaml' must hold a YAML mapping", {
      file: 'key.yaml',
      line: 1,
      col: 1,
    });
    expect(renderDiagnosticsText([notOurs], lines).text).not.toContain('SECRET');
  });

  it('escapes control characters of the quoted line and keeps the caret under the token', () => {
    const d = diagnostic('error', 'E_INVALID_SOURCE', "'x' is not an IPv4 address", {
      file: 'a.yaml',
      line: 1,
      col: 13,
    });
    const { text } = renderDiagnosticsText([d], () => ['  # \u001b[31m - x']);
    const [, , quoted, caret] = text.split('\n');
    expect(quoted).toBe(' 1 |   # \\x1b[31m - x');
    expect(caret?.indexOf('^')).toBe(quoted?.lastIndexOf('x'));
  });
});
