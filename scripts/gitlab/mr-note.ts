/**
 * `node dist/ci/gitlab-note.js`: the GitLab side of the plan comment. Tells the merge request what
 * the plan job came to as ONE note that later pipelines update in place (found by the same hidden
 * marker as on GitHub, per working directory and environment set). Every outcome is told (see
 * `outcomeMarkdown`), so the note never shows an earlier pipeline's plan.
 *
 * The outcome: ECFENCE_EXIT_CODE, ECFENCE_PLAN_MD, ECFENCE_LOG, ECFENCE_FORK (as on GitHub).
 * Environment: ECFENCE_GITLAB_TOKEN (a project or group access token with the `api` scope: the
 * job token cannot write notes), CI_API_V4_URL, CI_PROJECT_ID, CI_MERGE_REQUEST_IID, CI_COMMIT_SHA,
 * CI_JOB_URL; ECFENCE_WORKING_DIRECTORY and ECFENCE_ENVIRONMENTS (the marker);
 * ECFENCE_COMMENT_AUTHOR to only ever update that user's note.
 * The token goes only to the origin of CI_API_V4_URL, in the PRIVATE-TOKEN header, and is never
 * printed. A note that cannot be posted is one warning and never fails the job.
 */
import { Redactor } from '../../src/secrets/redactor.js';
import { oneLine, safeOutput } from '../../src/secrets/untrusted-text.js';
import { RestClient } from '../ci/rest-client.js';
import {
  buildCommentBody,
  decideComment,
  findMarkedComment,
  markerFor,
  outcomeMarkdown,
  type IssueComment,
} from '../github/comment.js';
import { environmentsFrom, isMainModule, outcomeFrom } from '../ci/inputs.js';

/** GitLab refuses notes longer than this. */
export const GITLAB_NOTE_LIMIT = 1_000_000;

/** GitLab's rule for merge requests from forks, for the note of a fork's pipeline. */
const GITLAB_FORKS =
  "GitLab runs pipelines of merge requests from forks without the project's protected variables";

type Env = Readonly<Record<string, string | undefined>>;

interface Note {
  id: number;
  body?: string | null;
  author?: { username?: string } | null;
}

const asComment = (n: Note): IssueComment => ({
  id: n.id,
  body: n.body ?? null,
  user: n.author?.username === undefined ? null : { login: n.author.username },
});

export interface NoteResult {
  decision?: ReturnType<typeof decideComment>;
  noteId?: number;
  /** Why no note was posted; the job does not fail for it. */
  warning?: string;
}

/** Creates the merge request's note, or updates it in place; see the file comment for the inputs. */
export async function postNote(markdown: string, env: Env, redactor: Redactor): Promise<NoteResult> {
  const token = env['ECFENCE_GITLAB_TOKEN'];
  const api = env['CI_API_V4_URL'];
  const project = env['CI_PROJECT_ID'];
  const iid = Number(env['CI_MERGE_REQUEST_IID']);
  if (!Number.isInteger(iid) || iid <= 0) return { warning: 'not a merge request pipeline: no note posted' };
  if (!token || !api || !project) {
    return { warning: 'ECFENCE_GITLAB_TOKEN, CI_API_V4_URL and CI_PROJECT_ID must be set to post the note' };
  }
  const marker = markerFor(
    env['ECFENCE_WORKING_DIRECTORY'] ?? '.',
    environmentsFrom(env['ECFENCE_ENVIRONMENTS']),
  );
  const sha = env['CI_COMMIT_SHA'];
  const runUrl = env['CI_JOB_URL'];
  const body = buildCommentBody(
    { marker, markdown: redactor.scrub(markdown), ...(sha ? { sha } : {}), ...(runUrl ? { runUrl } : {}) },
    GITLAB_NOTE_LIMIT,
  );
  try {
    const rest = new RestClient({
      service: 'GitLab',
      apiUrlVariable: 'CI_API_V4_URL',
      apiUrl: api,
      headers: { 'private-token': token },
      redactor,
    });
    const notes = `${rest.base}/projects/${encodeURIComponent(project)}/merge_requests/${iid}/notes`;
    const author = env['ECFENCE_COMMENT_AUTHOR'] || undefined;
    const found = await rest.find<Note>(`${notes}?per_page=100&sort=asc`, (page) => {
      const match = findMarkedComment(page.map(asComment), marker, author);
      return match === undefined ? undefined : page.find((n) => n.id === match.id);
    });
    const decision = decideComment(found && asComment(found), body);
    const id =
      decision.kind === 'create'
        ? (await rest.send<Note>('POST', notes, { body: decision.body })).id
        : decision.kind === 'update'
          ? (await rest.send<Note>('PUT', `${notes}/${decision.id}`, { body: decision.body })).id
          : decision.id;
    if (!Number.isSafeInteger(id)) throw new Error('GitLab answered without a note id');
    return { decision, noteId: id };
  } catch (error) {
    return { warning: error instanceof Error ? error.message : String(error) };
  }
}

async function main(redactor: Redactor, say: (text: string) => void): Promise<void> {
  const outcome = { ...outcomeFrom(process.env), forkReason: GITLAB_FORKS };
  const result = await postNote(outcomeMarkdown(outcome), process.env, redactor);
  if (result.warning) say(`ecfence: warning: ${result.warning}; no note posted (the job log has the plan)`);
  if (result.decision) {
    const verb = { create: 'created', update: 'updated', unchanged: 'left unchanged' }[result.decision.kind];
    say(`ecfence: merge request note ${verb} (id ${String(result.noteId)})`);
  }
}

if (isMainModule(import.meta.url)) {
  const redactor = new Redactor();
  redactor.add(process.env['ECFENCE_GITLAB_TOKEN']);
  // Every line this script prints: on one line, scrubbed.
  const say = (text: string): void =>
    void process.stderr.write(`${safeOutput(redactor, oneLine(text), false)}\n`);
  main(redactor, say).then(
    () => (process.exitCode = 0),
    (error: unknown) => {
      say(`ecfence gitlab-note: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 0;
    },
  );
}
