// The TUN device for real, inside a network namespace of the test's own: opened by the addon,
// configured with iproute2, a packet written and the kernel's answer read back.
import t from "tap";
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const child = join(dirname(fileURLToPath(import.meta.url)), "lib", "tun-child.js");
const ns = `lnsdtun${process.pid}`;

const root = process.getuid?.() === 0;

void t.test("TUN: open, configure, write an echo request, read the reply", { skip: root ? false : "needs root (CI runs as root): TUN devices and network namespaces" }, (t) => {
  execFileSync("ip", ["netns", "add", ns]);
  t.teardown(() => { execFileSync("ip", ["netns", "del", ns]); });
  execFileSync("ip", ["-n", ns, "link", "set", "lo", "up"]);
  const out = execFileSync("ip", ["netns", "exec", ns, process.execPath, child], { encoding: "utf8", timeout: 15_000, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
  const r = JSON.parse(out.trim()) as { name: string; reply: boolean; from: string; to: string };
  t.match(r.name, /^lnsdtun\d+$/);
  t.same(r, { name: r.name, reply: true, from: "192.0.2.1", to: "192.0.2.77" }, "the kernel answered through the TUN device");
  t.end();
});
