import { backoffCeiling, sleep, type RetryOptions } from './http.js';

/**
 * Reads at most this many times to see a write: a listing may lag behind a write that committed
 * (API.md gotcha 7), so one read that misses it proves nothing.
 */
export const LAG_READS = 3;

/**
 * Reads again until `seen(answer)`, at most LAG_READS times, pausing one backoff step longer before
 * each read (0.5, 1 and 2 s by default): the bounded wait for a write to show. Returns the last
 * answer, seen or not; a failed read throws.
 */
export async function rereadUntil<T>(
  read: () => Promise<T>,
  seen: (answer: T) => boolean,
  retry: RetryOptions,
): Promise<T> {
  let answer: T | undefined;
  for (let n = 1; n <= LAG_READS; n++) {
    await sleep(backoffCeiling(retry, n));
    answer = await read();
    if (seen(answer)) return answer;
  }
  return answer as T;
}
