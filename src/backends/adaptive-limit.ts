/**
 * How many requests one environment's client keeps in flight, adapted to the API's pace (AIMD, as
 * TCP does): a `429` halves the limit and holds every new request until its `Retry-After` has
 * passed (it asks the client, not the one request, to wait); each success raises the limit by
 * 1/limit, so about one more request in flight per round of successes, up to the ceiling. Requests
 * that were already in flight when the limit was lowered answer 429 for the same overload: they
 * lower it only once.
 */
export interface ThrottleStats {
  /** 429 answers met. */
  throttled: number;
  /** The highest number of requests allowed in flight at once (the ceiling). */
  ceiling: number;
  /** The lowest limit reached (the ceiling when never throttled). */
  lowest: number;
  /** The limit now. */
  current: number;
}

export class AdaptiveLimit {
  private limit: number;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private pausedUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Bumped at each decrease: a 429 to a request sent before it is the same overload. */
  private epoch = 0;
  private throttled = 0;
  private lowest: number;

  constructor(
    private readonly ceiling: number,
    private readonly now: () => number = Date.now,
  ) {
    this.limit = ceiling;
    this.lowest = ceiling;
  }

  /**
   * A slot now, if one is free (no wait, so a request that need not wait leaves in the same tick):
   * the epoch to hand back to `throttle` if the request gets a 429.
   */
  tryAcquire(): number | undefined {
    if (this.inFlight >= Math.floor(this.limit) || this.now() < this.pausedUntil) return undefined;
    this.inFlight += 1;
    return this.epoch;
  }

  /** Waits for a slot (see `tryAcquire`). */
  async acquire(): Promise<number> {
    while (this.inFlight >= Math.floor(this.limit) || this.now() < this.pausedUntil) {
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve);
        this.wakeAfterPause();
      });
    }
    this.inFlight += 1;
    return this.epoch;
  }

  /** The request is over: `ok` when the API answered it (raises the limit). */
  release(ok: boolean): void {
    this.inFlight -= 1;
    if (ok) this.limit = Math.min(this.ceiling, this.limit + 1 / this.limit);
    this.wake();
  }

  /** A 429 to a request acquired at `epoch`; `retryAfterMs` when the server said how long to wait. */
  throttle(epoch: number, retryAfterMs: number | undefined): void {
    this.throttled += 1;
    if (epoch === this.epoch) {
      this.epoch += 1;
      this.limit = Math.max(1, Math.floor(this.limit / 2));
      this.lowest = Math.min(this.lowest, this.limit);
    }
    if (retryAfterMs !== undefined) this.pausedUntil = Math.max(this.pausedUntil, this.now() + retryAfterMs);
  }

  stats(): ThrottleStats {
    return {
      throttled: this.throttled,
      ceiling: this.ceiling,
      lowest: this.lowest,
      current: Math.floor(this.limit),
    };
  }

  private wake(): void {
    // Every waiter checks again; those that still cannot go queue up anew, in order.
    for (const resolve of this.waiting.splice(0)) resolve();
  }

  private wakeAfterPause(): void {
    const wait = this.pausedUntil - this.now();
    if (wait <= 0 || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.wake();
    }, wait);
  }
}
