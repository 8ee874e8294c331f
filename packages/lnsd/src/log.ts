// The daemon's logger: l2tpns debug levels (0 critical, 1 error, 2 warning, 3 information,
// 4 debug, 5 packet detail), to stderr, a file, or syslog, rate-limited per reason so that a flood
// of bad packets cannot fill the disk. Runs on the control thread.
import { appendFileSync } from "node:fs";

export type Level = "critical" | "error" | "warn" | "info" | "debug" | "packet";

export const LEVEL_NUMBER: Readonly<Record<Level, number>> = { critical: 0, error: 1, warn: 2, info: 3, debug: 4, packet: 5 };

export interface LogSink {
  write(line: string): void;
}

export const stderrSink: LogSink = {
  write: (line) => {
    process.stderr.write(line + "\n");
  },
};

export function fileSink(path: string): LogSink {
  return {
    write: (line) => {
      try {
        appendFileSync(path, line + "\n");
      } catch {
        process.stderr.write(line + "\n");
      }
    },
  };
}

export interface RateLimit {
  /** Lines allowed per reason per window. */
  readonly burst: number;
  readonly windowMs: number;
}

interface Bucket {
  windowStart: number;
  lines: number;
  suppressed: number;
}

export class Logger {
  private readonly buckets = new Map<string, Bucket>();
  /** Lines dropped by the rate limit, all reasons together (a metric). */
  suppressedTotal = 0;

  constructor(
    private sink: LogSink,
    public debugLevel: number,
    private readonly now: () => number = Date.now,
    private readonly limit: RateLimit = { burst: 10, windowMs: 10_000 },
  ) {}

  setSink(sink: LogSink): void {
    this.sink = sink;
  }

  enabled(level: Level): boolean {
    return LEVEL_NUMBER[level] <= this.debugLevel;
  }

  /** One line, unless its level is above the debug level or its reason is over its rate. */
  log(level: Level, reason: string, message: string): void {
    if (!this.enabled(level)) return;
    const now = this.now();
    let b = this.buckets.get(reason);
    if (b === undefined) {
      if (this.buckets.size > 10_000) this.buckets.clear();
      b = { windowStart: now, lines: 0, suppressed: 0 };
      this.buckets.set(reason, b);
    }
    if (now - b.windowStart >= this.limit.windowMs) {
      if (b.suppressed > 0) this.emit("warn", `${b.suppressed} more '${reason}' lines suppressed`, now);
      b.windowStart = now;
      b.lines = 0;
      b.suppressed = 0;
    }
    if (b.lines >= this.limit.burst) {
      b.suppressed++;
      this.suppressedTotal++;
      return;
    }
    b.lines++;
    this.emit(level, message, now);
  }

  private emit(level: Level, message: string, now: number): void {
    this.sink.write(`${new Date(now).toISOString()} ${LEVEL_NUMBER[level]} ${message}`);
  }
}
