import { describe, expect, it } from 'vitest';
import { MARKDOWN_LIMIT, renderPlanMarkdown } from '../../src/cli/render/markdown.js';
import { renderPlan } from '../../src/cli/render/index.js';
import { desiredEnv, liveEnv, livePolicy, planOne, policy, rule } from '../support/core-fixtures.js';
import { emptyPlan, everyActionPlan, hugePlan, refusedPlan, serverlessPlan } from './scenarios.js';

const count = (text: string, needle: string): number => text.split(needle).length - 1;

/** Every `<details` is closed, and never closed before it is opened. */
function expectBalancedDetails(md: string): void {
  let depth = 0;
  for (const m of md.matchAll(/<details[ >]|<\/details>/g)) {
    depth += m[0] === '</details>' ? -1 : 1;
    expect(depth).toBeGreaterThanOrEqual(0);
    expect(depth).toBeLessThanOrEqual(1);
  }
  expect(depth).toBe(0);
}

describe('renderPlanMarkdown', () => {
  it('has a summary table per environment and groups operations by action, in plan order', () => {
    const md = renderPlanMarkdown(everyActionPlan());
    expect(md).toContain(
      '| Environment | create | replace | update | associate | dissociate | delete | total |',
    );
    expect(md).toContain('| prod | 4 | 1 | 1 | 3 | 3 | 2 | 14 |');
    expect(md).toContain('#### prod: 14 operation(s)');
    const groups = [...md.matchAll(/<summary><b>(\w+)<\/b> \((\d+)\)<\/summary>/g)].map(
      (m) => `${m[1]}:${m[2]}`,
    );
    expect(groups).toEqual(['create:4', 'replace:1', 'update:1', 'associate:3', 'dissociate:3', 'delete:2']);
    expectBalancedDetails(md);
  });

  it('shows field changes and rule deltas of updates in a diff block', () => {
    const md = renderPlanMarkdown(everyActionPlan());
    const update = md.slice(md.indexOf('<b>update</b>'), md.indexOf('<b>associate</b>'));
    expect(update).toContain('us-east-1/office (ip, P-OFFICE)');
    expect(update).toContain('```diff');
    expect(update).toContain('description: "Office" → "Office | VPN <b>"');
    expect(update).toContain('include_by_default: false → true');
    expect(update).toMatch(/^ {2}\+ 172\.16\.0\.0\/12 "new `range`"$/m);
    expect(update).toMatch(/^ {2}- 192\.168\.0\.1$/m);
    // The unchanged rule is not listed as a change.
    expect(update).not.toContain('10.0.0.0/8');
    const replace = md.slice(md.indexOf('<b>replace</b>'), md.indexOf('<b>update</b>'));
    expect(replace).toContain('type: "ip" → "vpce"');
  });

  it('puts refusals (with how to override) and notes before the operations', () => {
    const md = renderPlanMarkdown(refusedPlan());
    const caution = md.indexOf('[!CAUTION]');
    const table = md.indexOf('| Environment |');
    const ops = md.indexOf('#### prod');
    expect(caution).toBeGreaterThan(0);
    expect(caution).toBeLessThan(table);
    expect(md).toContain('**2 refusal(s): `apply` will refuse this plan (exit 4).**');
    expect(md).toContain('**unfiltered_target** in prod: deployment t1 would be left with no ingress policy');
    expect(md).toContain('To override: declare an ingress policy for it');
    expect(md).toContain('**ambiguous_policy** in prod (only its own operations are skipped)');
    const note = md.indexOf('[!NOTE]');
    expect(note).toBeGreaterThan(table);
    expect(note).toBeLessThan(ops);
    expect(md).toContain("ambiguous: 2 live policies named 'dup' in us-east-1: D1, D2");
  });

  it('lists unmanaged policies and associations as notes (serverless projects)', () => {
    const md = renderPlanMarkdown(serverlessPlan());
    expect(md).toContain('Unmanaged policies (left untouched):');
    expect(md).toContain(
      'unmanaged policy legacy (F-UNMANAGED) stays on project elasticsearch/0123456789abcdef0123456789abcdef',
    );
    expect(md).toContain('→ project elasticsearch/0123456789abcdef0123456789abcdef');
  });

  it('says so when there is nothing to do', () => {
    const md = renderPlanMarkdown(emptyPlan());
    expect(md).toContain('**No changes. Live state matches the configuration.**');
    expect(md).not.toContain('<details');
  });

  it('a plan whose only finding is a refusal never says it is in sync (markdown, text, JSON)', () => {
    // Two live copies of 'dup' that differ: refused, and nothing else to do.
    const live = [
      livePolicy('D1', 'dup', { rules: [rule('10.0.0.1')] }),
      livePolicy('D2', 'dup', { rules: [rule('10.0.0.2')] }),
    ];
    const { plan } = planOne(desiredEnv({ policies: [policy('dup')] }), liveEnv(live));
    expect(plan.summary).toMatchObject({ total: 0, refused: 1 });
    const outputs = (['markdown', 'text', 'json'] as const).map((f) => renderPlan(plan, f, { color: false }));
    for (const out of outputs) {
      expect(out).not.toMatch(/no changes|matches the configuration/i);
    }
    expect(outputs[0]).toContain(
      '**No operations, 1 refusal: live state differs from the configuration until it is resolved.**',
    );
    expect(outputs[1]).toContain('prod: no operations, 1 refused');
    expect(JSON.parse(outputs[2] ?? '')).toMatchObject({ summary: { total: 0, refused: 1 } });
  });

  it('does not let names from the API or YAML become markup', () => {
    const nasty = 'x</summary></details><img src=x onerror=alert(1)>|*[link](http://evil)';
    const { plan } = planOne(
      desiredEnv({ policies: [policy(nasty, { rules: [rule('10.0.0.0/8', nasty)] })] }),
      liveEnv(),
    );
    const md = renderPlanMarkdown(plan);
    expectBalancedDetails(md);
    expect(md).not.toMatch(/(?<!\\)<img/);
    expect(md).not.toMatch(/(?<!\\)\]\(http/);
    expect(md).toContain(
      'x\\</summary\\>\\</details\\>\\<img src=x onerror=alert(1)\\>\\|\\*\\[link\\](http://evil)',
    );
  });

  it('keeps a backtick run in a rule description from closing its code block', () => {
    const live = [livePolicy('P1', 'office', { rules: [rule('10.0.0.0/8')] })];
    const desired = desiredEnv({ policies: [policy('office', { rules: [rule('10.0.0.0/8', '```\n<b>')] })] });
    const md = renderPlanMarkdown(planOne(desired, liveEnv(live)).plan);
    expect(md).toContain('````diff');
    expectBalancedDetails(md);
  });

  it('stays within 60,000 characters and says that the full plan is in the JSON plan file', () => {
    const plan = hugePlan(3000);
    const md = renderPlanMarkdown(plan);
    expect(md.length).toBeLessThanOrEqual(MARKDOWN_LIMIT);
    const shown = count(md, '- `+` ');
    expect(shown).toBeGreaterThan(100);
    expect(shown).toBeLessThan(3000);
    expect(md).toContain(`**This comment is truncated: ${shown} of 3000 operations are shown.**`);
    expect(md).toContain('ecfence plan --out plan.json');
    expectBalancedDetails(md);
    // The verdict and the table are never cut.
    expect(md).toContain('| prod | 3000 | 0 | 0 | 0 | 0 | 0 | 3000 |');
  });

  it('respects a smaller limit and does not truncate a plan that fits', () => {
    const plan = everyActionPlan();
    const full = renderPlanMarkdown(plan);
    expect(full).not.toContain('truncated');
    const small = renderPlanMarkdown(plan, { limit: 1500 });
    expect(small.length).toBeLessThanOrEqual(1500);
    expect(small).toMatch(/truncated: \d+ of 14 operations are shown/);
    expectBalancedDetails(small);
  });
});

describe('renderPlan', () => {
  it('--format markdown is the Markdown renderer', () => {
    const plan = refusedPlan();
    expect(renderPlan(plan, 'markdown', { color: true })).toBe(renderPlanMarkdown(plan));
  });
});
