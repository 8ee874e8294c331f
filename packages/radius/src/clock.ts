// Time behind a small interface (STYLE.md), the same shape as @lnsd/l2tp's Clock so the daemon
// passes one object to both; tests pass a fake one.

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout(fn, ms) {
    const h = setTimeout(fn, ms);
    h.unref();
    return {
      cancel: () => {
        clearTimeout(h);
      },
    };
  },
};
