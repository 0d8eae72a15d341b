import { describe, expect, it } from 'vitest';
import { closest, editDistance } from '../../src/model/suggest.js';

describe('did-you-mean', () => {
  it('counts a swap of neighbours as one edit, and ignores case', () => {
    expect(editDistance('plna', 'plan')).toBe(1);
    expect(editDistance('evn', 'env')).toBe(1);
    expect(editDistance('Prod', 'prod')).toBe(0);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('suggests the nearest name only when it is plausibly a typo', () => {
    const commands = ['validate', 'plan', 'apply', 'export', 'explain'];
    expect(closest('plna', commands)).toBe('plan');
    expect(closest('exlpain', commands)).toBe('explain');
    expect(closest('aply', commands)).toBe('apply');
    expect(closest('deploy', commands)).toBeUndefined();
    expect(closest('plan', commands)).toBeUndefined();
    expect(closest('hosted-prd', ['hosted-prod', 'hosted-staging'])).toBe('hosted-prod');
  });
});
