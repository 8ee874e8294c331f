// The state directory of issue 13 (state.ts): one per startup-config and bind_address, one lnsd
// writing it at a time, other configurations' old journals pruned, old state not resumed.
import t, { type Test } from "tap";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { claimStateDir, pruneStaleStates, readState, stateDirFor } from "../src/index.js";

function scratch(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), "lnsd-state-"));
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }); });
  return dir;
}

void t.test("one directory per startup-config and bind_address", (t) => {
  const a = stateDirFor("/var/lib/lnsd", "/etc/l2tpns/startup-config", "192.0.2.1");
  t.equal(a, stateDirFor("/var/lib/lnsd", "/etc/l2tpns/../l2tpns/startup-config", "192.0.2.1"), "the same file by another path");
  t.not(a, stateDirFor("/var/lib/lnsd", "/etc/l2tpns/other-config", "192.0.2.1"), "another config");
  t.not(a, stateDirFor("/var/lib/lnsd", "/etc/l2tpns/startup-config", "192.0.2.2"), "another bind_address");
  t.match(a, /^\/var\/lib\/lnsd\/192\.0\.2\.1-[0-9a-f]{12}$/);
  t.end();
});

void t.test("one lnsd writes a state directory at a time; a dead one's lock is taken over", (t) => {
  const dir = join(scratch(t), "s");
  mkdirSync(dir);
  // This test runs from packages/lnsd's dist: its own process stands for a running lnsd.
  writeFileSync(join(dir, "lnsd.pid"), `${String(process.pid)}\n`);
  const refused = claimStateDir(dir, 999_999_001);
  t.same(refused, { ok: false, pid: process.pid }, "refused while the holder runs");
  // A pid no process has (beyond pid_max).
  writeFileSync(join(dir, "lnsd.pid"), "4194305\n");
  const taken = claimStateDir(dir, 999_999_001);
  t.equal(taken.ok, true, "a dead holder's lock is taken over");
  t.equal(readFileSync(join(dir, "lnsd.pid"), "latin1"), "999999001\n");
  if (taken.ok) taken.release();
  t.notOk(existsSync(join(dir, "lnsd.pid")), "released");
  t.end();
});

void t.test("state of other configurations not written for a day is pruned; recent and own kept", (t) => {
  const root = scratch(t);
  const make = (name: string, ageMs: number): string => {
    const d = join(root, name);
    mkdirSync(d);
    const f = join(d, "segment-0000000000000001.lnsj");
    writeFileSync(f, "x");
    const when = (Date.now() - ageMs) / 1000;
    utimesSync(f, when, when);
    return d;
  };
  const own = make("own", 3 * 86_400_000);
  const old = make("old", 2 * 86_400_000);
  const recent = make("recent", 3_600_000);
  t.equal(pruneStaleStates(root, own, 86_400_000), 1, "one removed");
  t.ok(existsSync(own), "own kept");
  t.notOk(existsSync(old), "old removed");
  t.ok(existsSync(recent), "recent kept");
  t.end();
});

void t.test("no state, and state not readable, are told apart", (t) => {
  const root = scratch(t);
  const none = readState(join(root, "absent"), 60_000);
  t.equal(none.ok ? "ok" : none.code, "none");
  const bad = join(root, "bad");
  mkdirSync(bad);
  writeFileSync(join(bad, "snapshot-0000000000000001.lnsj"), "not a journal");
  const corrupt = readState(bad, 60_000);
  t.equal(corrupt.ok ? "ok" : corrupt.code, "corrupt");
  t.end();
});
