// The daemon's logger: l2tpns debug levels (0 critical, 1 error, 2 warning, 3 information,
// 4 debug, 5 packet detail), to stderr, a file, or syslog, rate-limited per reason so that a flood
// of bad packets cannot fill the disk. Runs on the control thread.
import { closeSync, openSync, writeSync } from "node:fs";

export type Level = "critical" | "error" | "warn" | "info" | "debug" | "packet";

export const LEVEL_NUMBER: Readonly<Record<Level, number>> = { critical: 0, error: 1, warn: 2, info: 3, debug: 4, packet: 5 };

export interface LogSink {
  /** `line` is the formatted line (time, level, message); sinks with a format of their own use level and message. */
  write(line: string, level: Level, message: string): void;
  /** Gives up what the sink holds open (a replaced sink: SIGHUP). */
  close?(): void;
}

export const stderrSink: LogSink = {
  write: (line) => {
    process.stderr.write(line + "\n");
  },
};

/**
 * log_file as a path: appended to, held open, and opened again when the logger gets a new sink
 * (SIGHUP), so that logrotate's move-and-HUP works as with l2tpns. A line that cannot be written
 * goes to stderr rather than nowhere.
 */
export function fileSink(path: string): LogSink {
  let fd: number | undefined;
  let failed = false;
  const open = (): number | undefined => {
    try {
      fd ??= openSync(path, "a");
      failed = false;
      return fd;
    } catch (e) {
      if (!failed) process.stderr.write(`lnsd: cannot open log_file ${path}: ${e instanceof Error ? e.message : String(e)}\n`);
      failed = true;
      return undefined;
    }
  };
  return {
    write: (line) => {
      const f = open();
      if (f === undefined) {
        process.stderr.write(line + "\n");
        return;
      }
      try {
        writeSync(f, line + "\n");
      } catch {
        process.stderr.write(line + "\n");
      }
    },
    close: () => {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

/** syslog(3) facility codes (glibc's <syslog.h>), by the names startup-config accepts. */
export const SYSLOG_FACILITY_CODE: Readonly<Record<string, number>> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, security: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9,
  authpriv: 10, ftp: 11, local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
  mark: 24,
};

/** l2tpns logs level N at syslog severity N + 2: critical is LOG_CRIT, packet detail LOG_DEBUG. */
export function syslogSeverity(level: Level): number {
  return LEVEL_NUMBER[level] + 2;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] as const;

/** RFC 3164 as glibc's syslog(3) writes to /dev/log: `<PRI>Mmm dd hh:mm:ss tag[pid]: msg`, local time. */
export function formatSyslog(facility: number, severity: number, when: Date, tag: string, pid: number, message: string): string {
  const two = (n: number): string => String(n).padStart(2, "0");
  const stamp = `${MONTHS[when.getMonth()] ?? "Jan"} ${String(when.getDate()).padStart(2, " ")} ${two(when.getHours())}:${two(when.getMinutes())}:${two(when.getSeconds())}`;
  return `<${facility * 8 + severity}>${stamp} ${tag}[${pid}]: ${message}`;
}

export interface SyslogSinkOptions {
  /** A facility name of startup-config's log_file (syslog:local5 gives "local5"). */
  readonly facility: string;
  /** One datagram to a unix socket; throws on error (the dataplane addon's unixDgramSend). */
  readonly send: (path: string, data: Uint8Array) => void;
  /** Default /dev/log. */
  readonly path?: string;
  /** Default "lnsd". */
  readonly tag?: string;
  readonly pid?: number;
  readonly now?: () => Date;
  /** Where a line goes when syslog cannot take it (default stderr). */
  readonly fallback?: LogSink;
}

/** The longest message sent in one datagram (syslog daemons take at least this much). */
const SYSLOG_MAX_MESSAGE = 8192;

/** log_file syslog:FACILITY: each line one datagram to /dev/log. */
export function syslogSink(o: SyslogSinkOptions): LogSink & { failures: number } {
  const facility = SYSLOG_FACILITY_CODE[o.facility] ?? SYSLOG_FACILITY_CODE.daemon ?? 3;
  const path = o.path ?? "/dev/log";
  const tag = o.tag ?? "lnsd";
  const pid = o.pid ?? process.pid;
  const now = o.now ?? (() => new Date());
  const fallback = o.fallback ?? stderrSink;
  const sink = {
    failures: 0,
    write: (line: string, level: Level, message: string): void => {
      const text = message.length > SYSLOG_MAX_MESSAGE ? message.slice(0, SYSLOG_MAX_MESSAGE) : message;
      try {
        o.send(path, Buffer.from(formatSyslog(facility, syslogSeverity(level), now(), tag, pid, text), "utf8"));
      } catch {
        // syslogd restarting, /dev/log missing: the line is not lost.
        sink.failures++;
        fallback.write(line, level, message);
      }
    },
  };
  return sink;
}

/**
 * The sink for log_file: empty is stderr; syslog:FACILITY is syslog when a unix datagram sender is
 * given (else stderr); anything else is a file.
 */
export function sinkForLogFile(logFile: string, sendUnixDgram?: (path: string, data: Uint8Array) => void): LogSink {
  if (logFile === "") return stderrSink;
  if (logFile.startsWith("syslog:")) {
    return sendUnixDgram === undefined ? stderrSink : syslogSink({ facility: logFile.slice("syslog:".length), send: sendUnixDgram });
  }
  return fileSink(logFile);
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
  /** Told of every log() call, whatever the debug level and the rate limit (metrics count drops by reason). */
  observer: ((level: Level, reason: string) => void) | undefined;

  constructor(
    private sink: LogSink,
    public debugLevel: number,
    private readonly now: () => number = Date.now,
    private readonly limit: RateLimit = { burst: 10, windowMs: 10_000 },
  ) {}

  /** A new sink (SIGHUP: log_file read again, the file opened again); the old one is closed. */
  setSink(sink: LogSink): void {
    const old = this.sink;
    this.sink = sink;
    if (old !== sink) old.close?.();
  }

  enabled(level: Level): boolean {
    return LEVEL_NUMBER[level] <= this.debugLevel;
  }

  /** One line, unless its level is above the debug level or its reason is over its rate. */
  log(level: Level, reason: string, message: string): void {
    this.observer?.(level, reason);
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
    this.sink.write(`${new Date(now).toISOString()} ${LEVEL_NUMBER[level]} ${message}`, level, message);
  }
}
