import t from "tap";
import { mkdtempSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatConfigError, readStartupConfigFile } from "@lnsd/config";
import { configFilesFor, DEFAULT_STARTUP_CONFIG, parseDaemonArgs } from "../src/index.js";

void t.test("l2tpns command line", (t) => {
  t.same(parseDaemonArgs([]), { ok: true, options: { detach: false, check: false, verbosity: 0, configFile: DEFAULT_STARTUP_CONFIG } });
  t.same(parseDaemonArgs(["-d", "-v", "-v", "-c", "/x/y", "-h", "lns1"]), {
    ok: true,
    options: { detach: true, check: false, verbosity: 2, configFile: "/x/y", hostname: "lns1" },
  });
  t.same(parseDaemonArgs(["-dvv", "-c/x/z"]), { ok: true, options: { detach: true, check: false, verbosity: 2, configFile: "/x/z" } });
  t.same(parseDaemonArgs(["-t", "-c", "/x/t"]), { ok: true, options: { detach: false, check: true, verbosity: 0, configFile: "/x/t" } });
  t.same(parseDaemonArgs(["-tc/x/u"]), { ok: true, options: { detach: false, check: true, verbosity: 0, configFile: "/x/u" } });
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
  const message = async (path: string): Promise<string> => {
    const r = await readStartupConfigFile(path);
    return r.ok ? "ok" : r.errors.map(formatConfigError).join("; ");
  };
  t.equal(await message(join(dir, "nope")), `${join(dir, "nope")}: cannot read: no such file`);
  t.equal(await message(dir), `${dir}: cannot read: is a directory`);
  const file = join(dir, "startup-config");
  writeFileSync(file, "set debug 2\n");
  t.equal(await message(file), "ok");
  chmodSync(file, 0o000);
  // root reads any file regardless of mode; only check the message when the read really fails.
  const m = await message(file);
  if (m !== "ok") t.equal(m, `${file}: cannot read: permission denied`);
});
