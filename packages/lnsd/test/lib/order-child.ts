// One TCP flow each way through lnsd, in the LAC's namespace: the test LAC logs one subscriber in;
// "send N DST DPORT SPORT" sends N crafted segments of one flow (sequence numbers i * 64) as fast
// as it can; every TCP segment lnsd delivers on the session is recorded, and "report SPORT FLOWS
// DPORT N" says how the segments of flows SPORT..SPORT+FLOWS-1 arrived; "nudge" sends the other
// way on those flows for a while. Arguments: LNS address, local address, username,
// password. Says {"up": {address}}, {"sent": {...}}, {"report": OrderSummary}.
import { decodeIpv4Header, parseIpv4 } from "@lnsd/wire";
import { LacSimulator, pppLogins, type LacCall } from "@lnsd/testkit";
import { commands, emit, udpDrops, until } from "./child-io.js";
import { buildTcpSegment, summarize } from "./tcp-order.js";

const [lnsAddr = "", bindAddr = "", username = "", password = ""] = process.argv.slice(2);
/** Sequence numbers of the segments received, by "sport>dport". */
const flows = new Map<string, number[]>();
let call: LacCall | undefined;
const logins = pppLogins({
  username,
  password,
  authProtocols: ["chap"],
  onPacket: (_call, protocol, payload) => {
    const h = decodeIpv4Header(payload);
    if (protocol !== 0x0021 || !h.ok || h.value.protocol !== 6) return;
    const tcp = h.value.headerLength;
    const b = Buffer.from(payload.buffer, payload.byteOffset, payload.length);
    const key = `${b.readUInt16BE(tcp)}>${b.readUInt16BE(tcp + 2)}`;
    const seqs = flows.get(key) ?? [];
    seqs.push(b.readUInt32BE(tcp + 4));
    flows.set(key, seqs);
  },
  onUp: (c) => { call = c; },
});
const lac = new LacSimulator({ lns: { address: lnsAddr, port: 1701 }, bindAddress: bindAddr, tunnels: 1, sessionsPerTunnel: 1, calls: logins.handler });
await lac.start();
if (!(await until(() => call !== undefined, 15_000))) {
  emit("error", `no session: ${JSON.stringify(lac.report().sessions)}`);
  process.exit(1);
}
const address = [...logins.stats.online.values()][0]?.address ?? "";
emit("up", { address });

commands(async (words) => {
  const c = call;
  switch (words[0]) {
    case "send": {
      const [, countText = "0", dst = "", dport = "0", sport = "0"] = words;
      const count = Number(countText);
      const segments: Buffer[] = [];
      for (let i = 0; i < count; i++) segments.push(buildTcpSegment({ src: parseIpv4(address) ?? 0, dst: parseIpv4(dst) ?? 0, srcPort: Number(sport), dstPort: Number(dport), seq: i * 64, identification: i }));
      const t0 = performance.now();
      let sent = 0;
      for (const s of segments) if (c !== undefined && logins.send(c, 0x0021, s)) sent++;
      emit("sent", { sent, ms: Math.round(performance.now() - t0) });
      return;
    }
    case "nudge": {
      // The subscriber's side of each flow answers now and then (as TCP ACKs do): one segment per
      // flow every millisecond for `ms`, to DST:DPORT+f from SPORT.
      const [, dst = "", dportText = "0", flowsText = "1", sport = "0", ms = "0"] = words;
      const end = performance.now() + Number(ms);
      let sent = 0;
      for (let i = 0; performance.now() < end; i++) {
        for (let f = 0; f < Number(flowsText); f++) {
          const s = buildTcpSegment({ src: parseIpv4(address) ?? 0, dst: parseIpv4(dst) ?? 0, srcPort: Number(sport), dstPort: Number(dportText) + f, seq: i * 64, identification: i });
          if (c !== undefined && logins.send(c, 0x0021, s)) sent++;
        }
        await new Promise((r) => setTimeout(r, 1));
      }
      emit("nudged", { sent });
      return;
    }
    case "report": {
      // Flows SPORT+f > DPORT for f < FLOWS; until N segments in all have come or nothing more
      // comes for half a second.
      const [, sportText = "0", flowsText = "1", dport = "0", countText = "0"] = words;
      const keys = Array.from({ length: Number(flowsText) }, (_, f) => `${Number(sportText) + f}>${dport}`);
      const total = (): number => keys.reduce((n, k) => n + (flows.get(k)?.length ?? 0), 0);
      for (let last = -1; total() !== last && total() < Number(countText); ) {
        last = total();
        await new Promise((r) => setTimeout(r, 500));
      }
      const each = keys.map((k) => summarize(flows.get(k) ?? []));
      emit("report", {
        received: each.reduce((n, e) => n + e.received, 0),
        distinct: each.reduce((n, e) => n + e.distinct, 0),
        reordered: each.reduce((n, e) => n + e.reordered, 0),
        duplicates: each.reduce((n, e) => n + e.duplicates, 0),
        examples: each.flatMap((e, f) => e.examples.slice(0, 3).map((x) => `flow ${f}: ${x}`)).slice(0, 10),
        reorderedByFlow: each.map((e) => e.reordered),
        udpDrops: udpDrops(lac.local.port),
      });
      return;
    }
    case "stop":
    case "eof":
      await lac.stopAll(3000);
      lac.close();
      emit("stopped", true);
      process.exit(0);
  }
});
