// The watched session of the hostile-input test, in the LAC's namespace: one tunnel, one call, a
// CHAP login, then, until stopped, an L2TP HELLO about every second (the tunnel's HELLO timer at
// 900 ms of silence; lnsd's ZLB ack after its ack delay makes it about a second), an LCP
// Echo-Request every second and an ICMP echo to lnsd's TUN address every 200 ms. The HELLOs are
// seen on the socket: each one's Ns is matched with the first Nr from lnsd that acknowledges it.
// Says {"up": {...}} once online; commands: "ids" ({"ids": ...}), "mark" (a new window for the
// max round trips), "report" ({"report": ...}), "pppgarbage SEED N" (N malformed PPP frames on the
// real session, none that may legitimately end it), "badlogin PASSWORD" (a second call with a
// wrong password: {"badlogin": ...}), "stop".
// Arguments: LNS address, local address, username, password, ping target.
import { CdnResultCode, buildIcmpEcho, decodeIpv4Header, parseIpv4 } from "@lnsd/wire";
import { openUdpEndpoint, systemClock, type PeerAddress, type UdpEndpoint } from "@lnsd/io";
import { PppClientSession } from "@lnsd/ppp";
import { LacSimulator, pppLogins, seededRandom, type LacCall, type LacCallHandler } from "@lnsd/testkit";
import { randomBytes } from "node:crypto";
import { commands, emit, udpDrops, until } from "./child-io.js";

const [lnsAddr = "", bindAddr = "", username = "", password = "", target = ""] = process.argv.slice(2);
const PPP_IPV4 = 0x0021;
const HELLO = 6;

// ---- HELLO round trips, seen on the socket ---------------------------------------------------

interface HelloStats {
  sent: number;
  acked: number;
  retransmitted: number;
  lost: number;
  maxRttMs: number;
  /** Since the last "mark". */
  windowMaxRttMs: number;
  windowSent: number;
  windowAcked: number;
  rtts: number[];
}
const hello: HelloStats = { sent: 0, acked: 0, retransmitted: 0, lost: 0, maxRttMs: 0, windowMaxRttMs: 0, windowSent: 0, windowAcked: 0, rtts: [] };
/** Ns of HELLOs not yet acknowledged, to when each was first sent. */
const helloOutstanding = new Map<number, number>();
/** RFC 2661 5.8: Nr acknowledges every Ns before it (16-bit wrap-around). */
const acks = (nr: number, ns: number): boolean => ((nr - ns - 1) & 0xffff) < 0x8000;

function controlFields(p: Buffer): { ns: number; nr: number; type: number | undefined } | undefined {
  // T, L and S set (RFC 2661 3.1): flags, Length, Tunnel ID, Session ID, Ns, Nr, then the AVPs;
  // the first AVP is the Message Type (6 octets of AVP header, then the type).
  if (p.length < 12 || (p[0] ?? 0) < 0x80 || ((p[0] ?? 0) & 0x4a) !== 0x48) return undefined;
  return { ns: p.readUInt16BE(8), nr: p.readUInt16BE(10), type: p.length >= 20 ? p.readUInt16BE(18) : undefined };
}

function watched(inner: UdpEndpoint): UdpEndpoint {
  return {
    local: inner.local,
    close: () => { inner.close(); },
    send: (packet: Buffer, to: PeerAddress) => {
      const c = controlFields(packet);
      if (c?.type === HELLO) {
        if (helloOutstanding.has(c.ns)) hello.retransmitted++;
        else {
          helloOutstanding.set(c.ns, performance.now());
          hello.sent++;
          hello.windowSent++;
        }
      }
      inner.send(packet, to);
    },
    onMessage: (handler) => {
      inner.onMessage((packet, from) => {
        const c = controlFields(packet);
        if (c !== undefined) {
          const now = performance.now();
          for (const [ns, at] of helloOutstanding) {
            if (!acks(c.nr, ns)) continue;
            helloOutstanding.delete(ns);
            const rtt = now - at;
            // Later than the retransmission (1 s): the first one was lost.
            if (rtt >= 1000) hello.lost++;
            else hello.acked++;
            hello.windowAcked++;
            hello.maxRttMs = Math.max(hello.maxRttMs, rtt);
            hello.windowMaxRttMs = Math.max(hello.windowMaxRttMs, rtt);
            if (hello.rtts.length < 10_000) hello.rtts.push(Math.round(rtt));
          }
        }
        handler(packet, from);
      });
    },
  };
}

// ---- the session: PPP with an LCP Echo every second, pings -------------------------------------

interface EchoStats {
  replies: number;
  lost: number;
  maxRttMs: number;
  windowMaxRttMs: number;
}
const echo: EchoStats = { replies: 0, lost: 0, maxRttMs: 0, windowMaxRttMs: 0 };
let client: PppClientSession | undefined;
let call: LacCall | undefined;
let address = "";
let downCause = "";
const ping = { sent: 0, replies: 0 };

const handler: LacCallHandler = {
  up: (c) => {
    call = c;
    client = new PppClientSession({
      clock: systemClock,
      random: randomBytes,
      send: (frame) => { c.sendFrame(frame); },
      config: {
        username,
        password,
        authProtocols: ["chap"],
        echoIntervalMs: 1000,
        echoOnlyWhenIdle: false,
        idleEchoTimeoutMs: 0,
        onEcho: (s) => {
          if (s.kind === "lost") echo.lost++;
          else {
            echo.replies++;
            echo.maxRttMs = Math.max(echo.maxRttMs, s.rttMs);
            echo.windowMaxRttMs = Math.max(echo.windowMaxRttMs, s.rttMs);
          }
        },
      },
      events: {
        up: (info) => { if (info.address !== "0.0.0.0") address = info.address; },
        down: (cause) => { downCause = `${cause.by}: ${cause.reason}`; address = ""; },
        data: (protocol, payload) => {
          const h = decodeIpv4Header(payload);
          if (protocol === PPP_IPV4 && h.ok && h.value.protocol === 1 && payload[h.value.headerLength] === 0) ping.replies++;
        },
      },
    });
    client.start();
  },
  frame: (_c, frame) => { client?.receive(frame); },
  down: () => {
    client?.stop("lost-carrier");
    downCause ||= "call down";
    address = "";
  },
};

const endpoint = watched(await openUdpEndpoint(bindAddr, 0));
const lac = new LacSimulator({ lns: { address: lnsAddr, port: 1701 }, endpoint, tunnels: 1, sessionsPerTunnel: 1, calls: handler, config: { helloIntervalMs: 900 } });
const startedAt = performance.now();
await lac.start();
const online = await until(() => address !== "", 20_000, 20);
emit("up", { online, address, ms: Math.round(performance.now() - startedAt), downCause });
if (!online) process.exit(1);

const dst = parseIpv4(target) ?? 0;
const pinger = setInterval(() => {
  if (call === undefined || address === "") return;
  const src = parseIpv4(address) ?? 0;
  if (call.sendFrame(frameOf(PPP_IPV4, buildIcmpEcho({ src, dst, identifier: 11, sequence: ping.sent & 0xffff, data: Buffer.from("hostile ping") })))) ping.sent++;
}, 200);

function frameOf(protocol: number, payload: Uint8Array): Buffer {
  const f = Buffer.alloc(4 + payload.length);
  f[0] = 0xff;
  f[1] = 0x03;
  f.writeUInt16BE(protocol, 2);
  f.set(payload, 4);
  return f;
}

/**
 * A malformed PPP frame none of which may end a healthy session (RFC 1661): unknown LCP codes
 * (answered with Code-Reject), LCP with lengths that lie, Echo and Discard Requests with garbage,
 * unknown protocols (Protocol-Reject), IPCP with unknown codes, PAP and CHAP after the login,
 * truncated frames, garbage IPv4, frames without address and control.
 */
function garbageFrame(rnd: () => number): Buffer {
  const n = (max: number): number => Math.floor(rnd() * max);
  const bytes = (len: number): Buffer => Buffer.from(Array.from({ length: len }, () => n(256)));
  const lcp = (code: number, body: Buffer, lengthDelta = 0): Buffer => {
    const p = Buffer.alloc(4 + body.length);
    p[0] = code;
    p[1] = n(256);
    p.writeUInt16BE(Math.max(0, Math.min(0xffff, 4 + body.length + lengthDelta)), 2);
    body.copy(p, 4);
    return p;
  };
  switch (n(10)) {
    case 0:
      return frameOf(0xc021, lcp(12 + n(244), bytes(n(64))));
    case 1:
      return frameOf(0xc021, lcp(9 + n(3), bytes(n(200)), n(2) === 0 ? -(1 + n(8)) : 1 + n(2000)));
    case 2:
      return frameOf(0xc021, bytes(n(4)));
    case 3: {
      // Not LCP, auth, IPCP, IPV6CP or IPv4/IPv6: a protocol lnsd does not speak.
      const known = new Set([0xc021, 0xc023, 0xc223, 0x8021, 0x8057, 0x0021, 0x0057]);
      let proto = (n(0x8000) << 1) | 1;
      while (known.has(proto)) proto = (n(0x8000) << 1) | 1;
      return frameOf(proto, bytes(n(100)));
    }
    case 4:
      return frameOf(0x8021, lcp(8 + n(248), bytes(n(32))));
    case 5:
      return frameOf(n(2) === 0 ? 0xc023 : 0xc223, lcp(1 + n(4), bytes(n(64)), n(3) - 1));
    case 6:
      return bytes(n(4));
    case 7:
      return frameOf(PPP_IPV4, bytes(n(100)));
    case 8: {
      const f = frameOf(0xc021, lcp(9 + n(3), bytes(n(40))));
      return f.subarray(2);
    }
    default: {
      const f = frameOf(0xc021, lcp(12 + n(244), bytes(n(16))));
      f[0] = n(256);
      f[1] = n(256);
      return f;
    }
  }
}

async function pppGarbage(seed: number, count: number): Promise<number> {
  const rnd = seededRandom(seed);
  let sent = 0;
  for (let i = 0; i < count; i++) {
    if (call?.sendFrame(garbageFrame(rnd)) === true) sent++;
    if (i % 50 === 49) await new Promise((r) => setTimeout(r, 2));
  }
  return sent;
}

async function badLogin(pass: string): Promise<{ online: boolean; failures: Record<string, number>; refused: number }> {
  const logins = pppLogins({ username, password: pass, authProtocols: ["chap"] });
  const other = new LacSimulator({ lns: { address: lnsAddr, port: 1701 }, bindAddress: bindAddr, tunnels: 1, sessionsPerTunnel: 1, calls: logins.handler });
  await other.start();
  await until(() => logins.stats.online.size > 0 || logins.stats.failures.size > 0 || other.report().sessions.refused > 0, 15_000, 20);
  const r = { online: logins.stats.online.size > 0, failures: Object.fromEntries(logins.stats.failures), refused: other.report().sessions.refused };
  await other.stopAll(3000);
  other.close();
  return r;
}

function report(): Record<string, unknown> {
  const now = performance.now();
  // An outstanding HELLO older than its retransmission time has lost its reply.
  const late = [...helloOutstanding.values()].filter((at) => now - at >= 1000).length;
  // A HELLO still waiting has a round trip of at least its age so far.
  const waiting = Math.max(0, ...[...helloOutstanding.values()].map((at) => now - at));
  const t = call?.tunnel;
  const s = call?.session;
  const r = {
    seconds: Math.round((now - startedAt) / 100) / 10,
    hello: { ...hello, rtts: undefined, maxRttMs: Math.max(hello.maxRttMs, waiting), windowMaxRttMs: Math.max(hello.windowMaxRttMs, waiting), lateOutstanding: late, p50: percentile(hello.rtts, 0.5), p99: percentile(hello.rtts, 0.99) },
    echo: { sent: client?.echoStats.sent ?? 0, ...echo },
    ping,
    online: address !== "",
    address,
    downCause,
    tunnelState: t?.state ?? "none",
    sessionState: s?.state ?? "none",
    tunnelEnd: t?.end ?? null,
    retransmittedControl: t?.transport.counters.retransmitted ?? 0,
    udpDrops: udpDrops(lac.local.port),
  };
  return r;
}

function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return 0;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

commands(async (words) => {
  switch (words[0]) {
    case "ids":
      emit("ids", { tunnelId: call?.tunnel.peerId ?? 0, sessionId: call?.session.peerId ?? 0, lacPort: lac.local.port });
      return;
    case "mark":
      hello.windowMaxRttMs = 0;
      hello.windowSent = 0;
      hello.windowAcked = 0;
      echo.windowMaxRttMs = 0;
      emit("marked", true);
      return;
    case "report":
      emit("report", report());
      return;
    case "pppgarbage":
      emit("pppgarbage", { sent: await pppGarbage(Number(words[1] ?? "1"), Number(words[2] ?? "0")) });
      return;
    case "badlogin":
      emit("badlogin", await badLogin(words[1] ?? "wrong"));
      return;
    case "stop":
    case "eof":
      clearInterval(pinger);
      if (call !== undefined) call.tunnel.clearSession(call.session, CdnResultCode.Administrative, undefined, "test over");
      await lac.stopAll(3000);
      emit("stopped", report());
      lac.close();
      process.exit(0);
  }
});
