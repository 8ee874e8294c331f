import t from "tap";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatConfigError, readIpPoolFile, readStartupConfigFile, readUsersFile } from "../src/index.js";

void t.test("reading the files from disk", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "lnsd-config-"));
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const sc = join(dir, "startup-config");
  writeFileSync(sc, "set debug 2\nset nosuch 1\n");
  const r = await readStartupConfigFile(sc);
  t.same(r.ok ? [] : r.errors.map(formatConfigError), [`${sc}:2: unknown variable 'nosuch'`], "errors name the path");

  const missing = await readStartupConfigFile(join(dir, "nope"));
  t.same(missing.ok ? [] : missing.errors.map(formatConfigError), [`${join(dir, "nope")}: cannot read: no such file`]);
  const isDir = await readIpPoolFile(dir);
  t.same(isDir.ok ? [] : isDir.errors.map(formatConfigError), [`${dir}: cannot read: is a directory`]);

  const pool = join(dir, "ip_pool");
  writeFileSync(pool, "10.0.0.0/24\n");
  const p = await readIpPoolFile(pool);
  t.equal(p.ok ? p.value.ranges.length : -1, 1);

  t.same(await readUsersFile(join(dir, "users")), { ok: true, value: undefined, warnings: [] }, "no users file is not an error");
  writeFileSync(join(dir, "users"), "admin:x\n");
  const u = await readUsersFile(join(dir, "users"));
  t.equal(u.ok ? u.value?.users.length : -1, 1);
});
