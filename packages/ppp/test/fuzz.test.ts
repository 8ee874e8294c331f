// Hostile peers: 100,000 mutated frames at LNS sessions in the Network phase (no throw, bounded
// state), Configure-Request storms, option floods, lengths that lie.
import t from "tap";
import { FakeClock } from "@lnsd/io";
import { PppProtocol, encodeChap, encodeIpcp, encodeIpv6cp, encodeLcp, encodePap, type LcpOption } from "@lnsd/wire";
import { PppServerSession, chapMd5Response, type PppProxyInfo } from "../src/index.js";
import { Rig, describe, fakeAuthenticate, frame, seededRandom } from "./harness.js";

function lcg(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 0x100000000;
  };
}

const CHALLENGE = Buffer.from("00112233445566778899aabbccddeeff", "hex");
const body = (o: LcpOption[]): Buffer => encodeLcp({ kind: "ConfReq", identifier: 1, options: o }).subarray(4);
const PROXY: PppProxyInfo = {
  lastSentLcpConfreq: body([
    { name: "authProtocol", value: { kind: "chap", algorithm: 5 } },
    { name: "magicNumber", value: 0x0a0b0c0d },
  ]),
  lastReceivedLcpConfreq: body([{ name: "magicNumber", value: 0x01020304 }]),
  authenType: 2,
  authenName: "alice",
  authenChallenge: CHALLENGE,
  authenId: 5,
  authenResponse: chapMd5Response(5, "wonderland", CHALLENGE),
};

interface Target {
  readonly server: PppServerSession;
  readonly clock: FakeClock;
  readonly stats: { sentFrames: number; up: boolean; downs: number };
}

/** An LNS session brought to the Network phase with IPCP and IPV6CP Opened (via proxy LCP/auth). */
async function openedSession(seed: number): Promise<Target> {
  const clock = new FakeClock();
  const stats = { sentFrames: 0, up: false, downs: 0 };
  const server = new PppServerSession({
    clock,
    random: seededRandom(seed),
    config: { authProtocols: ["chap", "pap"], localAddress: "10.231.0.1", ipv6: true, primaryDns: "192.0.2.53" },
    send: () => {
      stats.sentFrames++;
    },
    authenticate: fakeAuthenticate,
    events: {
      up: () => {
        stats.up = true;
      },
      down: () => {
        stats.downs++;
      },
    },
    proxy: PROXY,
  });
  server.start();
  await new Promise<void>((resolve) => setImmediate(resolve));
  server.receive(frame(PppProtocol.IPCP, encodeIpcp({ kind: "ConfReq", identifier: 1, options: [{ name: "ipAddress", value: 0x0ae76401 }] })));
  server.receive(frame(PppProtocol.IPCP, encodeIpcp({ kind: "ConfAck", identifier: 1, options: [{ name: "ipAddress", value: 0x0ae70001 }] })));
  server.receive(frame(PppProtocol.IPV6CP, encodeIpv6cp({ kind: "ConfReq", identifier: 1, options: [{ name: "interfaceIdentifier", value: Buffer.from("0202020202020202", "hex") }] })));
  server.receive(frame(PppProtocol.IPV6CP, encodeIpv6cp({ kind: "ConfAck", identifier: 1, options: [{ name: "interfaceIdentifier", value: Buffer.from("0000000000000001", "hex") }] })));
  return { server, clock, stats };
}

/** Well-formed frames a peer sends once the session is up: the seeds the mutations start from. */
function corpus(): Buffer[] {
  const lcp = (p: Parameters<typeof encodeLcp>[0]): Buffer => frame(PppProtocol.LCP, encodeLcp(p));
  return [
    lcp({ kind: "EchoReq", identifier: 1, magic: 0x01020304, data: Buffer.from("abcd") }),
    lcp({ kind: "EchoReply", identifier: 3, magic: 0x01020304, data: Buffer.alloc(0) }),
    lcp({ kind: "DiscardReq", identifier: 4, magic: 0x01020304, data: Buffer.from("x") }),
    lcp({ kind: "ConfReq", identifier: 9, options: [{ name: "mru", value: 1500 }, { name: "magicNumber", value: 0x01020304 }, { name: "accm", value: 0 }] }),
    lcp({ kind: "TermReq", identifier: 7, data: Buffer.from("User request") }),
    lcp({ kind: "CodeRej", identifier: 8, rejected: Buffer.from("0c010004", "hex") }),
    lcp({ kind: "ProtRej", identifier: 9, protocol: 0x8057, rejected: Buffer.from("0101000e010a0000000000000001", "hex") }),
    frame(PppProtocol.IPCP, encodeIpcp({ kind: "ConfReq", identifier: 2, options: [{ name: "ipAddress", value: 0 }, { name: "primaryDns", value: 0 }, { name: "secondaryDns", value: 0 }] })),
    frame(PppProtocol.IPCP, encodeIpcp({ kind: "TermReq", identifier: 3, data: Buffer.alloc(0) })),
    frame(PppProtocol.IPV6CP, encodeIpv6cp({ kind: "ConfReq", identifier: 2, options: [{ name: "interfaceIdentifier", value: Buffer.alloc(8, 3) }] })),
    frame(PppProtocol.CHAP, encodeChap({ kind: "Response", identifier: 5, value: Buffer.alloc(16, 1), name: Buffer.from("alice") })),
    frame(PppProtocol.PAP, encodePap({ kind: "AuthReq", identifier: 1, peerId: Buffer.from("alice"), password: Buffer.from("pw") })),
    frame(PppProtocol.CCP, Buffer.from("0101000a120600000000", "hex")),
    frame(PppProtocol.IPv4, Buffer.from("4500001c0000400040110000c0000201c00002020035003500080000", "hex")),
    frame(PppProtocol.IPv6, Buffer.alloc(48, 0x60)),
    Buffer.from("c0210901000c0102030400000000", "hex"),
    Buffer.from("21450000140000", "hex"),
  ];
}

function mutate(seed: Buffer, rnd: () => number): Buffer {
  const b = Buffer.from(seed);
  const kind = Math.floor(rnd() * 8);
  const at = (): number => Math.floor(rnd() * Math.max(1, b.length));
  switch (kind) {
    case 0:
      for (let i = 0; i < 1 + Math.floor(rnd() * 4); i++) {
        const k = at();
        b[k] = (b[k] ?? 0) ^ (1 << Math.floor(rnd() * 8));
      }
      return b;
    case 1:
      b[at()] = Math.floor(rnd() * 256);
      return b;
    case 2:
      return b.subarray(0, at());
    case 3:
      return Buffer.concat([b, Buffer.from(Array.from({ length: Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256)))]);
    case 4:
      // A Length field that lies.
      if (b.length >= 8) b.writeUInt16BE(Math.floor(rnd() * 0x10000), 6);
      return b;
    case 5:
      // Another protocol for the same packet.
      if (b.length >= 4) b.writeUInt16BE(Math.floor(rnd() * 0x10000), 2);
      return b;
    case 6:
      // Another Code.
      if (b.length >= 5) b[4] = Math.floor(rnd() * 20);
      return b;
    default: {
      // An option repeated many times (a flood inside one packet).
      if (b.length < 10) return b;
      const option = b.subarray(8, 8 + Math.max(2, Math.min(b.length - 8, b[9] ?? 2)));
      const many = Buffer.concat([b.subarray(0, 8), ...Array.from({ length: 1 + Math.floor(rnd() * 300) }, () => option)]);
      if (many.length >= 8) many.writeUInt16BE(Math.min(0xffff, many.length - 4), 6);
      return many;
    }
  }
}

void t.test("100,000 mutated frames at sessions in the Network phase: no throw, bounded state", async (t) => {
  const rnd = lcg(20251121);
  const seeds = corpus();
  let target = await openedSession(1);
  t.ok(target.stats.up, "the session under attack is up");
  t.equal(target.server.status().ipcp, "Opened");
  t.equal(target.server.status().ipv6cp, "Opened");
  let sessions = 1;
  let internalErrors = 0;
  let maxCounters = 0;
  let maxHistory = 0;
  const seen = new Map<string, number>();
  const check = (x: Target): void => {
    for (const [k, v] of x.server.counters) seen.set(k, (seen.get(k) ?? 0) + v);
    internalErrors += x.server.counter("internal-error");
    maxCounters = Math.max(maxCounters, x.server.counters.size);
    const h = x.server.status().history;
    maxHistory = Math.max(maxHistory, h.lcp.length, h.ipcp.length, h.ipv6cp.length);
    t.ok(x.stats.downs <= 1, "down at most once");
  };
  for (let i = 0; i < 100_000; i++) {
    const seed = seeds[Math.floor(rnd() * seeds.length)] ?? Buffer.alloc(0);
    const input = rnd() < 0.9 ? mutate(seed, rnd) : seed;
    try {
      target.server.receive(input);
    } catch (e) {
      t.fail(`receive threw on ${input.toString("hex")}: ${String(e)}`);
      break;
    }
    if (i % 500 === 499) target.clock.advance(1000);
    if (target.server.ended !== undefined) {
      // Let its Restart timers run out, then attack a fresh one.
      target.clock.advance(60_000);
      check(target);
      t.equal(target.clock.pending, 0, "an ended session leaves no timer");
      target = await openedSession(1 + sessions);
      sessions++;
    }
  }
  check(target);
  t.equal(internalErrors, 0, "no exception caught anywhere");
  t.ok(maxCounters < 150, `counters stay a small fixed set (${maxCounters})`);
  t.ok(maxHistory <= 32, "histories bounded");
  t.comment(`${sessions} sessions attacked; counters: ${[...seen].map(([k, v]) => `${k}=${v}`).join(" ")}`);
  t.ok((seen.get("lcp-code-reject-sent") ?? 0) > 0 && (seen.get("protocol-reject-sent") ?? 0) > 0 && (seen.get("lcp-malformed") ?? 0) > 0, "the mutations reach the answers they should");
  t.end();
});

void t.test("20,000 mutated frames at the client role in the Network phase", async (t) => {
  const rnd = lcg(7);
  const seeds = corpus();
  const fresh = async (seed: number): Promise<Rig> => {
    const r = new Rig({ seed, server: { ipv6: true }, client: { ipv6: true } }).start();
    await r.run(50);
    r.lose = () => true;
    return r;
  };
  let r = await fresh(1);
  t.equal(r.clientUp.length, 1);
  let internalErrors = 0;
  let rigs = 1;
  for (let i = 0; i < 20_000; i++) {
    const client = r.client;
    if (client === undefined) break;
    const seed = seeds[Math.floor(rnd() * seeds.length)] ?? Buffer.alloc(0);
    client.receive(rnd() < 0.9 ? mutate(seed, rnd) : seed);
    if (i % 500 === 499) r.clock.advance(1000);
    if (client.ended !== undefined) {
      r.clock.advance(60_000);
      internalErrors += client.counter("internal-error");
      t.ok(r.clientDown.length <= 1);
      r = await fresh(++rigs);
    }
  }
  internalErrors += r.client?.counter("internal-error") ?? 0;
  t.equal(internalErrors, 0);
  t.comment(`${rigs} client sessions attacked`);
  t.end();
});

void t.test("a Configure-Request storm is answered one for one with bounded work, Max-Failure reached, then Max-Configure ends it", (t) => {
  const clock = new FakeClock();
  const out: Buffer[] = [];
  const downs: string[] = [];
  const server = new PppServerSession({
    clock,
    random: seededRandom(5),
    send: (f) => out.push(f),
    authenticate: fakeAuthenticate,
    events: { up: () => undefined, down: (c) => downs.push(c.reason) },
  });
  server.start();
  const storm = frame(PppProtocol.LCP, encodeLcp({ kind: "ConfReq", identifier: 1, options: [{ name: "magicNumber", value: 0 }, { name: "mru", value: 1400 }] }));
  const started = process.hrtime.bigint();
  for (let i = 0; i < 20_000; i++) {
    storm[5] = i & 0xff;
    server.receive(storm);
    if (out.length > 16) out.splice(0, out.length - 16);
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  t.ok(ms < 5000, `20,000 requests in ${ms.toFixed(0)} ms`);
  const kinds = out.map((f) => describe(f));
  t.ok(kinds.every((k) => k.startsWith("LCP ConfRej") || k.startsWith("LCP ConfReq")), "Naks turned into Rejects after Max-Failure");
  t.equal(server.counter("lcp-confreq-sent"), 2, "our own requests are not multiplied by the storm");
  t.ok(server.counters.size < 20);
  t.ok(server.status().history.lcp.length <= 32);
  clock.advance(40_000);
  t.same(downs, ["lcp-timeout"], "Max-Configure still ends a negotiation that never converges");
  t.equal(clock.pending, 0);
  t.end();
});

void t.test("option floods and lengths that lie", (t) => {
  const clock = new FakeClock();
  const out: string[] = [];
  const server = new PppServerSession({
    clock,
    random: seededRandom(6),
    send: (f) => out.push(describe(f)),
    authenticate: fakeAuthenticate,
    events: { up: () => undefined, down: () => undefined },
  });
  server.start();
  out.length = 0;
  // 300 unknown options: rejected, every one echoed.
  const unknown = Buffer.concat(Array.from({ length: 300 }, (_, i) => Buffer.from([200, 3, i & 0xff])));
  const head = Buffer.from([1, 1, 0, 0]);
  head.writeUInt16BE(4 + unknown.length, 2);
  server.receive(frame(PppProtocol.LCP, Buffer.concat([head, unknown])));
  const rej = out.find((d) => d.startsWith("LCP ConfRej 1"));
  t.ok(rej !== undefined);
  t.equal((rej ?? "").split("unknown200").length - 1, 300, "all 300 rejected");
  // 500 MRU options: acceptable, acknowledged in one packet.
  out.length = 0;
  const mrus = Buffer.concat(Array.from({ length: 500 }, () => Buffer.from([1, 4, 5, 0xdc])));
  head.writeUInt16BE(4 + mrus.length, 2);
  head[1] = 2;
  server.receive(frame(PppProtocol.LCP, Buffer.concat([head, mrus])));
  t.ok(out.some((d) => d.startsWith("LCP ConfAck 2")));
  // Lengths that lie: all dropped, counted, never answered.
  out.length = 0;
  const lies = [
    "ff03c021010300ff0104", // Length past the end
    "ff03c02101030002", // Length below the header
    "ff03c0210103000801000000", // option Length 0
    "ff03c021010300080109", // option running past the packet
    "ff03c021010300080504", // Magic-Number of the wrong size
    "ff03c021", // no packet at all
    "ff03", // no protocol
    "ff05c021010300040000", // wrong Control field
    "",
  ];
  for (const hex of lies) server.receive(Buffer.from(hex, "hex"));
  t.same(out, [], "no answer to malformed packets");
  t.ok(server.counter("lcp-malformed") >= 5);
  t.equal(server.counter("internal-error"), 0);
  t.end();
});
