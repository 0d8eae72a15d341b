import { describe, expect, it } from 'vitest';
import {
  buildCommentBody,
  decideComment,
  findMarkedComment,
  GITHUB_COMMENT_LIMIT,
  markerFor,
  nextPageUrl,
  outcomeMarkdown,
  pullRequestNumber,
} from '../../scripts/github/comment.js';

describe('markerFor', () => {
  it('is one per working directory and environment set, whatever the order of environments', () => {
    expect(markerFor('.', [])).toBe('<!-- ecfence-plan:.:all -->');
    expect(markerFor('./infra/', ['prod', 'dev'])).toBe('<!-- ecfence-plan:infra:dev,prod -->');
    expect(markerFor('infra', ['dev', 'prod', 'dev'])).toBe(markerFor('infra', ['prod', 'dev']));
    expect(markerFor('infra', ['prod'])).not.toBe(markerFor('infra', ['dev']));
    expect(markerFor('a', ['prod'])).not.toBe(markerFor('b', ['prod']));
  });

  it('cannot end the HTML comment early', () => {
    const marker = markerFor('x -->y', ['a--b']);
    expect(marker.indexOf('-->')).toBe(marker.length - 3);
  });
});

describe('buildCommentBody', () => {
  it('starts with the hidden marker and ends with the commit and the run link', () => {
    const body = buildCommentBody({
      marker: '<!-- ecfence-plan:.:all -->',
      markdown: '### ecfence plan\n\nNo changes.\n\n',
      sha: '0123456789abcdef0123',
      runUrl: 'https://github.com/acme/infra/actions/runs/42',
    });
    expect(body).toBe(
      '<!-- ecfence-plan:.:all -->\n### ecfence plan\n\nNo changes.\n\n' +
        '<sub>ecfence plan · commit 0123456789ab · [workflow run](https://github.com/acme/infra/actions/runs/42)</sub>\n',
    );
  });

  it('never exceeds what GitHub accepts', () => {
    const body = buildCommentBody({ marker: '<!-- m -->', markdown: 'x'.repeat(100_000) });
    expect(body.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(body).toContain('**Truncated.**');
  });
});

describe('finding and deciding', () => {
  const marker = markerFor('.', ['prod']);
  const comments = [
    { id: 1, body: 'LGTM', user: { login: 'alice' } },
    { id: 2, body: `${markerFor('.', ['dev'])}\nother job`, user: { login: 'github-actions[bot]' } },
    { id: 3, body: `${marker}\nplan`, user: { login: 'mallory' } },
    { id: 4, body: `${marker}\nplan`, user: { login: 'github-actions[bot]' } },
    { id: 5, body: null, user: null },
  ];

  it('finds the first comment with exactly this marker, optionally by one author', () => {
    expect(findMarkedComment(comments, marker)?.id).toBe(3);
    expect(findMarkedComment(comments, marker, 'github-actions[bot]')?.id).toBe(4);
    expect(findMarkedComment(comments, markerFor('.', ['stage']))).toBeUndefined();
  });

  it('creates when there is none, updates in place when different, and leaves an identical one alone', () => {
    expect(decideComment(undefined, 'b')).toEqual({ kind: 'create', body: 'b' });
    expect(decideComment({ id: 7, body: 'a' }, 'b')).toEqual({ kind: 'update', id: 7, body: 'b' });
    expect(decideComment({ id: 7, body: 'b' }, 'b')).toEqual({ kind: 'unchanged', id: 7 });
  });
});

describe('GitHub payloads', () => {
  it('reads the next page from a Link header', () => {
    const link =
      '<https://api.github.com/repositories/1/issues/5/comments?page=1>; rel="prev", ' +
      '<https://api.github.com/repositories/1/issues/5/comments?page=3>; rel="next", ' +
      '<https://api.github.com/repositories/1/issues/5/comments?page=9>; rel="last"';
    expect(nextPageUrl(link)).toBe('https://api.github.com/repositories/1/issues/5/comments?page=3');
    expect(nextPageUrl('<https://x/?page=1>; rel="first"')).toBeUndefined();
    expect(nextPageUrl(null)).toBeUndefined();
  });

  it('takes the pull-request number from pull_request and issue_comment events only', () => {
    expect(pullRequestNumber({ pull_request: { number: 12 } })).toBe(12);
    expect(pullRequestNumber({ issue: { number: 13, pull_request: {} } })).toBe(13);
    expect(pullRequestNumber({ issue: { number: 14 } })).toBeUndefined();
    expect(pullRequestNumber({ ref: 'refs/heads/main' })).toBeUndefined();
  });
});

describe('outcomeMarkdown: the comment tells every outcome, never an earlier plan', () => {
  const base = { markdown: '', log: '', fork: false };
  it('shows the plan for changes, no changes and a refusal', () => {
    for (const exitCode of [0, 2, 4]) {
      expect(outcomeMarkdown({ ...base, exitCode, markdown: '### ecfence plan\n\nNo changes.\n' })).toBe(
        '### ecfence plan\n\nNo changes.',
      );
    }
  });

  it('says what went wrong otherwise, with what ecfence said', () => {
    const invalid = outcomeMarkdown({ ...base, exitCode: 3, log: 'a.yaml:1:1: error E_SCHEMA x\n' });
    expect(invalid).toMatch(/^### ecfence plan: invalid input\n\nNothing was planned/);
    expect(invalid).toContain('```text\na.yaml:1:1: error E_SCHEMA x\n```');
    expect(outcomeMarkdown({ ...base, exitCode: 1, log: 'error: GET /x → 503' })).toMatch(
      /^### ecfence plan: error\n/,
    );
    expect(outcomeMarkdown({ ...base, exitCode: 137 })).toMatch(/^### ecfence plan: failed \(exit 137\)/);
    expect(outcomeMarkdown({ ...base, exitCode: undefined })).toMatch(/^### ecfence plan: not run\n/);
    expect(outcomeMarkdown({ ...base, exitCode: 0, fork: true })).toMatch(
      /^### ecfence plan: validated only \(pull request from a fork\)\n\nThere is no plan: GitHub gives .* They are valid\./,
    );
  });

  it('quotes a log no backtick run can break out of, and breaks markers quoted in it', () => {
    const text = outcomeMarkdown({ ...base, exitCode: 3, log: 'x ````` y\n<!-- ecfence-plan:.:all -->' });
    expect(text).toContain('``````text\n');
    const body = buildCommentBody({ marker: markerFor('.', []), markdown: text });
    expect(body.split('<!-- ecfence-plan:')).toHaveLength(2);
  });
});
