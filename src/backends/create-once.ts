import type { Logger } from '../log.js';
import { ApiError } from '../model/errors.js';
import type { PolicySpec } from '../model/types.js';
import type { RetryOptions } from './http.js';
import { rereadUntil } from './read-lag.js';

/**
 * Creates a policy without ever creating two (API.md gotcha 28). A create POST is not idempotent,
 * so when its outcome is unknown (connection dropped after sending, 5xx) the policy list is read
 * again until the outcome is known: exactly one policy matching the spec (and not in `exclude`)
 * means the create committed; more than one is ambiguous and stops; none, read after read, means
 * it did not commit and the POST is repeated. A listing may lag behind the write (gotcha 7), so
 * "none" is believed only after LAG_READS reads over a growing pause (see `rereadUntil`): one
 * lagging read would otherwise make a duplicate.
 */
export async function createOnce(options: {
  spec: PolicySpec;
  /** Sends the create; returns the new id. */
  post: () => Promise<string>;
  /** Ids of live policies matching the spec exactly, `exclude`d ids already removed. */
  findMatching: () => Promise<string[]>;
  /**
   * The client's retry bounds: a create gets the same attempt budget as every other call (with
   * fewer, a few unknown outcomes in a row fail it), and its re-reads pause as its retries do.
   */
  retry: RetryOptions;
  logger: Logger;
}): Promise<{ id: string }> {
  const { spec, logger, retry } = options;
  let last: ApiError | undefined;
  for (let attempt = 1; attempt <= retry.maxAttempts; attempt++) {
    try {
      return { id: await options.post() };
    } catch (err) {
      if (!(err instanceof ApiError) || err.details.outcomeUnknown !== true) throw err;
      last = err;
    }
    logger.warn(
      { region: spec.region, name: spec.name, attempt },
      'create outcome unknown; re-reading policies',
    );
    let matches: string[];
    try {
      matches = await rereadUntil(options.findMatching, (found) => found.length > 0, retry);
    } catch (err) {
      // The create may still have committed: the caller must not read this as a clean failure.
      const reason = err instanceof Error ? err.message : String(err);
      throw new ApiError(`${last.message}; re-reading to resolve it failed: ${reason}`, {
        ...last.details,
        outcomeUnknown: true,
      });
    }
    if (matches.length === 1 && matches[0] !== undefined) {
      logger.info({ region: spec.region, name: spec.name, id: matches[0] }, 'create had committed');
      return { id: matches[0] };
    }
    if (matches.length > 1) {
      throw new ApiError(
        `create of policy ${spec.name} in ${spec.region}: outcome unknown and ${matches.length} identical ` +
          `policies now exist (${matches.join(', ')}); resolve by hand`,
        { ...last.details, retryable: false, outcomeUnknown: true },
      );
    }
  }
  throw last ?? new ApiError('create failed', { method: 'POST', path: '', retryable: false });
}
