import t from "tap";
import { mkdtempSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configFilesFor, DEFAULT_STARTUP_CONFIG, parseDaemonArgs, readStartupConfig } from "../src/index.js";

void t.test("l2tpns command line", (t) => {
  t.same(parseDaemonArgs([]), { ok: true, options: { detach: false, verbosity: 0, configFile: DEFAULT_STARTUP_CONFIG } });
  t.same(parseDaemonArgs(["-d", "-v", "-v", "-c", "/x/y", "-h", "lns1"]), {
    ok: true,
    options: { detach: true, verbosity: 2, configFile: "/x/y", hostname: "lns1" },
  });
  t.same(parseDaemonArgs(["-dvv", "-c/x/z"]), { ok: true, options: { detach: true, verbosity: 2, configFile: "/x/z" } });
  t.same(parseDaemonArgs(["-c"]), { ok: false, message: "option -c needs a value" });
  t.same(parseDaemonArgs(["-x"]), { ok: false, message: "unknown option -x" });
  t.same(parseDaemonArgs(["foo"]), { ok: false, message: "unexpected argument 'foo'" });
  t.end();
});

void t.test("config files beside the startup-config", (t) => {
  t.same(configFilesFor("/etc/l2tpns/startup-config"), {
    startupConfig: "/etc/l2tpns/startup-config",
    ipPool: "/etc/l2tpns/ip_pool",
    users: "/etc/l2tpns/users",
  });
  t.end();
});

void t.test("missing or unreadable config gives a clear error", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "lnsd-args-"));
  const missing = await readStartupConfig(join(dir, "nope"));
  t.same(missing, { ok: false, message: `cannot read startup-config ${join(dir, "nope")}: no such file` });
  const isDir = await readStartupConfig(dir);
  t.same(isDir, { ok: false, message: `cannot read startup-config ${dir}: is a directory` });
  const file = join(dir, "startup-config");
  writeFileSync(file, "set debug 2\n");
  t.same(await readStartupConfig(file), { ok: true, text: "set debug 2\n" });
  chmodSync(file, 0o000);
  // root reads any file regardless of mode; only check the message when the read really fails.
  const r = await readStartupConfig(file);
  if (!r.ok) t.equal(r.message, `cannot read startup-config ${file}: permission denied`);
});
