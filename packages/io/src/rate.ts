// A token bucket per source (an address, a client): one sender over its rate is held back without
// crowding out the others. Pure: the caller gives the time (its Clock's now()).

export class RatePerSource {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  /**
   * `perSecond` on average, bursts of twice that. At most `maxSources` are tracked; past that the
   * map starts afresh (forged source addresses cannot grow it, and starting afresh only forgives).
   */
  constructor(
    readonly perSecond: number,
    private readonly maxSources = 4096,
  ) {}

  /** True when `source` may send one more now (`nowMs`: milliseconds, monotonic). */
  take(source: string, nowMs: number): boolean {
    const burst = 2 * this.perSecond;
    let b = this.buckets.get(source);
    if (b === undefined) {
      if (this.buckets.size >= this.maxSources) this.buckets.clear();
      b = { tokens: burst, at: nowMs };
      this.buckets.set(source, b);
    }
    b.tokens = Math.min(burst, b.tokens + ((nowMs - b.at) / 1000) * this.perSecond);
    b.at = nowMs;
    if (b.tokens < 1) return false;
    b.tokens--;
    return true;
  }
}
