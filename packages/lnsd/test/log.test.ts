import t from "tap";
import { Logger } from "../src/log.js";

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
