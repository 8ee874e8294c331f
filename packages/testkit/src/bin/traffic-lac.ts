#!/usr/bin/env node
// Entry point of `traffic-lac`: brings N PPP sessions up through an LNS with the LAC simulator on
// a native socket, then for each packet size blasts test packets from every session to a
// reflector on an "internet" host for a fixed time and reports what came back, per window, as
// text on stderr and (--json) one JSON object per size on stdout. Exit status 0 when the sessions
// came up and every window ran, 1 otherwise, 2 on a usage error.
import { parseArgs } from "node:util";
import { formatWindow, LacSimulator, pppLogins, summarizeWindow, TRAFFIC_MAX_IP_BYTES, TRAFFIC_MIN_IP_BYTES, type TrafficSession } from "../index.js";
import { connectReflector, machineCpuTicks, processCpuSeconds, TrafficLac, type ReflectorQuery } from "../traffic-io.js";
import { ipv4ToNumber, TrafficTotal } from "../traffic.js";

const USAGE = `usage: traffic-lac --lns ADDR[:PORT] --target ADDR:PORT --sessions N [options]
  --lns ADDR[:PORT]     the LNS (IPv4; port 1701 by default)
  --target ADDR:PORT    the reflector on the internet host (traffic-reflector)
  --sessions N          PPP sessions to bring up and load
  --per-tunnel K        sessions per tunnel (default 1000, or N when fewer); N must be a multiple
  --bind ADDR           local IPv4 address of the LAC's socket (default 0.0.0.0)
  --user NAME --password P   PPP login; %t and %s in NAME become tunnel and call numbers
                        (default traffic-%t-%s / traffic)
  --secret S            tunnel secret
  --sizes B,B,...       IP packet sizes in bytes (default 64,512,1400)
  --seconds S           measuring window per size (default 10)
  --warmup S            load before the window opens (default 1)
  --rate PPS            offered packets per second (default 0: as fast as the window allows)
  --window W            packets in flight at most (default 512; 0: none, flat out)
  --src-port P          the subscribers' UDP source port (default 5001)
  --lns-pid PID         measure this process's CPU (utime+stime) over each window
  --reflector PATH      the reflector's counters socket (traffic-reflector --control)
  --timeout S           seconds for the sessions to come up (default 120)
  --max-in-setup K      calls between ICRQ and ICRP at once (default 100)
  --label TEXT          put in every JSON result
  --json                one JSON object per size on stdout`;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function hostPort(s: string, defaultPort: number | undefined): { address: string; port: number } {
  const [address = "", portText] = s.split(":");
  const port = portText === undefined ? defaultPort : Number(portText);
  ipv4ToNumber(address);
  if (port === undefined || !Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`bad address:port ${s}`);
  return { address, port };
}

function positive(name: string, v: string | undefined, dflt: number, allowZero = false): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) throw new RangeError(`--${name} ${v}: not a ${allowZero ? "non-negative" : "positive"} number`);
  return n;
}

function options() {
  return parseArgs({
  options: {
    lns: { type: "string" },
    target: { type: "string" },
    sessions: { type: "string" },
    "per-tunnel": { type: "string" },
    bind: { type: "string" },
    user: { type: "string" },
    password: { type: "string" },
    secret: { type: "string" },
    sizes: { type: "string" },
    seconds: { type: "string" },
    warmup: { type: "string" },
    rate: { type: "string" },
    window: { type: "string" },
    "src-port": { type: "string" },
    "lns-pid": { type: "string" },
    reflector: { type: "string" },
    timeout: { type: "string" },
    "max-in-setup": { type: "string" },
    label: { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  },
  strict: true,
  }).values;
}
let values: ReturnType<typeof options>;
try {
  values = options();
} catch (e) {
  console.error(`traffic-lac: ${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
  process.exit(2);
}

const log = (s: string): void => {
  console.error(`traffic-lac: ${s}`);
};

async function run(): Promise<number> {
  if (values.lns === undefined || values.target === undefined || values.sessions === undefined) throw new RangeError("--lns, --target and --sessions are needed");
  const lns = hostPort(values.lns, 1701);
  const target = hostPort(values.target, undefined);
  const n = positive("sessions", values.sessions, 1);
  const perTunnel = Math.min(n, positive("per-tunnel", values["per-tunnel"], 1000));
  if (!Number.isInteger(n) || n % perTunnel !== 0) throw new RangeError(`--sessions ${String(n)} is not a multiple of ${String(perTunnel)} per tunnel`);
  const sizes = (values.sizes ?? "64,512,1400").split(",").map(Number);
  for (const s of sizes) if (!Number.isInteger(s) || s < TRAFFIC_MIN_IP_BYTES || s > TRAFFIC_MAX_IP_BYTES) throw new RangeError(`size ${String(s)} outside ${String(TRAFFIC_MIN_IP_BYTES)}..${String(TRAFFIC_MAX_IP_BYTES)}`);
  const seconds = positive("seconds", values.seconds, 10);
  const warmup = positive("warmup", values.warmup, 1, true);
  const ratePps = positive("rate", values.rate, 0, true);
  const window = positive("window", values.window, 512, true);
  const srcPort = positive("src-port", values["src-port"], 5001);
  const lnsPid = values["lns-pid"] === undefined ? undefined : positive("lns-pid", values["lns-pid"], 0);
  const timeoutMs = positive("timeout", values.timeout, 120) * 1000;
  const user = values.user ?? "traffic-%t-%s";

  const signal = { interrupted: false };
  const onSignal = (): void => {
    signal.interrupted = true;
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  const lac = TrafficLac.open({ bindAddress: values.bind ?? "0.0.0.0", lns, maxSessions: n });
  const t0 = performance.now();
  const ppp = pppLogins({ username: (t, s) => user.replace(/%t/g, String(t)).replace(/%s/g, String(s)), password: values.password ?? "traffic" });
  const sim = new LacSimulator({
    endpoint: lac.endpoint,
    calls: ppp.handler,
    lns,
    tunnels: n / perTunnel,
    sessionsPerTunnel: perTunnel,
    // l2tpns takes a second SCCRQ from the same address:port while one is in setup for a duplicate
    maxTunnelsInSetup: 1,
    ...(values["max-in-setup"] === undefined ? {} : { maxCallsInSetup: positive("max-in-setup", values["max-in-setup"], 100) }),
    ...(values.secret === undefined ? {} : { secret: values.secret }),
  });
  let reflector: ReflectorQuery | undefined;
  let ok = true;
  try {
    await lac.ready();
    if (values.reflector !== undefined) reflector = await connectReflector(values.reflector);
    await sim.start();
    log(`${String(n / perTunnel)} tunnels x ${String(perTunnel)} calls from ${lac.endpoint.local.address}:${String(lac.endpoint.local.port)} to ${lns.address}:${String(lns.port)}`);
    const allUp = await sim.waitForAllUp(timeoutMs);
    const up = sim.report().sessions.established;
    const deadline = performance.now() + timeoutMs;
    while (!signal.interrupted && performance.now() < deadline && ppp.stats.online.size + [...ppp.stats.failures.values()].reduce((a, b) => a + b, 0) < up) await sleep(50);
    const online = [...ppp.stats.online].sort(([a], [b]) => a.tunnelIndex - b.tunnelIndex || a.sessionIndex - b.sessionIndex);
    const setupMs = performance.now() - t0;
    const failures = [...ppp.stats.failures].map(([k, v]) => `${k} ${String(v)}`).join(", ");
    log(`${allUp ? "all calls up" : "NOT all calls up"}: ${String(up)}/${String(n)}; PPP online ${String(online.length)}/${String(n)} after ${(setupMs / 1000).toFixed(1)} s${failures === "" ? "" : `; PPP failed: ${failures}`}`);
    if (online.length === 0) return 1;
    if (online.length < n) ok = false;
    const sessions: TrafficSession[] = online.map(([call, info], index) => ({
      index,
      localTunnelId: call.tunnel.localId,
      localSessionId: call.session.localId,
      peerTunnelId: call.tunnel.peerId,
      peerSessionId: call.session.peerId,
      address: ipv4ToNumber(info.address),
    }));
    lac.setSessions(sessions);
    const dst = ipv4ToNumber(target.address);
    for (const [k, ipBytes] of sizes.entries()) {
      if (signal.interrupted) break;
      lac.blast({ runId: k + 1, ipBytes, dst, dstPort: target.port, srcPort, ratePps, window });
      await sleep(warmup * 1000);
      const cpuA = lnsPid === undefined ? undefined : await processCpuSeconds(lnsPid);
      const selfA = process.cpuUsage();
      const machineA = await machineCpuTicks();
      const reflA = await reflector?.counts();
      const a = lac.counters.snapshot(performance.now(), sessions.length);
      await sleep(seconds * 1000);
      const cpuB = lnsPid === undefined ? undefined : await processCpuSeconds(lnsPid);
      const selfB = process.cpuUsage(selfA);
      const machineB = await machineCpuTicks();
      const reflB = await reflector?.counts();
      const b = lac.counters.snapshot(performance.now(), sessions.length);
      await lac.stop();
      const r = summarizeWindow(
        a,
        b,
        ipBytes,
        reflA === undefined || reflB === undefined ? undefined : { receivedPackets: reflB.receivedPackets - reflA.receivedPackets, sentPackets: reflB.sentPackets - reflA.sentPackets },
        cpuA === undefined || cpuB === undefined ? undefined : { cpuSeconds: cpuB - cpuA },
      );
      const lacCpuSeconds = (selfB.user + selfB.system) / 1e6;
      const reflectorCpuSeconds = reflA?.cpuSeconds === undefined || reflB?.cpuSeconds === undefined ? undefined : reflB.cpuSeconds - reflA.cpuSeconds;
      // the whole machine's busy share over the window: the rest of it is the reflector, the kernel's softirqs and whatever else ran
      const machineBusy = machineA === undefined || machineB === undefined || machineB.total === machineA.total ? undefined : (machineB.busy - machineA.busy) / (machineB.total - machineA.total);
      log(`${formatWindow(values.label ?? "", r)}; load tool CPU ${lacCpuSeconds.toFixed(2)} s, reflector ${reflectorCpuSeconds?.toFixed(2) ?? "?"} s; machine busy ${machineBusy === undefined ? "?" : (machineBusy * 100).toFixed(0)}%`);
      if (values.json === true) console.log(JSON.stringify({ label: values.label ?? "", requested: n, online: online.length, setupMs: Math.round(setupMs), ratePps, window, lacCpuSeconds, reflectorCpuSeconds, machineBusy, ...r }));
      if (r.receivedPackets === 0) ok = false;
      // Late replies of this size land before the next one starts (counted as stale after).
      await sleep(300);
    }
    const c = (slot: number): string => String(lac.counters.totals[slot] ?? 0);
    log(`totals: sent ${c(TrafficTotal.sentPackets)}, back ${c(TrafficTotal.receivedPackets)}, misrouted ${c(TrafficTotal.misrouted)}, stale ${c(TrafficTotal.stale)}, to control ${c(TrafficTotal.toControl)}, truncated ${c(TrafficTotal.truncated)}, send short ${c(TrafficTotal.sendShort)}`);
    if (signal.interrupted) ok = false;
    return ok ? 0 : 1;
  } finally {
    reflector?.close();
    try {
      await sim.clearAll(3000);
      await sim.stopAll(3000);
    } catch {
      // not started
    }
    sim.close();
    await lac.close();
  }
}

if (values.help === true) {
  console.log(USAGE);
} else {
  try {
    process.exitCode = await run();
  } catch (e) {
    console.error(`traffic-lac: ${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
    process.exitCode = e instanceof RangeError ? 2 : 1;
  }
}
