// bin/lnsd with metrics_port set: /metrics scraped over HTTP while the test LAC's subscribers are
// online and answering LCP Echo (echo_timeout 1, ppp_keepalive no: an Echo every second).
import t from "tap";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { LacSimulator, pppLogins } from "@lnsd/testkit";
import { WORST_LINES } from "../src/index.js";
import { parseExposition, value } from "./lib/exposition.js";

const lnsdBin = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "bin", "lnsd.js");

async function until(cond: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += 100) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}

void t.test("sessions, tunnels, line quality and process metrics while subscribers are online", async (t) => {
  const addr = "127.0.34.21";
  const port = 19721;
  const dir = mkdtempSync(join(tmpdir(), "lnsd-metrics-"));
  writeFileSync(
    join(dir, "startup-config"),
    `set debug 2\nset bind_address ${addr}\nset disable_tun yes\nset nsctl_port 0\nset metrics_address ${addr}\nset metrics_port ${port}\nset echo_timeout 1\nset ppp_keepalive no\n`,
  );
  writeFileSync(join(dir, "ip_pool"), "198.51.100.0/24\n");
  writeFileSync(join(dir, "chap-secrets"), `* * "pass" *\n`);
  const proc = spawn(process.execPath, [lnsdBin, "-c", join(dir, "startup-config")], { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
  let out = "";
  proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => proc.on("exit", () => { r(); }));
  const scrape = async (): Promise<ReturnType<typeof parseExposition>> => {
    const res = await fetch(`http://${addr}:${port}/metrics`);
    t.equal(res.status, 200);
    t.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    return parseExposition(await res.text());
  };
  t.teardown(async () => {
    proc.kill("SIGTERM");
    await exited;
  });
  const listening = async (): Promise<boolean> => (await fetch(`http://${addr}:${port}/metrics`).catch(() => undefined))?.ok === true;
  t.ok(await until(listening, 5000), `lnsd serves /metrics\n${out}`);
  const before = await scrape();
  t.equal(value(before, "lnsd_sessions", { state: "network" }), 0);
  t.ok((value(before, "process_resident_memory_bytes") ?? 0) > 0, "memory (prom-client default metrics)");
  t.ok((value(before, "nodejs_heap_size_used_bytes") ?? 0) > 0);
  t.equal((await fetch(`http://${addr}:${port}/`)).status, 404);

  const logins = pppLogins({ username: (ti, si) => `user-${ti}-${si}`, password: "pass" });
  const lac = new LacSimulator({ lns: { address: addr, port: 1701 }, bindAddress: "127.0.0.1", tunnels: 2, sessionsPerTunnel: 5, calls: logins.handler });
  t.teardown(() => { lac.close(); });
  await lac.start();
  t.ok(await until(() => logins.stats.online.size === 10, 10_000), "10 subscribers online");
  // A few Echo rounds (one a second per line).
  let s = await scrape();
  t.ok(
    await until(async () => {
      s = await scrape();
      return (value(s, "lnsd_lcp_echo_total", { outcome: "reply" }) ?? 0) >= 20;
    }, 8000),
    "Echo-Replies counted",
  );
  t.equal(value(s, "lnsd_tunnels", { state: "established" }), 2);
  t.equal(value(s, "lnsd_sessions", { state: "network" }), 10);
  t.equal(value(s, "lnsd_sessions_online"), 10);
  t.equal(value(s, "lnsd_lcp_echo_total", { outcome: "lost" }), 0);
  const count = value(s, "lnsd_lcp_echo_rtt_seconds_count") ?? 0;
  t.ok(count >= 20 && value(s, "lnsd_lcp_echo_rtt_seconds_bucket", { le: "+Inf" }) === count, "RTT histogram");
  t.ok((value(s, "lnsd_lcp_echo_rtt_seconds_sum") ?? 1) / count < 0.5, "loopback round trips are short");
  const worst = s.filter((x) => x.name === "lnsd_line_worst_echo_rtt_seconds");
  t.equal(worst.length, WORST_LINES, "the worst lines, N of them");
  t.same(worst.map((x) => x.labels.rank), ["1", "2", "3", "4", "5"]);
  t.ok(worst.every((x) => /^user-\d-\d$/.test(x.labels.user ?? "") && /^\d+\/\d+$/.test(x.labels.session ?? "")), "named by user and tunnel/session");
  t.ok(worst.every((x, i) => i === 0 || x.value <= (worst[i - 1]?.value ?? 0)), "worst first");
  t.equal(s.filter((x) => x.name === "lnsd_line_worst_echo_loss_ratio").length, 0, "no line loses Echoes");
  for (const d of ["rx", "tx"]) t.ok((value(s, "lnsd_subscriber_packets_total", { direction: d }) ?? -1) >= 0, `packets ${d}`);
  t.equal(value(s, "lnsd_cli_sessions"), 0);
  // Journaled for a restart: 2 tunnels, 10 L2TP sessions, 10 subscribers.
  t.equal(value(s, "lnsd_state_records"), 22, "the record store holds every tunnel and session");
  t.equal(value(s, "lnsd_state_changes_total", { kind: "subscriber", op: "delete" }) ?? 0, 0);
  t.ok((value(s, "lnsd_state_changes_total", { kind: "subscriber", op: "upsert" }) ?? 0) >= 10, "subscriber records journaled");
  t.ok((value(s, "lnsd_state_journal_bytes_total") ?? 0) > 10 * 1000, "journal bytes counted");

  // The LAC goes: the tunnels close, the totals stay.
  await lac.stopAll(5000);
  t.ok(
    await until(async () => {
      s = await scrape();
      return value(s, "lnsd_sessions", { state: "network" }) === 0;
    }, 8000),
    "sessions gone",
  );
});
