// A deterministic clock for in-process tests: timers fire only inside advance(), in time order.
import type { Clock, TimerHandle } from "../../src/index.js";

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class FakeClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers: Timer[] = [];

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: Timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  get pending(): number {
    return this.timers.filter((x) => !x.cancelled).length;
  }

  /** Moves time forward by ms, firing every timer due on the way, those set meanwhile included. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers = this.timers.filter((x) => !x.cancelled);
      let next: Timer | undefined;
      for (const x of this.timers) if (x.at <= end && (next === undefined || x.at < next.at || (x.at === next.at && x.seq < next.seq))) next = x;
      if (next === undefined) break;
      next.cancelled = true;
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
}

/** Lets promise callbacks run (the client resolves its promises from timer and socket callbacks). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
