// The workers' per-packet work, without threads or devices: the shared table as the control
// thread writes it, and upstream()/downstream() over packets built here.
import t from "tap";
import { buildIcmpEcho, clampTcpMss, encodeL2tpDataMessage, encodePppFrame, internetChecksum, parseIpv6, writeIpv4Header, writeIpv6Header } from "@lnsd/wire";
import { allocateTables, C, COUNTER_WORDS, Shaper, useShaperCounts, type CounterDelta, Down, downOut, downstream, FilterWriter, G, HEADROOM, lookupAddress, lookupKey, sessionKey, SessionTableWriter, STAT_WORDS, Up, upOut, upstream, WorkerStat, type SessionRecord } from "../src/index.js";

const LAC = 0x0a4d0101; // 10.77.1.1
const SUB = 0xc6336405; // 198.51.100.5
const INET = 0x0a4d0202;

function table(slots = 16): SessionTableWriter {
  return new SessionTableWriter(allocateTables(slots, 1));
}

function record(over: Partial<SessionRecord> = {}): SessionRecord {
  return { localTunnelId: 3, localSessionId: 7, peerTunnelId: 1001, peerSessionId: 2002, peerAddress: LAC, peerPort: 1701, ipv4: SUB, routes: [], sequencing: false, ipv4Up: true, ipv6Up: false, ...over };
}

function ipv4(src: number, dst: number, payload = 28, protocol = 17): Buffer {
  const b = Buffer.alloc(20 + payload);
  writeIpv4Header(b, 0, { src, dst, protocol, totalLength: b.length, ttl: 64 });
  return b;
}

/** An L2TP data message carrying a PPP IPv4 frame, in a buffer as udpRecv leaves it. */
function l2tpData(tunnelId: number, sessionId: number, ip: Uint8Array, opts: { ns?: number; withLength?: boolean; pfc?: boolean } = {}): Buffer {
  const ppp = opts.pfc === true ? Buffer.concat([Buffer.from([0x21]), ip]) : encodePppFrame(0x0021, ip);
  return encodeL2tpDataMessage({ tunnelId, sessionId, ...(opts.ns === undefined ? {} : { ns: opts.ns }), ...(opts.withLength === true ? { withLength: true } : {}) }, ppp);
}

const stat = (w: SessionTableWriter, which: number): number => w.views.globals[G.STATS + which] ?? 0;

function harvested(w: SessionTableWriter, slot: number): CounterDelta {
  const d: CounterDelta = { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, drops: 0 };
  w.harvest(slot, d);
  return d;
}

void t.test("upstream: an online session's IPv4 goes to TUN, stripped, counted", (t) => {
  const w = table();
  const slot = w.publish(record());
  const ip = ipv4(SUB, INET);
  for (const opts of [{}, { withLength: true }, { pfc: true }]) {
    const msg = l2tpData(3, 7, ip, opts);
    t.equal(upstream(w.views, G.STATS, msg, 0, msg.length, LAC, 1701), Up.ToTun, JSON.stringify(opts));
    t.same(msg.subarray(upOut.offset, upOut.offset + upOut.length), ip);
  }
  t.same(harvested(w, slot), { rxPackets: 3, rxBytes: 3 * ip.length, txPackets: 0, txBytes: 0, drops: 0 });
  t.same(harvested(w, slot), { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, drops: 0 }, "a second harvest: nothing new");
  t.end();
});

void t.test("upstream: what is not forwarded goes to the control thread or is dropped and counted", (t) => {
  const w = table();
  w.publish(record());
  const ip = ipv4(SUB, INET);
  const lcp = encodeL2tpDataMessage({ tunnelId: 3, sessionId: 7 }, encodePppFrame(0xc021, Buffer.from([9, 1, 0, 8, 0, 0, 0, 0])));
  t.equal(upstream(w.views, G.STATS, lcp, 0, lcp.length, LAC, 1701), Up.ToControl, "LCP");
  const ctl = Buffer.from("c802000c0003000000000000", "hex");
  t.equal(upstream(w.views, G.STATS, ctl, 0, ctl.length, LAC, 1701), Up.ToControl, "a control message");
  const other = l2tpData(3, 8, ip);
  t.equal(upstream(w.views, G.STATS, other, 0, other.length, LAC, 1701), Up.ToControl, "a session not in the table");
  const good = l2tpData(3, 7, ip);
  t.equal(upstream(w.views, G.STATS, good, 0, good.length, LAC + 1, 1701), Up.Dropped, "from another address");
  t.equal(upstream(w.views, G.STATS, good, 0, good.length, LAC, 1702), Up.Dropped, "from another port");
  t.equal(stat(w, WorkerStat.WRONG_PEER), 2);
  const spoofed = l2tpData(3, 7, ipv4(SUB + 1, INET));
  t.equal(upstream(w.views, G.STATS, spoofed, 0, spoofed.length, LAC, 1701), Up.Dropped, "spoofed source");
  t.equal(stat(w, WorkerStat.SPOOFED), 1);
  Atomics.store(w.views.globals, G.NO_SPOOF, 1);
  t.equal(upstream(w.views, G.STATS, spoofed, 0, spoofed.length, LAC, 1701), Up.ToTun, "disable_no_spoof");
  const short = Buffer.from(good.subarray(0, 12));
  t.equal(upstream(w.views, G.STATS, short, 0, short.length, LAC, 1701), Up.Dropped, "IP shorter than a header");
  const badLength = l2tpData(3, 7, ip, { withLength: true });
  badLength.writeUInt16BE(badLength.length + 1, 2);
  t.equal(upstream(w.views, G.STATS, badLength, 0, badLength.length, LAC, 1701), Up.Dropped, "Length beyond the datagram");
  t.end();
});

void t.test("upstream: Framed-Routes are allowed sources; the longest prefix wins downstream", (t) => {
  const w = table();
  const a = w.publish(record({ routes: [{ network: 0xcb007100, prefixLength: 24 }] }));
  const b = w.publish(record({ localSessionId: 8, ipv4: SUB + 1, routes: [{ network: 0xcb007180, prefixLength: 25 }] }));
  t.equal(lookupAddress(w.views, 0xcb007105), a);
  t.equal(lookupAddress(w.views, 0xcb0071f0), b, "the /25 inside the /24");
  t.equal(lookupAddress(w.views, SUB + 1), b);
  t.equal(lookupAddress(w.views, 0xcb007205), -1);
  const fromRoute = l2tpData(3, 7, ipv4(0xcb007109, INET));
  t.equal(upstream(w.views, G.STATS, fromRoute, 0, fromRoute.length, LAC, 1701), Up.ToTun);
  const fromOthers = l2tpData(3, 7, ipv4(0xcb0071f0, INET));
  t.equal(upstream(w.views, G.STATS, fromOthers, 0, fromOthers.length, LAC, 1701), Up.Dropped, "a source routed to another session");
  w.unpublish(b);
  t.equal(lookupAddress(w.views, 0xcb0071f0), a, "the /24 again once the /25 is gone");
  t.end();
});

void t.test("downstream: wrapped in PPP and L2TP for the session's LAC", (t) => {
  const w = table();
  const slot = w.publish(record());
  const ip = ipv4(INET, SUB, 100);
  const buf = Buffer.alloc(HEADROOM + ip.length);
  ip.copy(buf, HEADROOM);
  t.equal(downstream(w.views, G.STATS, buf, HEADROOM, ip.length, 0), Down.ToLac);
  t.equal(downOut.address, LAC);
  t.equal(downOut.port, 1701);
  const out = buf.subarray(downOut.offset, downOut.offset + downOut.length);
  t.same(out, l2tpData(1001, 2002, ip), "what the control plane would have built");
  t.equal(harvested(w, slot).txBytes, ip.length);
  const stray = Buffer.alloc(HEADROOM + 40);
  ipv4(INET, SUB + 9, 20).copy(stray, HEADROOM);
  t.equal(downstream(w.views, G.STATS, stray, HEADROOM, 40, 0), Down.NoSession);
  t.end();
});

void t.test("sequencing (RFC 2661 5.4): Ns sent when asked or when the LAC sequences; late upstream dropped", (t) => {
  const w = table();
  const slot = w.publish(record());
  const ip = ipv4(SUB, INET);
  const send = (ns: number): number => {
    const m = l2tpData(3, 7, ip, { ns });
    return upstream(w.views, G.STATS, m, 0, m.length, LAC, 1701);
  };
  t.equal(send(0), Up.ToTun);
  t.equal(send(1), Up.ToTun);
  t.equal(send(1), Up.Dropped, "a duplicate");
  t.equal(send(5), Up.ToTun, "a gap is accepted");
  t.equal(send(3), Up.Dropped, "behind the sequence");
  t.equal(send(0xfff0), Up.Dropped, "far behind, across the wrap");
  const down = ipv4(INET, SUB);
  for (const ns of [0, 1]) {
    const buf = Buffer.alloc(HEADROOM + down.length);
    down.copy(buf, HEADROOM);
    downstream(w.views, G.STATS, buf, HEADROOM, down.length, 0);
    t.same(buf.subarray(downOut.offset, downOut.offset + downOut.length), l2tpData(1001, 2002, down, { ns }), `downstream Ns ${ns}`);
  }
  const shared = w.dataSequence(slot);
  t.ok(shared.peerSequences(), "the LAC's sequenced data is remembered");
  t.equal(shared.takeNs(), 2, "the control thread's frames continue the sequence");
  const quiet = table();
  t.notOk(quiet.dataSequence(quiet.publish(record())).peerSequences(), "a session whose LAC never sequenced");
  // Published again (a restart, a cluster takeover): the LAC's Ns is wherever it got to.
  const again = table();
  again.publish(record());
  const sendTo = (ns: number): number => {
    const m = l2tpData(3, 7, ip, { ns });
    return upstream(again.views, G.STATS, m, 0, m.length, LAC, 1701);
  };
  t.equal(sendTo(40_000), Up.ToTun, "the first Ns after publishing sets the sequence, even in the far half from 0");
  t.equal(sendTo(40_001), Up.ToTun);
  t.equal(sendTo(39_999), Up.Dropped, "and behind it is dropped as before");
  const required = table();
  required.publish(record({ sequencing: true }));
  const buf = Buffer.alloc(HEADROOM + down.length);
  down.copy(buf, HEADROOM);
  downstream(required.views, G.STATS, buf, HEADROOM, down.length, 0);
  t.equal(buf[downOut.offset], 0x08, "S bit set when the ICCN asked for sequencing");
  t.end();
});

void t.test("packet_limit: at most N downstream packets per session per tenth of a second", (t) => {
  const w = table();
  w.publish(record());
  Atomics.store(w.views.globals, G.PACKET_LIMIT, 3);
  const ip = ipv4(INET, SUB);
  const buf = Buffer.alloc(HEADROOM + ip.length);
  const results: number[] = [];
  for (const tenth of [10, 10, 10, 10, 10, 11]) {
    ip.copy(buf, HEADROOM);
    results.push(downstream(w.views, G.STATS, buf, HEADROOM, ip.length, tenth));
  }
  t.same(results, [Down.ToLac, Down.ToLac, Down.ToLac, Down.Dropped, Down.Dropped, Down.ToLac]);
  t.equal(stat(w, WorkerStat.PACKET_LIMIT), 2);
  t.end();
});

void t.test("TCP MSS is clamped both ways", (t) => {
  const w = table();
  w.publish(record());
  Atomics.store(w.views.globals, G.MSS, 1420);
  // A SYN with MSS 1460.
  const syn = Buffer.alloc(44);
  writeIpv4Header(syn, 0, { src: SUB, dst: INET, protocol: 6, totalLength: 44, ttl: 64 });
  syn.writeUInt16BE(40000, 20);
  syn.writeUInt16BE(80, 22);
  syn[32] = 0x60;
  syn[33] = 0x02;
  syn.set([2, 4, 0x05, 0xb4], 40);
  const expected = Buffer.from(syn);
  clampTcpMss(expected, 1420);
  const msg = l2tpData(3, 7, syn);
  t.equal(upstream(w.views, G.STATS, msg, 0, msg.length, LAC, 1701), Up.ToTun);
  t.same(msg.subarray(upOut.offset, upOut.offset + upOut.length), expected);
  t.equal(expected.readUInt16BE(42), 1420);
  t.equal(stat(w, WorkerStat.MSS_CLAMPED), 1);
  t.end();
});

void t.test("the indexes under churn: every published session found, every withdrawn one gone", (t) => {
  const slots = 1000;
  const w = table(slots);
  const live = new Map<number, number>();
  let id = 1;
  for (let round = 0; round < 20_000; round++) {
    if (live.size < slots && (live.size === 0 || (round * 7919) % 3 !== 0)) {
      const sid = id++ & 0xffff || id++;
      const slot = w.publish(record({ localSessionId: sid, ipv4: 0x0a000000 + sid }));
      if (slot < 0) t.fail(`no slot for session ${sid}`);
      live.set(sid, slot);
    } else {
      const [sid, slot] = live.entries().next().value as [number, number];
      w.unpublish(slot);
      live.delete(sid);
      if (lookupKey(w.views, sessionKey(3, sid)) !== -1) t.fail(`session ${sid} still found`);
    }
  }
  let found = 0;
  for (const [sid, slot] of live) {
    if (lookupKey(w.views, sessionKey(3, sid)) === slot && lookupAddress(w.views, 0x0a000000 + sid) === slot) found++;
  }
  t.equal(found, live.size);
  t.equal(w.size, live.size);
  t.end();
});

void t.test("ICMP echo through both directions keeps its checksum", (t) => {
  const w = table();
  w.publish(record());
  const echo = buildIcmpEcho({ src: SUB, dst: INET, identifier: 1, sequence: 1, data: Buffer.from("x") });
  const msg = l2tpData(3, 7, echo);
  upstream(w.views, G.STATS, msg, 0, msg.length, LAC, 1701);
  const ip = msg.subarray(upOut.offset, upOut.offset + upOut.length);
  t.equal(internetChecksum(ip, 0, 20), 0, "IP header checksum intact");
  t.equal(STAT_WORDS >= Object.keys(WorkerStat).length, true, "every statistic has a word");
  t.end();
});

/** ipv6_prefix 2001:db8:1:2::/64 in the globals, as DataPlane.open sets it. */
function withIpv6(w: SessionTableWriter): void {
  const g = w.views.globals;
  Atomics.store(g, G.IPV6_PREFIX_HI, 0x20010db8);
  Atomics.store(g, G.IPV6_PREFIX_LO, 0x00010002);
  Atomics.store(g, G.IPV6_ON, 1);
}

function ipv6(src: string, dst: string, payload = 16): Buffer {
  const b = Buffer.alloc(40 + payload);
  writeIpv6Header(b, 0, { src: parseIpv6(src) ?? new Uint8Array(16), dst: parseIpv6(dst) ?? new Uint8Array(16), nextHeader: 59, payloadLength: payload });
  return b;
}

const SUB6 = "2001:db8:1:2:c633:6405::"; // ipv6_prefix + 198.51.100.5 + 0

void t.test("IPv6 (l2tpns ipv6_prefix): upstream from the session's address, downstream to it", (t) => {
  const w = table();
  withIpv6(w);
  const slot = w.publish(record({ ipv6Up: true }));
  const send = (p: Buffer): number => {
    const m = encodeL2tpDataMessage({ tunnelId: 3, sessionId: 7 }, encodePppFrame(0x0057, p));
    return upstream(w.views, G.STATS, m, 0, m.length, LAC, 1701);
  };
  const up = ipv6(SUB6, "2001:db8:ffff::1");
  t.equal(send(up), Up.ToTun);
  t.equal(upOut.length, up.length);
  t.equal(send(ipv6("2001:db8:1:2:c633:6406::", "2001:db8:ffff::1")), Up.Dropped, "another session's address");
  t.equal(send(ipv6("2001:db8:1:3:c633:6405::", "2001:db8:ffff::1")), Up.Dropped, "outside ipv6_prefix");
  t.equal(send(ipv6("fe80::1", "ff02::2")), Up.ToControl, "a Router Solicitation is the control thread's");
  t.equal(send(Buffer.from(up.subarray(0, 30))), Up.Dropped, "shorter than a header");
  const down = ipv6("2001:db8:ffff::1", SUB6, 100);
  const buf = Buffer.alloc(HEADROOM + down.length);
  down.copy(buf, HEADROOM);
  t.equal(downstream(w.views, G.STATS, buf, HEADROOM, down.length, 0), Down.ToLac);
  t.same(buf.subarray(downOut.offset, downOut.offset + downOut.length), encodeL2tpDataMessage({ tunnelId: 1001, sessionId: 2002 }, encodePppFrame(0x0057, down)));
  t.equal(harvested(w, slot).txBytes, down.length);
  const stray = Buffer.alloc(HEADROOM + 56);
  ipv6("2001:db8:ffff::1", "2001:db8:1:2:c633:6409::").copy(stray, HEADROOM);
  t.equal(downstream(w.views, G.STATS, stray, HEADROOM, 56, 0), Down.NoSession, "no session has that IPv4 part");
  w.setUp(slot, true, false);
  down.copy(buf, HEADROOM);
  t.equal(downstream(w.views, G.STATS, buf, HEADROOM, down.length, 0), Down.NoSession, "IPV6CP closed");
  t.equal(send(up), Up.ToControl, "IPV6CP closed: upstream IPv6 is the control thread's");
  t.end();
});

void t.test("250,000 sessions (max_sessions' default) fit, each found by key and by address", (t) => {
  const n = 250_000;
  const w = table(n);
  let published = 0;
  for (let i = 0; i < n; i++) {
    // Up to 65,535 sessions per tunnel: spread over tunnels as a big LNS sees them.
    if (w.publish(record({ localTunnelId: 1 + Math.floor(i / 60_000), localSessionId: 1 + (i % 60_000), ipv4: 0x0a000000 + i })) >= 0) published++;
  }
  t.equal(published, n);
  t.equal(w.publish(record({ localTunnelId: 9, localSessionId: 9, ipv4: 0x0b000000 })), -1, "one more does not fit");
  let found = 0;
  for (let i = 0; i < n; i++) {
    const slot = lookupKey(w.views, sessionKey(1 + Math.floor(i / 60_000), 1 + (i % 60_000)));
    if (slot >= 0 && lookupAddress(w.views, 0x0a000000 + i) === slot) found++;
  }
  t.equal(found, n);
  t.end();
});

/** A TCP segment from src:sport to dst:dport with the given flags (FIN 1, SYN 2, RST 4, ACK 16). */
function tcp(src: number, dst: number, sport: number, dport: number, flags: number, fragmentOffset = 0): Buffer {
  const b = Buffer.alloc(40);
  writeIpv4Header(b, 0, { src, dst, protocol: 6, totalLength: 40, ttl: 64 });
  b.writeUInt16BE(fragmentOffset, 6);
  b.writeUInt16BE(sport, 20);
  b.writeUInt16BE(dport, 22);
  b[32] = 0x50;
  b[33] = flags;
  return b;
}

const up = (w: SessionTableWriter, ip: Uint8Array, nowMs = 0): number => {
  const m = l2tpData(3, 7, ip);
  return upstream(w.views, G.STATS, m, 0, m.length, LAC, 1701, nowMs);
};
const down = (w: SessionTableWriter, ip: Uint8Array, nowMs = 0): number => {
  const buf = Buffer.alloc(HEADROOM + ip.length);
  Buffer.from(ip).copy(buf, HEADROOM);
  return downstream(w.views, G.STATS, buf, HEADROOM, ip.length, Math.floor(nowMs / 100), nowMs);
};

void t.test("access lists: ports, TCP flags, established, fragments, implicit deny, hit counts", (t) => {
  const w = table();
  const f = new FilterWriter(w.buffers.filters);
  const WEB = 0xcb007150; // 203.0.113.80
  t.equal(f.load([
    {
      name: "web-only",
      rules: [
        { permit: true, protocol: 6, source: { address: 0, mask: 0 }, destination: { address: WEB, mask: -1 }, destinationPort: { op: "eq", port: 80 } },
        { permit: true, protocol: 17, source: { address: 0, mask: 0 }, destination: { address: 0, mask: 0 }, destinationPort: { op: "range", from: 53, to: 53 } },
        { permit: false, protocol: 6, source: { address: 0, mask: 0 }, destination: { address: 0, mask: 0 }, tcp: { kind: "match-all", set: 0x02, clear: 0x10 } },
        { permit: true, protocol: 6, source: { address: 0, mask: 0 }, destination: { address: 0, mask: 0 }, tcp: { kind: "established" } },
        { permit: true, protocol: 0, source: { address: 0, mask: 0 }, destination: { address: 0, mask: 0 }, fragments: true },
      ],
    },
  ]), undefined);
  const slot = w.publish(record({ policy: { filterUp: f.indexOf("web-only") } }));
  t.equal(up(w, tcp(SUB, WEB, 40000, 80, 0x02)), Up.ToTun, "SYN to the web server, port 80");
  t.equal(up(w, tcp(SUB, WEB, 40000, 81, 0x02)), Up.Dropped, "SYN to port 81: a SYN without ACK is denied");
  t.equal(up(w, tcp(SUB, INET, 40000, 22, 0x10)), Up.ToTun, "an ACK: established");
  t.equal(up(w, tcp(SUB, INET, 40000, 22, 0x04)), Up.ToTun, "an RST: established");
  t.equal(up(w, ipv4(SUB, INET, 28, 17)), Up.Dropped, "UDP to port 0: implicit deny");
  const dns = ipv4(SUB, INET, 28, 17);
  dns.writeUInt16BE(53, 22);
  t.equal(up(w, dns), Up.ToTun, "UDP to port 53");
  t.equal(up(w, tcp(SUB, INET, 0, 0, 0, 100)), Up.ToTun, "a non-initial fragment");
  t.equal(down(w, ipv4(INET, SUB, 28, 17)), Down.ToLac, "downstream has no list");
  t.same(f.hits("web-only"), [1, 1, 1, 2, 1]);
  t.equal(stat(w, WorkerStat.FILTERED), 2);
  // A list that goes away in a reload denies everything for the sessions still naming it.
  t.equal(f.load([]), undefined);
  t.equal(up(w, tcp(SUB, WEB, 40000, 80, 0x02)), Up.Dropped);
  t.equal(w.views.counters[slot * COUNTER_WORDS + C.DROPS], 3);
  t.end();
});

void t.test("walled garden: a gardened session reaches only what the garden list permits, both ways", (t) => {
  const w = table();
  const f = new FilterWriter(w.buffers.filters);
  const GARDEN = 0xcb007101;
  f.load([{ name: "garden", rules: [{ permit: true, protocol: 0, source: { address: 0, mask: 0 }, destination: { address: GARDEN, mask: -1 } }, { permit: true, protocol: 0, source: { address: GARDEN, mask: -1 }, destination: { address: 0, mask: 0 } }] }]);
  const slot = w.publish(record({ policy: { garden: true } }));
  t.equal(up(w, ipv4(SUB, GARDEN)), Up.Dropped, "no garden list set: nothing passes");
  Atomics.store(w.views.globals, G.GARDEN_LIST, f.indexOf("garden") + 1);
  t.equal(up(w, ipv4(SUB, GARDEN)), Up.ToTun, "to the garden");
  t.equal(up(w, ipv4(SUB, INET)), Up.Dropped, "elsewhere");
  t.equal(down(w, ipv4(GARDEN, SUB)), Down.ToLac, "from the garden");
  t.equal(down(w, ipv4(INET, SUB)), Down.Dropped, "from elsewhere");
  w.setPolicy(slot, {});
  t.equal(up(w, ipv4(SUB, INET)), Up.ToTun, "ungardened: everywhere");
  t.equal(stat(w, WorkerStat.GARDENED), 3);
  t.end();
});

void t.test("throttling: a token bucket per direction at the session's rate; over it, to the shaper", (t) => {
  const w = table();
  w.publish(record({ policy: { rateUp: 800, rateDown: 80 } }));
  // 800 kbit/s is 100 bytes per ms; the bucket holds 100 ms of it (10,000 bytes), at least 12,000.
  const ip = ipv4(SUB, INET, 980); // 1,000 bytes
  let passed = 0;
  for (let i = 0; i < 20; i++) if (up(w, ip, 1_000_000) === Up.ToTun) passed++;
  t.equal(passed, 12, "a full bucket's worth at once");
  t.equal(up(w, ip, 1_000_005), Up.Shape, "5 ms later: 500 bytes, not enough: it waits");
  t.equal(up(w, ip, 1_000_010), Up.ToTun, "10 ms later: 1,000 bytes");
  // One second of 1,000-byte packets every ms: 100 pass (the rate), give or take the first.
  let second = 0;
  for (let ms = 1_000_011; ms < 1_001_011; ms++) if (up(w, ip, ms) === Up.ToTun) second++;
  t.ok(second >= 99 && second <= 101, `${second} packets of 1,000 bytes in a second at 800 kbit/s`);
  const d = ipv4(INET, SUB, 980);
  let downPassed = 0;
  for (let i = 0; i < 20; i++) if (down(w, d, 1_000_000) === Down.ToLac) downPassed++;
  t.equal(downPassed, 12, "downstream has its own bucket (at least 12,000 bytes deep)");
  t.end();
});

void t.test("the shaper: over-rate packets wait their turn, in order; a full queue drops", (t) => {
  const w = table();
  const slot = w.publish(record({ policy: { rateUp: 800 } }));
  const shaper = new Shaper(w.views, true, 2048);
  useShaperCounts(shaper.counts, new Int32Array(w.views.slots));
  t.teardown(() => { useShaperCounts(new Int32Array(0), new Int32Array(0)); });
  const ip = (n: number): Buffer => {
    const b = ipv4(SUB, INET, 980);
    b[100] = n;
    return b;
  };
  let now = 2_000_000;
  const sent: number[] = [];
  let queued = 0;
  for (let n = 0; n < 40; n++) {
    const m = l2tpData(3, 7, ip(n));
    const r = upstream(w.views, G.STATS, m, 0, m.length, LAC, 1701, now);
    if (r === Up.ToTun) sent.push(m[upOut.offset + 100] ?? -1);
    else if (r === Up.Shape && shaper.enqueue(slot, m, upOut.offset, upOut.length, upOut.length, 0, 0)) queued++;
  }
  t.equal(sent.length, 12, "a bucket's worth went at once");
  // 200 ms of 100 bytes/ms: 20 packets of 1,000 bytes may wait; the rest are dropped.
  t.equal(queued, 20);
  const m = l2tpData(3, 7, ip(99));
  t.equal(upstream(w.views, G.STATS, m, 0, m.length, LAC, 1701, now + 50), Up.Shape, "with packets waiting, a new one queues behind them even if tokens came");
  for (let step = 0; step < 30; step++) {
    now += 20;
    shaper.drain(now, (buf, offset) => { sent.push(buf[offset + 100] ?? -1); });
  }
  t.same(sent, [...Array(32).keys()], "every packet out, in order, at the rate");
  t.equal(shaper.pending, false);
  t.end();
});

void t.test("interception: the packet's copy goes to the snoop target, each way", (t) => {
  const w = table();
  w.publish(record({ policy: { snoop: { address: 0x0a4d0303, port: 9999 } } }));
  const ip = ipv4(SUB, INET);
  t.equal(up(w, ip), Up.ToTun);
  t.same([upOut.snoopAddress, upOut.snoopPort], [0x0a4d0303, 9999]);
  const d = ipv4(INET, SUB);
  t.equal(down(w, d), Down.ToLac);
  t.same([downOut.snoopAddress, downOut.snoopPort, downOut.ipLength], [0x0a4d0303, 9999, d.length]);
  const plain = table();
  plain.publish(record());
  up(plain, ip);
  t.equal(upOut.snoopPort, 0, "not intercepted");
  t.end();
});
