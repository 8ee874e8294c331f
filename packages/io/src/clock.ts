// Time behind a small interface (STYLE.md: side effects behind small interfaces): the one Clock
// that L2TP, PPP, RADIUS and the daemon share, the system's, and a fake one for in-process tests.
// Runs on whichever thread holds it.

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /**
   * Wall-clock epoch milliseconds, for records that outlive the process (issue 13's deadlines):
   * Date.now for the system's clock; a fake clock is its own wall clock. A clock that wraps
   * another must pass this on (see epochMsOf).
   */
  epochMs?(): number;
}

/** A clock's wall clock: its epochMs, else its own now() (a clock made for a test). */
export function epochMsOf(clock: Clock): () => number {
  return () => (clock.epochMs === undefined ? clock.now() : clock.epochMs());
}

export const systemClock: Clock = {
  now: () => performance.now(),
  epochMs: () => Date.now(),
  setTimeout(fn, ms) {
    const h = setTimeout(fn, ms);
    h.unref();
    return { cancel: () => { clearTimeout(h); } };
  },
};

interface FakeTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** A deterministic clock for tests: timers fire only inside advance(), in time order. */
export class FakeClock implements Clock {
  private t = 0;
  private seq = 0;
  private heap: FakeTimer[] = [];

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: FakeTimer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.push(timer);
    return { cancel: () => { timer.cancelled = true; } };
  }

  /** Timers not yet fired or cancelled. */
  get pending(): number {
    return this.heap.filter((x) => !x.cancelled).length;
  }

  /** Moves time forward by ms, firing every timer due on the way (including ones set meanwhile). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || top.at > end) break;
      this.pop();
      if (top.cancelled) continue;
      this.t = top.at;
      top.fn();
    }
    this.t = end;
  }

  private less(a: FakeTimer, b: FakeTimer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(x: FakeTimer): void {
    const h = this.heap;
    h.push(x);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const hp = h[p];
      if (hp === undefined || !this.less(x, hp)) break;
      h[i] = hp;
      i = p;
    }
    h[i] = x;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      let best = last;
      const hl = h[l];
      const hr = h[r];
      if (hl !== undefined && this.less(hl, best)) {
        m = l;
        best = hl;
      }
      if (hr !== undefined && this.less(hr, best)) {
        m = r;
        best = hr;
      }
      if (m === i) break;
      h[i] = best;
      i = m;
    }
    h[i] = last;
  }
}
