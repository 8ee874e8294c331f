// The data plane for real, in a network namespace of the test's own: two workers, a multi-queue
// TUN device, the kernel answering a subscriber's ping, a host unreachable for an address with no
// session, control traffic handed over both ways, and a prompt shutdown of blocked workers.
import t from "tap";
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const child = join(dirname(fileURLToPath(import.meta.url)), "lib", "dataplane-child.js");
const ns = `lnsddp${process.pid}`;
const root = process.getuid?.() === 0;

void t.test("DataPlane: forwarding both ways, ICMP unreachable, control hand-over, shutdown", { skip: root ? false : "needs root (CI runs as root): TUN devices and network namespaces" }, (t) => {
  execFileSync("ip", ["netns", "add", ns]);
  t.teardown(() => { execFileSync("ip", ["netns", "del", ns]); });
  execFileSync("ip", ["-n", ns, "link", "set", "lo", "up"]);
  // The host unreachable about 198.51.100.9 is routed back through TUN to 198.51.100.5.
  execFileSync("ip", ["netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.send_redirects=0"]);
  execFileSync("ip", ["-n", ns, "addr", "add", "2001:db8:ffff::1/128", "dev", "lo"]);
  const out = execFileSync("ip", ["netns", "exec", ns, process.execPath, child], { encoding: "utf8", timeout: 20_000, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
  const r = JSON.parse(out.trim()) as { got: { from: number; header: string; icmp: string }[]; control: string[]; stats: Record<string, number>; closeMs: number };
  const data = r.got.filter((g) => g.icmp !== "");
  t.ok(data.every((g) => g.from === 1701), "everything comes from port 1701");
  t.ok(data.every((g) => g.header.startsWith("00020032005aff0300")), "L2TP data to the peer's tunnel 50 / session 90");
  t.same(data.map((g) => g.icmp).sort(), ["0/0", "3/1", "v6:129/0"], "the echo replies (IPv4, IPv6), and host unreachable for the address with no session");
  t.equal(r.got.filter((g) => g.icmp === "").length, 1, "the control thread's own send arrived");
  t.equal(r.control.length, 1, "the control message reached the control thread");
  t.match(r.control[0] ?? "", /^127\.0\.0\.1:\d+ c802000c0005/);
  t.equal(r.stats.ICMP_SENT, 1);
  t.equal(r.stats.NO_SESSION, 1);
  t.ok(r.closeMs < 1000, `workers blocked in poll() stopped in ${r.closeMs} ms`);
  t.end();
});

void t.test("packet hooks: a plugin loaded into the workers drops (STOP) and rewrites packets", { skip: root ? false : "needs root (CI runs as root): TUN devices and network namespaces" }, (t) => {
  const hns = `lnsdhk${process.pid}`;
  execFileSync("ip", ["netns", "add", hns]);
  t.teardown(() => { execFileSync("ip", ["netns", "del", hns]); });
  execFileSync("ip", ["-n", hns, "link", "set", "lo", "up"]);
  const out = execFileSync("ip", ["netns", "exec", hns, process.execPath, join(dirname(child), "packet-hooks-child.js")], { encoding: "utf8", timeout: 20_000, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
  const r = JSON.parse(out.trim()) as { replies: string[]; dropped: number; logs: string[] };
  t.same(r.replies, ["1:lns!"], "the echo came back with packet_tx's change; the one ending in X was dropped by packet_rx");
  t.equal(r.dropped, 1);
  t.match(r.logs.join("\n"), /loaded plugin tagger|tagger/, "the workers said they loaded it");
  t.end();
});
