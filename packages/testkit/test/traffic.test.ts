// The data-plane load tool: its test packets (checked with @lnsd/wire's decoders), the parser of
// reflected packets, the window arithmetic, /proc/PID/stat; then its worker over loopback UDP
// against a fake LNS that reflects (no root): counted per session, a wrong session caught, the
// control side still served.
import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import t from "tap";
import { decodeL2tpHeader, formatIpv4, internetChecksum } from "@lnsd/wire";
import {
  decodeSessionTable,
  encodeSessionTable,
  ipv4ToNumber,
  newDownstreamParse,
  parseDownstream,
  procStatCpuTicks,
  procStatMachineTicks,
  summarizeWindow,
  TRAFFIC_ENCAP_BYTES,
  TRAFFIC_MAGIC,
  TrafficCounters,
  TrafficLac,
  TrafficReflector,
  TrafficTotal,
  connectReflector,
  writeUpstreamPacket,
  type TrafficSession,
  type TrafficSnapshot,
} from "../src/index.js";

const session: TrafficSession = { index: 3, localTunnelId: 11, localSessionId: 22, peerTunnelId: 33, peerSessionId: 44, address: ipv4ToNumber("198.18.0.7") };
const internet = ipv4ToNumber("198.19.2.2");

/** What the LNS sends back for an upstream datagram once the reflector has answered it. */
function reflect(up: Uint8Array, opts: { tunnelId: number; sessionId: number; header?: Uint8Array; ppp?: Uint8Array }): Buffer {
  const ip = Buffer.from(up.subarray(TRAFFIC_ENCAP_BYTES));
  const src = ip.readUInt32BE(12);
  ip.writeUInt32BE(ip.readUInt32BE(16), 12);
  ip.writeUInt32BE(src, 16);
  const sport = ip.readUInt16BE(20);
  ip.writeUInt16BE(ip.readUInt16BE(22), 20);
  ip.writeUInt16BE(sport, 22);
  const l2tp = opts.header ?? Buffer.from([0x00, 0x02, opts.tunnelId >> 8, opts.tunnelId & 0xff, opts.sessionId >> 8, opts.sessionId & 0xff]);
  return Buffer.concat([l2tp, opts.ppp ?? Buffer.from([0xff, 0x03, 0x00, 0x21]), ip]);
}

void t.test("addresses", (t) => {
  t.equal(ipv4ToNumber("198.18.0.7"), 0xc6120007);
  t.equal(formatIpv4(0xc6120007), "198.18.0.7");
  t.throws(() => ipv4ToNumber("198.18.0"));
  t.throws(() => ipv4ToNumber("198.18.0.256"));
  t.end();
});

void t.test("an upstream test packet: L2TP data, PPP, IPv4 with a valid header checksum, UDP, the test header", (t) => {
  const buf = new Uint8Array(2000);
  for (const size of [44, 64, 512, 1400, 1460]) {
    const len = writeUpstreamPacket(buf, 100, { session, dst: internet, dstPort: 7, srcPort: 5001, ipBytes: size, runId: 9 });
    t.equal(len, TRAFFIC_ENCAP_BYTES + size, `${String(size)}: datagram length`);
    const dgram = Buffer.from(buf.subarray(100, 100 + len));
    const h = decodeL2tpHeader(dgram);
    t.ok(h.ok, "decodes as L2TP");
    if (h.ok) {
      t.equal(h.value.kind, "data");
      t.equal(h.value.tunnelId, 33, "the LNS's Tunnel ID");
      t.equal(h.value.sessionId, 44, "the LNS's Session ID");
    }
    t.same([...dgram.subarray(6, 10)], [0xff, 0x03, 0x00, 0x21], "PPP IPv4");
    const ip = dgram.subarray(10);
    t.equal(ip.readUInt16BE(2), size, "IP total length");
    t.equal(internetChecksum(ip, 0, 20), 0, "IP header checksum");
    t.equal(ip.readUInt32BE(12), session.address);
    t.equal(ip.readUInt32BE(16), internet);
    t.equal(ip.readUInt16BE(24), size - 20, "UDP length");
    t.equal(ip.readUInt32BE(28), TRAFFIC_MAGIC);
    t.equal(ip.readUInt32BE(32), 9, "run id");
    t.equal(ip.readUInt32BE(36), 3, "session index");
  }
  t.throws(() => writeUpstreamPacket(buf, 0, { session, dst: internet, dstPort: 7, srcPort: 5001, ipBytes: 43, runId: 1 }), RangeError);
  t.throws(() => writeUpstreamPacket(buf, 0, { session, dst: internet, dstPort: 7, srcPort: 5001, ipBytes: 1461, runId: 1 }), RangeError);
  t.throws(() => writeUpstreamPacket(buf, 1990, { session, dst: internet, dstPort: 7, srcPort: 5001, ipBytes: 64, runId: 1 }), RangeError);
  t.end();
});

void t.test("a reflected packet is recognised in every L2TP and PPP framing; anything else goes to the control side", (t) => {
  const up = new Uint8Array(200);
  const len = writeUpstreamPacket(up, 0, { session, dst: internet, dstPort: 7, srcPort: 5001, ipBytes: 100, runId: 5 });
  const upstream = up.subarray(0, len);
  const out = newDownstreamParse();
  const check = (name: string, b: Buffer): void => {
    const padded = Buffer.concat([Buffer.alloc(7), b]);
    t.ok(parseDownstream(padded, 7, b.length, 7, out), name);
    t.same(out, { tunnelId: 11, sessionId: 22, runId: 5, sessionIndex: 3, dst: session.address, ipBytes: 100 }, `${name}: fields`);
  };
  check("plain", reflect(upstream, { tunnelId: 11, sessionId: 22 }));
  // L (Length), S (Ns, Nr), O (Offset Size 3 + padding)
  check("L, S and O bits", reflect(upstream, { tunnelId: 0, sessionId: 0, header: Buffer.from([0x4a, 0x02, 0x00, 0x00, 0x00, 11, 0x00, 22, 0, 1, 0, 0, 0, 3, 9, 9, 9]) }));
  check("no address/control (ACFC)", reflect(upstream, { tunnelId: 11, sessionId: 22, ppp: Buffer.from([0x00, 0x21]) }));
  check("compressed protocol (PFC)", reflect(upstream, { tunnelId: 11, sessionId: 22, ppp: Buffer.from([0x21]) }));
  const not = (name: string, b: Buffer, port = 7): void => {
    t.notOk(parseDownstream(b, 0, b.length, port, out), name);
  };
  not("a control message (T bit)", Buffer.from([0xc8, 0x02, 0x00, 0x0c, 0, 11, 0, 0, 0, 0, 0, 0]));
  not("an LCP Echo-Request", Buffer.from([0x00, 0x02, 0, 11, 0, 22, 0xff, 0x03, 0xc0, 0x21, 9, 1, 0, 8, 1, 2, 3, 4]));
  not("from another port", reflect(upstream, { tunnelId: 11, sessionId: 22 }), 8);
  const bad = reflect(upstream, { tunnelId: 11, sessionId: 22 });
  bad[10 + 28] = 0;
  not("without the magic", bad);
  not("cut short", reflect(upstream, { tunnelId: 11, sessionId: 22 }).subarray(0, 40));
  not("too short for a header", Buffer.from([0x00, 0x02, 0]));
  t.end();
});

function snapshot(atMs: number, totals: Partial<Record<keyof typeof TrafficTotal, number>>, sent: number[], received: number[]): TrafficSnapshot {
  const c = new TrafficCounters(new ArrayBuffer(TrafficCounters.bytes(sent.length)), sent.length);
  for (const [k, v] of Object.entries(totals) as [keyof typeof TrafficTotal, number][]) c.totals[TrafficTotal[k]] = v;
  c.sessionSent.set(sent);
  c.sessionReceived.set(received);
  return c.snapshot(atMs);
}

void t.test("a window's figures: rates each way, loss, per session, LNS CPU per forwarded packet", (t) => {
  const a = snapshot(1000, { sentPackets: 100, receivedPackets: 90, misrouted: 1 }, [50, 50, 0], [45, 45, 0]);
  const b = snapshot(3000, { sentPackets: 20100, receivedPackets: 19090, misrouted: 3 }, [10050, 10050, 0], [9545, 9545, 0]);
  const r = summarizeWindow(a, b, 500, { receivedPackets: 19500, sentPackets: 19500 }, { cpuSeconds: 0.3855 });
  t.equal(r.seconds, 2);
  t.equal(r.sentPackets, 20000);
  t.equal(r.receivedPackets, 19000);
  t.equal(r.upPps, 10000);
  t.equal(r.upMbps, 40, "10 kpps of 500-byte packets");
  t.equal(r.reflectedPps, 9750);
  t.equal(r.downPps, 9500);
  t.equal(r.downMbps, 38);
  t.ok(Math.abs(r.loss - 0.05) < 1e-9, "loss 5%");
  t.equal(r.misrouted, 2);
  t.equal(r.sessionMin, 0);
  t.equal(r.sessionMax, 9500);
  t.equal(r.sessionsSilent, 1);
  t.equal(r.lnsForwarded, 19500 + 19000, "upstream by the reflector, downstream by the LAC");
  t.ok(Math.abs((r.lnsCpuUsPerPacket ?? 0) - 10.013) < 0.001, "us per forwarded packet");
  const noRefl = summarizeWindow(a, b, 500);
  t.equal(noRefl.lnsForwarded, 38000, "without the reflector's count: what came back, twice");
  t.equal(noRefl.lnsCpuUsPerPacket, undefined);
  t.equal(noRefl.reflectedPps, undefined);
  t.end();
});

void t.test("/proc/PID/stat: utime + stime after a command name with spaces and parentheses", (t) => {
  const fields = ["S", "1", "2", "3", "0", "-1", "4194560", "100", "0", "0", "0", "1234", "567", "0", "0", "20", "0", "3"];
  t.equal(procStatCpuTicks(`4242 (node (x) y) ${fields.join(" ")}\n`), 1801);
  t.equal(procStatCpuTicks("garbage"), undefined);
  t.same(procStatMachineTicks("cpu  100 5 50 800 10 3 2 0 7 0\ncpu0 50 2 25 400 5 1 1 0 0 0\n"), { busy: 160, total: 970 }, "busy: all but idle and iowait");
  t.equal(procStatMachineTicks("intr 1 2 3\n"), undefined);
  t.end();
});

void t.test("the sessions table between the threads", (t) => {
  const two = [session, { ...session, index: 1, localSessionId: 23, address: session.address + 1 }];
  t.same(decodeSessionTable(encodeSessionTable(two)), two.map((s, index) => ({ ...s, index })));
  t.end();
});

void t.test("over loopback: blast, reflect, count per session, catch a wrong session, keep the control side served", async (t) => {
  // A fake LNS: data from the LAC goes back as the LNS would send the reflector's answer, except
  // that session 1's first packet comes back on session 0; a control message goes to the LAC too.
  const lns = createSocket("udp4");
  await new Promise<void>((resolve) => lns.bind(0, "127.0.0.1", resolve));
  const lnsPort = lns.address().port;
  const sessions: TrafficSession[] = [0, 1].map((i) => ({ index: i, localTunnelId: 5, localSessionId: 100 + i, peerTunnelId: 7, peerSessionId: 200 + i, address: ipv4ToNumber(`198.18.0.${String(10 + i)}`) }));
  let swapped = false;
  lns.on("message", (m, from) => {
    if (m.length < 6 || (m[0] ?? 0) & 0x80) return;
    let sessionId = m.readUInt16BE(4) - 100;
    if (!swapped && sessionId === 101) {
      swapped = true;
      sessionId = 100;
    }
    lns.send(reflect(m, { tunnelId: 5, sessionId }), from.port, from.address);
  });
  const lac = TrafficLac.open({ bindAddress: "127.0.0.1", lns: { address: "127.0.0.1", port: lnsPort }, maxSessions: 2 });
  t.teardown(async () => {
    await lac.close();
    lns.close();
  });
  const control: Buffer[] = [];
  lac.endpoint.onMessage((p, from) => {
    t.equal(from.port, lnsPort);
    control.push(p);
  });
  await lac.ready();
  lac.setSessions(sessions);
  lac.blast({ runId: 1, ipBytes: 64, dst: internet, dstPort: 7, srcPort: 5001, ratePps: 2000, window: 64 });
  const zlb = Buffer.from([0xc8, 0x02, 0x00, 0x0c, 0, 5, 0, 0, 0, 1, 0, 1]);
  lns.send(zlb, lac.endpoint.local.port, "127.0.0.1");
  // the main thread sends on the same socket
  lac.endpoint.send(Buffer.from([0xc8, 0x02, 0x00, 0x0c, 0, 7, 0, 0, 0, 1, 0, 1]), { address: "127.0.0.1", port: lnsPort });
  const a = lac.counters.snapshot(performance.now());
  await new Promise((resolve) => setTimeout(resolve, 500));
  await lac.stop();
  await new Promise((resolve) => setTimeout(resolve, 100));
  const b = lac.counters.snapshot(performance.now());
  const r = summarizeWindow(a, b, 64);
  t.ok(r.sentPackets > 500 && r.sentPackets < 1500, `about 2000 pps offered for 0.5 s (${String(r.sentPackets)})`);
  t.equal(r.misrouted, 1, "the packet that came back on the wrong session");
  t.equal(r.receivedPackets, r.sentPackets - 1, "every other one back");
  t.ok(Math.abs((b.sessionReceived[0] ?? 0) - (b.sessionReceived[1] ?? 0)) <= 2, "round robin over the sessions");
  t.same(control, [zlb], "the control message went to the control side");
  t.equal(lac.counters.totals[TrafficTotal.toControl], 1);
});

void t.test("the reflector sends every datagram back to its sender and tells its counters", async (t) => {
  const reflector = TrafficReflector.open("127.0.0.1", 0);
  await reflector.ready();
  const path = join(mkdtempSync(join(tmpdir(), "traffic-test-")), "reflector.sock");
  await reflector.serve(path);
  const query = await connectReflector(path);
  const client = createSocket("udp4");
  t.teardown(async () => {
    query.close();
    client.close();
    await reflector.close();
    rmSync(dirname(path), { recursive: true, force: true });
  });
  const back: string[] = [];
  client.on("message", (m) => back.push(m.toString()));
  for (const s of ["a", "bb", "ccc"]) client.send(s, reflector.port, "127.0.0.1");
  for (let i = 0; i < 100 && back.length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  t.same(back.sort(), ["a", "bb", "ccc"]);
  const c = await query.counts();
  t.same([c.receivedPackets, c.sentPackets], [3, 3]);
  t.ok((c.cpuSeconds ?? 0) > 0, "and its CPU time");
});
