import t from "tap";
import { mkdtempSync, readFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger, SYSLOG_FACILITY_CODE, formatSyslog, sinkForLogFile, stderrSink, syslogSeverity, syslogSink } from "../src/log.js";

void t.test("debug level filters, and a flood of one reason is rate-limited", (t) => {
  const lines: string[] = [];
  let now = 0;
  const log = new Logger({ write: (l) => lines.push(l) }, 2, () => now, { burst: 3, windowMs: 1000 });
  log.log("info", "x", "not at debug 2");
  t.equal(lines.length, 0);
  for (let i = 0; i < 100; i++) log.log("warn", "bad-header", `bad ${i}`);
  log.log("warn", "other", "another reason still logs");
  t.equal(lines.length, 4);
  t.equal(log.suppressedTotal, 97);
  now = 1500;
  log.log("warn", "bad-header", "next window");
  t.match(lines[4] ?? "", /97 more 'bad-header' lines suppressed/);
  t.match(lines[5] ?? "", /next window/);
  t.end();
});

void t.test("syslog: RFC 3164 lines as syslog(3) sends them, severity = level + 2 as l2tpns", (t) => {
  const sent: { path: string; text: string }[] = [];
  const when = new Date(2025, 0, 5, 9, 3, 7);
  const sink = syslogSink({ facility: "local5", send: (path, data) => sent.push({ path, text: Buffer.from(data).toString() }), pid: 4242, now: () => when });
  const log = new Logger(sink, 5);
  log.log("critical", "a", "it is broken");
  log.log("warn", "b", "not quite right");
  log.log("packet", "c", "every byte");
  // local5 = 21: PRI = 21 * 8 + severity.
  t.same(sent, [
    { path: "/dev/log", text: "<170>Jan  5 09:03:07 lnsd[4242]: it is broken" },
    { path: "/dev/log", text: "<172>Jan  5 09:03:07 lnsd[4242]: not quite right" },
    { path: "/dev/log", text: "<175>Jan  5 09:03:07 lnsd[4242]: every byte" },
  ]);
  t.equal(formatSyslog(SYSLOG_FACILITY_CODE.daemon ?? 3, syslogSeverity("info"), new Date(2025, 11, 25, 23, 59, 0), "lnsd", 1, "x"), "<29>Dec 25 23:59:00 lnsd[1]: x");
  t.end();
});

void t.test("syslog: a send that fails puts the line on the fallback, not nowhere", (t) => {
  const fallback: string[] = [];
  const sink = syslogSink({ facility: "daemon", send: () => { throw new Error("ECONNREFUSED"); }, fallback: { write: (l) => fallback.push(l) } });
  new Logger(sink, 3).log("error", "x", "still told");
  t.equal(sink.failures, 1);
  t.match(fallback[0] ?? "", / 1 still told$/);
  t.end();
});

void t.test("a log file is held open and opened again with a new sink (logrotate: move, then SIGHUP)", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "lnsd-log-"));
  const path = join(dir, "lnsd.log");
  const log = new Logger(sinkForLogFile(path), 3);
  log.log("info", "a", "before rotation");
  renameSync(path, path + ".1");
  log.log("info", "a", "still to the moved file");
  log.setSink(sinkForLogFile(path));
  log.log("info", "a", "after the reopen");
  t.match(readFileSync(path + ".1", "utf8"), /before rotation\n.*still to the moved file\n$/);
  t.match(readFileSync(path, "utf8"), /^\S+ 3 after the reopen\n$/);
  t.equal(sinkForLogFile(""), stderrSink);
  t.equal(sinkForLogFile("syslog:local5"), stderrSink, "syslog without a sender: stderr");
  t.end();
});

void t.test("the observer sees every call, even those filtered or rate-limited", (t) => {
  const seen: string[] = [];
  const log = new Logger({ write: () => undefined }, 0, () => 0, { burst: 1, windowMs: 1000 });
  log.observer = (level, reason) => seen.push(`${level}:${reason}`);
  log.log("warn", "bad", "x");
  log.log("warn", "bad", "x");
  log.log("debug", "d", "y");
  t.same(seen, ["warn:bad", "warn:bad", "debug:d"]);
  t.end();
});
