import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/secrets/redactor.js';
import { escapeJsonText, oneLine, safeOutput, toSafeJson } from '../../src/secrets/untrusted-text.js';
import { workflowCommands } from './canaries.js';

const hostile = fc.array(
  fc.oneof(
    fc.string(),
    fc.constantFrom(
      '\n',
      '\r',
      '\r\n',
      ' \t',
      '\u00a0',
      '\u2028',
      '\u001b[2J',
      '\u202e',
      '::',
      '::error::x',
      '##[',
      '#',
    ),
  ),
  { maxLength: 12 },
);

describe('untrusted text in output', () => {
  it('oneLine keeps text on one line and writes controls as escapes', () => {
    expect(oneLine('a\nb\r::error::x\u001b]8;;http://evil\u0007\u202e')).toBe(
      'a\\nb\\r::error::x\\x1b]8;;http://evil\\x07\\u202e',
    );
    fc.assert(
      fc.property(hostile, (parts) => {
        expect(oneLine(parts.join(''))).not.toMatch(/[\r\n\u2028\u2029]/);
      }),
    );
  });

  it('no output line can be a workflow command, whatever the text holds', () => {
    const redactor = new Redactor();
    fc.assert(
      fc.property(hostile, fc.boolean(), (parts, terminal) => {
        expect(workflowCommands(safeOutput(redactor, parts.join(''), terminal))).toEqual([]);
      }),
    );
    expect(safeOutput(redactor, '  ::error title=Injected::x\nok ##[add-mask]y\n', false)).toBe(
      '  \\::error title=Injected::x\nok ##\\u005badd-mask]y\n',
    );
  });

  it('keeps colour codes and carriage returns on a terminal only', () => {
    const redactor = new Redactor();
    const text = '\u001b[31mred\u001b[0m\rprogress';
    expect(safeOutput(redactor, text, true)).toBe(text);
    expect(safeOutput(redactor, text, false)).toBe('\\x1b[31mred\\x1b[0m\\rprogress');
  });

  it('JSON stays the same data, with nothing left to escape or defuse', () => {
    fc.assert(
      fc.property(fc.jsonValue(), hostile, (value, parts) => {
        const data = { value, text: parts.join('') };
        const json = toSafeJson(data);
        expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(data)));
        expect(safeOutput(new Redactor(), json, false)).toBe(json);
      }),
    );
    expect(escapeJsonText('"##[x\u2028"')).toBe('"##\\u005bx\\u2028"');
  });
});
