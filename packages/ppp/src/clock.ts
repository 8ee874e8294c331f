// Time behind a small interface (STYLE.md: side effects behind small interfaces). The same shape as
// @lnsd/l2tp's Clock, so the daemon hands one clock to both layers; declared here so that the PPP
// sources depend on @lnsd/wire only (tests use @lnsd/l2tp's FakeClock).

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
}
