// PppServerSession against PppClientSession (and against hand-driven peers) in-process under a
// fake clock: logins, refusals, NCPs, keepalive, termination both ways, the RFC 1661 counters and
// timers, proxy LCP/authentication, loop detection, bad peers.
import t from "tap";
import type { ProxyInfo } from "@lnsd/l2tp";
import { FakeClock } from "@lnsd/io";
import { AcctTerminateCause, PppProtocol, encodeCcp, encodeChap, encodeIpcp, encodeIpv6cp, encodeLcp, encodePap, type LcpOption } from "@lnsd/wire";
import {
  FSM_EVENTS,
  FSM_STATES,
  FSM_TRANSITIONS,
  PppDisconnectCode,
  PppClientSession,
  PppServerSession,
  chapMd5Response,
  mruForL2tpMtu,
  type AuthResult,
  type DisconnectCause,
  type PppProxyInfo,
  type EchoSample,
} from "../src/index.js";
import { Rig, describe, fakeAuthenticate, frame, pairsSeen, seededRandom } from "./harness.js";

const rigs: Rig[] = [];
function track(r: Rig): Rig {
  rigs.push(r);
  return r;
}

const LCP = PppProtocol.LCP;

function lcpFrame(p: Parameters<typeof encodeLcp>[0]): Buffer {
  return frame(LCP, encodeLcp(p));
}

/** The frames the server sent whose summary starts with `prefix`. */
function sent(r: Rig, prefix: string): string[] {
  return r.summary("server").filter((s) => s.startsWith(`server ${prefix}`));
}

void t.test("CHAP login: LCP, CHAP, IPCP with address and DNS", async (t) => {
  const r = track(new Rig({ server: { authProtocols: ["chap", "pap"] } }).start());
  await r.run(100);
  const s = r.summary();
  t.match(s[0], /^server LCP ConfReq 1 \[mru=1462 authProtocol=chap magicNumber\]$/, "MRU 1500-38, CHAP first, Magic-Number");
  t.ok(s.some((x) => /^server CHAP Challenge 1 lns$/.test(x)));
  t.ok(s.some((x) => /^client CHAP Response 1 alice$/.test(x)));
  t.ok(s.some((x) => /^server CHAP Success 1 "Welcome"$/.test(x)));
  t.ok(s.some((x) => x === "server IPCP ConfReq 1 [ipAddress=10.231.0.1]"), "our own address");
  t.ok(s.some((x) => x === "server IPCP ConfNak 1 [ipAddress=10.231.100.1 primaryDns=192.0.2.53 secondaryDns=192.0.2.54]"), "0.0.0.0 Nak'd with the assigned address");
  t.equal(r.serverUp.length, 1);
  t.match(r.serverUp[0], { username: "alice", authProtocol: "chap", address: "10.231.100.1", primaryDns: "192.0.2.53", mru: 1462, proxiedLcp: false });
  t.match(r.clientUp[0], { address: "10.231.100.1", primaryDns: "192.0.2.53", secondaryDns: "192.0.2.54", peerAddress: "10.231.0.1", peerMru: 1462 });
  t.equal(r.authRequests[0]?.kind, "chap");
  t.equal(r.server.status().phase, "network");
  t.equal(r.server.counter("internal-error"), 0);
  t.end();
});

void t.test("PAP login, and CHAP refused by the peer falls back to PAP (configured order)", async (t) => {
  const pap = track(new Rig({ server: { authProtocols: ["pap"] } }).start());
  await pap.run(100);
  t.ok(pap.summary().includes("client PAP AuthReq 1 alice"));
  t.ok(pap.summary().includes('server PAP AuthAck 1 "Welcome"'));
  t.equal(pap.serverUp[0]?.authProtocol, "pap");

  const fallback = track(new Rig({ server: { authProtocols: ["chap", "pap"] }, client: { authProtocols: ["pap"] } }).start());
  await fallback.run(100);
  const s = fallback.summary();
  t.ok(s.some((x) => /^client LCP ConfNak \d+ \[authProtocol=pap\]$/.test(x)), "the peer Naks CHAP with PAP");
  t.ok(s.some((x) => /^server LCP ConfReq \d+ \[mru=1462 authProtocol=pap magicNumber\]$/.test(x)), "next request asks PAP");
  t.equal(fallback.serverUp[0]?.authProtocol, "pap");
  t.end();
});

void t.test("no authentication protocol in common: Terminate, RFC 3145 code 15", async (t) => {
  const r = track(new Rig({ server: { authProtocols: ["chap"] }, client: { authProtocols: ["pap"] } }).start());
  await r.run(10_000);
  t.equal(r.serverDown.length, 1);
  t.equal(r.serverDown[0]?.reason, "auth-protocol-refused");
  t.equal(r.serverDown[0]?.ppp.disconnectCode, PppDisconnectCode.AuthProtocolUnacceptable);
  t.ok(sent(r, "LCP TermReq").length >= 1);
  t.equal(r.serverUp.length, 0);
  t.end();
});

void t.test("a peer that Rejects the Authentication-Protocol option is terminated", async (t) => {
  const r = track(new Rig({ withClient: false }).start());
  r.inject(lcpFrame({ kind: "ConfRej", identifier: 1, options: [{ name: "authProtocol", value: { kind: "chap", algorithm: 5 } }] }));
  await r.run(10_000);
  t.equal(r.serverDown[0]?.reason, "auth-protocol-refused");
  t.end();
});

void t.test("CHAP and PAP with a bad password: Failure/Nak, then LCP Terminate; causes for CDN and accounting", async (t) => {
  for (const proto of ["chap", "pap"] as const) {
    const r = track(new Rig({ server: { authProtocols: [proto] }, client: { password: "wrong" } }).start());
    await r.run(10_000);
    const s = r.summary("server");
    const refusal = proto === "chap" ? 'server CHAP Failure 1 "Bad password"' : 'server PAP AuthNak 1 "Bad password"';
    const at = s.indexOf(refusal);
    t.ok(at >= 0, `${proto}: refusal sent`);
    t.ok(s.slice(at).some((x) => x.startsWith("server LCP TermReq")), `${proto}: then LCP Terminate-Request`);
    t.equal(r.serverDown.length, 1);
    const cause = r.serverDown[0];
    t.equal(cause?.reason, "auth-failed");
    t.equal(cause?.ppp.disconnectCode, PppDisconnectCode.AuthFailed);
    t.equal(cause?.acctTerminateCause, AcctTerminateCause.UserError);
    t.equal(r.clientDown[0]?.reason, "auth-refused-by-peer");
    t.equal(r.serverUp.length, 0);
  }
  t.end();
});

void t.test("the authenticate callback failing or answering late", async (t) => {
  const failing = track(
    new Rig({
      authenticate: () => Promise.reject(new Error("radius down")),
    }).start(),
  );
  await failing.run(10_000);
  t.equal(failing.serverDown[0]?.reason, "auth-error");
  t.equal(failing.serverDown[0]?.acctTerminateCause, AcctTerminateCause.NasError);

  const throwing = track(
    new Rig({
      authenticate: () => {
        throw new Error("bug");
      },
    }).start(),
  );
  await throwing.run(10_000);
  t.equal(throwing.serverDown[0]?.reason, "auth-error", "a callback that throws is an authentication error, not a crash");

  let release: (r: AuthResult) => void = () => undefined;
  const late = track(new Rig({ authenticate: () => new Promise<AuthResult>((resolve) => (release = resolve)) }).start());
  await late.run(100);
  late.server.stop("lost-carrier");
  t.equal(late.serverDown[0]?.reason, "lost-carrier");
  const before = late.frames.length;
  release({ ok: true, address: "10.0.0.9" });
  await late.run(100);
  t.equal(late.frames.filter((f) => f.from === "server").length, late.frames.slice(0, before).filter((f) => f.from === "server").length, "nothing sent after the end");
  t.equal(late.serverUp.length, 0);
  t.equal(late.server.counter("internal-error"), 0);
  t.end();
});

void t.test("authentication timeouts: CHAP Challenge retransmitted, PAP waited for", async (t) => {
  const chap = track(new Rig({ server: { authProtocols: ["chap"] } }));
  chap.lose = (c) => c.from === "client" && describe(c.frame).startsWith("CHAP");
  chap.start();
  await chap.run(40_000, 100);
  const challenges = chap.frames.filter((f) => f.from === "server" && describe(f.frame).startsWith("CHAP Challenge"));
  t.equal(challenges.length, 10, "ppp_max_configure Challenges");
  t.equal((challenges[1]?.atMs ?? 0) - (challenges[0]?.atMs ?? 0), 3000, "every ppp_restart_time");
  t.ok(challenges.every((c) => describe(c.frame) === "CHAP Challenge 1 lns"), "same Identifier each time");
  t.equal(chap.serverDown[0]?.reason, "auth-timeout");
  t.equal(chap.serverDown[0]?.ppp.disconnectCode, PppDisconnectCode.AuthFsmTimeout);

  const pap = track(new Rig({ server: { authProtocols: ["pap"] } }));
  pap.lose = (c) => c.from === "client" && describe(c.frame).startsWith("PAP");
  pap.start();
  await pap.run(40_000, 100);
  t.equal(pap.serverDown[0]?.reason, "auth-timeout");
  t.ok((pap.server.ended !== undefined), "ended");
  t.end();
});

void t.test("IPCP: no DNS configured or given: the DNS options are rejected", async (t) => {
  const r = track(new Rig({ authenticate: () => Promise.resolve({ ok: true, address: "10.231.100.7" }) }).start());
  await r.run(100);
  t.ok(r.summary().includes("server IPCP ConfRej 1 [primaryDns=0.0.0.0 secondaryDns=0.0.0.0]"));
  t.match(r.clientUp[0], { address: "10.231.100.7", primaryDns: undefined });
  t.match(r.serverUp[0], { address: "10.231.100.7", primaryDns: undefined });

  const configured = track(new Rig({ server: { primaryDns: "198.51.100.1", secondaryDns: "0.0.0.0" }, authenticate: () => Promise.resolve({ ok: true, address: "10.231.100.8" }) }).start());
  await configured.run(100);
  t.ok(configured.summary().includes("server IPCP ConfRej 1 [secondaryDns=0.0.0.0]"), "0.0.0.0 means none");
  t.match(configured.clientUp[0], { address: "10.231.100.8", primaryDns: "198.51.100.1", secondaryDns: undefined });
  t.end();
});

void t.test("IPCP: NBNS, IP-Compression and unknown options rejected; address Nak'd; missing address solicited", async (t) => {
  const r = track(new Rig());
  r.lose = (c) => c.from === "client" && describe(c.frame).startsWith("IPCP");
  r.start();
  await r.run(100);
  t.equal(r.server.status().phase, "network");
  const answers = (fn: () => void): string[] => {
    const before = r.frames.length;
    fn();
    return r.frames.slice(before).map((f) => describe(f.frame));
  };
  t.same(
    answers(() => {
      r.inject(
        frame(
          PppProtocol.IPCP,
          encodeIpcp({
            kind: "ConfReq",
            identifier: 1,
            options: [
              { name: "ipAddress", value: 0 },
              { name: "primaryNbns", value: 0 },
              { name: "ipCompressionProtocol", value: Buffer.from("002d0f01", "hex") },
              { name: "unknown", type: 200, data: Buffer.from("abc") },
            ],
          }),
        ),
      );
    }),
    ["IPCP ConfRej 1 [primaryNbns=0.0.0.0 ipCompressionProtocol=002d0f01 unknown200]"],
    "only the rejected ones, unchanged",
  );
  t.same(
    answers(() => {
      r.inject(frame(PppProtocol.IPCP, encodeIpcp({ kind: "ConfReq", identifier: 2, options: [{ name: "ipAddress", value: 0x01020304 }] })));
    }),
    ["IPCP ConfNak 2 [ipAddress=10.231.100.1]"],
    "a wrong address is Nak'd with the assigned one",
  );
  t.same(
    answers(() => {
      r.inject(frame(PppProtocol.IPCP, encodeIpcp({ kind: "ConfReq", identifier: 3, options: [] })));
    }),
    ["IPCP ConfNak 3 [ipAddress=10.231.100.1]"],
    "no address asked: told which one to use",
  );
  t.same(
    answers(() => {
      r.inject(frame(PppProtocol.IPCP, encodeIpcp({ kind: "ConfReq", identifier: 4, options: [{ name: "ipAddress", value: 0x0ae76401 }] })));
    }),
    ["IPCP ConfAck 4 [ipAddress=10.231.100.1]"],
  );
  t.end();
});

void t.test("Max-Failure: a peer insisting on its own address gets 5 Naks, then Rejects; IPCP fails with code 19", async (t) => {
  const r = track(new Rig());
  r.lose = (c) => c.from === "client" && describe(c.frame).startsWith("IPCP");
  r.start();
  await r.run(100);
  t.equal(r.server.status().phase, "network");
  const before = r.frames.length;
  for (let i = 0; i < 8; i++) r.inject(frame(PppProtocol.IPCP, encodeIpcp({ kind: "ConfReq", identifier: 50 + i, options: [{ name: "ipAddress", value: 0x01020304 }] })));
  const answers = r.frames.slice(before).filter((f) => f.from === "server").map((f) => describe(f.frame));
  t.same(answers.slice(0, 5), [50, 51, 52, 53, 54].map((i) => `IPCP ConfNak ${i} [ipAddress=10.231.100.1]`));
  t.same(answers.slice(5), [55, 56, 57].map((i) => `IPCP ConfRej ${i} [ipAddress=1.2.3.4]`), "Naks turned into Rejects");
  await r.run(40_000, 100);
  t.equal(r.serverDown[0]?.reason, "no-address");
  t.equal(r.serverDown[0]?.ppp.disconnectCode, PppDisconnectCode.NoAcceptableAddress);
  t.end();
});

void t.test("IPV6CP with ipv6 configured: identifiers negotiated; zero and clashing ones Nak'd", async (t) => {
  const r = track(new Rig({ server: { ipv6: true }, client: { ipv6: true } }).start());
  await r.run(100);
  t.equal(r.server.status().ipv6cp, "Opened");
  t.equal(r.client?.status().ipv6cp, "Opened");
  const info = r.server.info();
  t.same(Buffer.from(info.ipv6?.localInterfaceId ?? []).toString("hex"), "0000000000000001", "ours is ::1 by default");
  t.not(Buffer.from(info.ipv6?.peerInterfaceId ?? []).toString("hex"), "0000000000000000");
  t.same(info.ipv6?.peerInterfaceId, r.client?.info().ipv6?.localInterfaceId);

  const m = track(new Rig({ server: { ipv6: true }, client: { ipv6: true } }));
  m.lose = (c) => c.from === "client" && describe(c.frame).startsWith("IPV6CP");
  m.start();
  await m.run(100);
  const before = m.frames.length;
  m.inject(frame(PppProtocol.IPV6CP, encodeIpv6cp({ kind: "ConfReq", identifier: 9, options: [{ name: "interfaceIdentifier", value: Buffer.alloc(8) }] })));
  m.inject(frame(PppProtocol.IPV6CP, encodeIpv6cp({ kind: "ConfReq", identifier: 10, options: [{ name: "interfaceIdentifier", value: Buffer.from("0000000000000001", "hex") }] })));
  m.inject(frame(PppProtocol.IPV6CP, encodeIpv6cp({ kind: "ConfReq", identifier: 11, options: [{ name: "ipv6CompressionProtocol", value: Buffer.from("004f0000", "hex") }] })));
  const a = m.frames.slice(before).map((f) => describe(f.frame));
  t.match(a[0], /^IPV6CP ConfNak 9 \[interfaceIdentifier=[0-9a-f]{16}\]$/);
  t.notMatch(a[0], /=0000000000000000\]/, "suggests a non-zero identifier");
  t.match(a[1], /^IPV6CP ConfNak 10 \[interfaceIdentifier=[0-9a-f]{16}\]$/);
  t.notMatch(a[1], /=0000000000000001\]/, "never our own");
  t.equal(a[2], "IPV6CP ConfRej 11 [ipv6CompressionProtocol=004f0000]");

  const req = track(new Rig({ server: { ipv6: true }, client: { ipv6: true }, authenticate: () => Promise.resolve({ ok: true, address: "10.231.100.1", ipv6InterfaceId: Buffer.from("0ae7640100000000", "hex") }) }).start());
  await req.run(100);
  t.equal(Buffer.from(req.server.info().ipv6?.peerInterfaceId ?? []).toString("hex"), "0ae7640100000000", "an identifier required by the caller is imposed");
  t.end();
});

void t.test("IPV6CP without ipv6: LCP Protocol-Reject; the client carries on with IPv4", async (t) => {
  const r = track(new Rig({ client: { ipv6: true } }).start());
  await r.run(100);
  t.ok(sent(r, "LCP ProtRej").some((x) => x.endsWith("0x8057")), "IPV6CP Protocol-Rejected");
  t.equal(r.clientUp.length, 1);
  t.notOk(r.client?.status().ipv6cp === "Opened");
  t.equal(r.client?.ended, undefined);
  t.end();
});

void t.test("CCP, unknown protocols, unknown Codes and data before IPCP opens", async (t) => {
  const r = track(new Rig());
  r.start();
  // Before the Network phase everything but LCP (and authentication) is silently discarded.
  r.inject(frame(PppProtocol.CCP, encodeCcp({ kind: "ConfReq", identifier: 1, options: [{ name: "unknown", type: 18, data: Buffer.from("000000", "hex") }] })));
  t.equal(r.server.counter("unknown-protocol-discarded"), 1);
  await r.run(100);
  const before = r.frames.length;
  r.inject(frame(PppProtocol.CCP, encodeCcp({ kind: "ConfReq", identifier: 2, options: [{ name: "unknown", type: 18, data: Buffer.from("000000", "hex") }] })));
  r.inject(frame(0x8031, Buffer.from("01010004", "hex")));
  r.inject(frame(0x0231, Buffer.from("hello")));
  r.inject(Buffer.from("ff03c0210c05000400", "hex").subarray(0, 8));
  r.inject(frame(PppProtocol.IPCP, Buffer.from("09070004", "hex")));
  r.inject(Buffer.from("ff030200aabb", "hex"));
  const answers = r.frames.slice(before).map((f) => describe(f.frame));
  t.match(answers[0], /^LCP ProtRej \d+ 0x80fd$/, "CCP");
  t.match(answers[1], /^LCP ProtRej \d+ 0x8031$/, "an NCP we do not run");
  t.match(answers[2], /^LCP ProtRej \d+ 0x0231$/);
  t.match(answers[3], /^LCP CodeRej \d+ code=12$/, "LCP Code 12");
  t.match(answers[4], /^IPCP CodeRej \d+ code=9$/, "NCPs have no Echo (RFC 1332 2)");
  t.match(answers[5], /^LCP ProtRej \d+ 0x0200$/, "an invalid protocol number is Protocol-Rejected (RFC 1661 2)");
  t.equal(answers.length, 6);
  t.equal(r.server.ended, undefined, "the session carries on");
  t.end();
});

void t.test("LCP Echo: answered; sent on a silent link; the session drops after idle_echo_timeout", async (t) => {
  const r = track(new Rig().start());
  await r.run(100);
  const echo = lcpFrame({ kind: "EchoReq", identifier: 77, magic: 0x11111111, data: Buffer.from("ping") });
  const before = r.frames.length;
  r.inject(echo);
  const reply = r.frames.slice(before).map((f) => describe(f.frame));
  t.same(reply, ["LCP EchoReply 77"]);
  const replyFrame = r.frames[before]?.frame;
  t.equal(replyFrame?.readUInt32BE(8), r.server.info().magic, "our Magic-Number");
  t.equal(replyFrame?.subarray(12).toString(), "ping");

  // The client answers: an Echo every echo_timeout of silence, the session stays.
  await r.run(35_000, 500);
  const echoes = sent(r, "LCP EchoReq");
  t.equal(echoes.length, 3);
  t.equal(r.server.counter("echo-reply-received"), 3);
  t.equal(r.server.ended, undefined);

  // Traffic seen by the data plane keeps the Echo quiet (ppp_keepalive yes).
  for (let i = 0; i < 30; i++) {
    r.server.noteActivity();
    await r.run(1000, 500);
  }
  t.equal(sent(r, "LCP EchoReq").length, 3, "no Echo while traffic flows");

  // Then the peer goes silent.
  r.lose = (c) => c.from === "client";
  r.server.noteActivity();
  const silentFrom = r.clock.now();
  await r.run(260_000, 1000);
  t.equal(r.serverDown[0]?.reason, "echo-timeout");
  t.equal(r.serverDown[0]?.ppp.disconnectCode, PppDisconnectCode.KeepaliveFailure);
  const terms = r.frames.filter((f) => f.from === "server" && describe(f.frame).startsWith("LCP TermReq"));
  t.ok((terms[0]?.atMs ?? 0) - silentFrom >= 240_000 && (terms[0]?.atMs ?? 0) - silentFrom < 241_000, "dropped after idle_echo_timeout");
  t.ok(r.frames.filter((f) => f.from === "server" && f.atMs > silentFrom && describe(f.frame).startsWith("LCP EchoReq")).length >= 20, "an Echo every 10 s meanwhile");
  t.end();
});

void t.test("LCP Echo as a line-quality probe: round trips and losses, in echoStats and to onEcho", async (t) => {
  const samples: EchoSample[] = [];
  const r = track(new Rig({ latencyMs: 20, server: { onEcho: (s) => samples.push(s) } }).start());
  await r.run(1000);
  await r.run(31_000, 500);
  t.equal(r.server.echoStats.sent, 3);
  t.equal(r.server.echoStats.replies, 3);
  t.equal(r.server.echoStats.lastRttMs, 40, "two 20 ms legs");
  t.same(samples, [{ kind: "reply", rttMs: 40 }, { kind: "reply", rttMs: 40 }, { kind: "reply", rttMs: 40 }]);
  // The peer stops answering for two intervals: each unanswered request is lost when the next goes out.
  r.lose = (c) => c.from === "client";
  await r.run(20_000, 500);
  r.lose = () => false;
  await r.run(10_000, 500);
  t.ok(r.server.echoStats.lost >= 2, `lost ${r.server.echoStats.lost}`);
  t.equal(samples.filter((x) => x.kind === "lost").length, r.server.echoStats.lost);
  t.equal(r.server.echoStats.recentCount, r.server.echoStats.replies + r.server.echoStats.lost);
  t.ok((r.server.echoStats.recentLost & 0b110) !== 0, "the losses are among the recent ones");
  t.end();
});

void t.test("ppp_keepalive no: an Echo every echo_timeout whatever the traffic", async (t) => {
  const r = track(new Rig({ server: { echoOnlyWhenIdle: false } }).start());
  await r.run(100);
  for (let i = 0; i < 30; i++) {
    r.server.noteActivity();
    await r.run(1000, 500);
  }
  t.equal(sent(r, "LCP EchoReq").length, 3);
  t.end();
});

void t.test("Terminate from the peer, from us, and the lower layer going away", async (t) => {
  const a = track(new Rig().start());
  await a.run(100);
  a.client?.close("user-request", "bye");
  await a.run(50);
  t.ok(a.summary().some((x) => x.startsWith('client LCP TermReq') && x.includes("User request")));
  t.ok(sent(a, "LCP TermAck").length === 1);
  t.equal(a.clientDown[0]?.reason, "user-request");
  await a.run(3000, 100);
  t.equal(a.serverDown.length, 1, "down once the Restart period after the Terminate-Ack is over");
  t.match(a.serverDown[0], { reason: "user-request", by: "peer", terminateMessage: "User request: bye", acctTerminateCause: AcctTerminateCause.UserRequest });
  t.equal(a.serverDown[0]?.ppp.disconnectCode, PppDisconnectCode.NormalDisconnect);
  t.equal(a.serverDown[0]?.ppp.direction, 1);

  const b = track(new Rig().start());
  await b.run(100);
  b.server.close("admin-reset", "drop session");
  await b.run(3100, 100);
  t.ok(sent(b, "LCP TermReq").some((x) => x.includes("Administrative disconnect")));
  t.match(b.serverDown[0], { reason: "admin-reset", by: "local", acctTerminateCause: AcctTerminateCause.AdminReset });
  t.equal(b.serverDown[0]?.ppp.direction, 2);
  t.equal(b.clientDown[0]?.reason, "user-request", "the client saw a Terminate-Request");

  const c = track(new Rig().start());
  await c.run(100);
  const before = c.frames.length;
  c.server.stop();
  t.equal(c.serverDown[0]?.reason, "lost-carrier");
  t.equal(c.serverDown[0]?.acctTerminateCause, AcctTerminateCause.LostCarrier);
  t.equal(c.frames.length, before, "nothing sent when the lower layer is gone");
  c.server.close();
  c.server.stop();
  t.equal(c.serverDown.length, 1, "down exactly once");

  const d = track(new Rig({ withClient: false }));
  d.server.close("admin-reset");
  t.equal(d.serverDown[0]?.reason, "admin-reset", "closing a session never started ends it at once");
  d.server.start();
  t.equal(d.toClient.length, 0);
  t.end();
});

void t.test("stop() before start(), and the authentication timeout following ppp_restart_time x ppp_max_configure", async (t) => {
  const idle = track(new Rig({ withClient: false }));
  idle.server.stop();
  t.equal(idle.serverDown[0]?.reason, "lost-carrier");
  t.equal(idle.server.status().protocolErrors, 0, "no illegal Down in Initial");

  const fast = track(new Rig({ server: { authProtocols: ["pap"], restartTimeMs: 1000, maxConfigure: 3 } }));
  t.equal(fast.server.config.authTimeoutMs, 3000);
  fast.lose = (c) => c.from === "client" && describe(c.frame).startsWith("PAP");
  fast.start();
  await fast.run(2900, 100);
  t.equal(fast.serverDown.length, 0);
  await fast.run(5000, 100);
  t.equal(fast.serverDown[0]?.reason, "auth-timeout");
  t.end();
});

void t.test("Max-Configure: 10 Configure-Requests 3 s apart, then down as lcp-silent (RFC 3145 code 6)", async (t) => {
  const r = track(new Rig({ withClient: false }).start());
  await r.run(40_000, 100);
  const reqs = r.frames.filter((f) => describe(f.frame).startsWith("LCP ConfReq"));
  t.equal(reqs.length, 10);
  t.same(
    reqs.map((f) => f.atMs),
    [0, 3000, 6000, 9000, 12000, 15000, 18000, 21000, 24000, 27000],
  );
  t.same(reqs.map((f) => describe(f.frame).split(" ")[2]), ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"], "a new Identifier each time");
  t.equal(r.serverDown[0]?.reason, "lcp-silent");
  t.equal(r.serverDown[0]?.ppp.disconnectCode, PppDisconnectCode.NoRecognizableLcp);
  t.equal(r.clock.pending, 0, "no timer left");

  const shorter = track(new Rig({ withClient: false, server: { restartTimeMs: 1000, maxConfigure: 3 } }).start());
  await shorter.run(10_000, 100);
  t.same(shorter.frames.map((f) => f.atMs), [0, 1000, 2000]);
  t.end();
});

void t.test("a peer that Naks forever is bounded; a peer that never Acks hits Max-Configure (lcp-timeout)", async (t) => {
  const r = track(new Rig({ withClient: false }).start());
  for (let i = 0; i < 30 && r.server.ended === undefined; i++) {
    const last = r.toClient.map((f) => describe(f)).filter((d) => d.startsWith("LCP ConfReq")).pop() ?? "";
    const id = Number(/ConfReq (\d+)/.exec(last)?.[1]);
    r.inject(lcpFrame({ kind: "ConfNak", identifier: id, options: [{ name: "mru", value: 1200 }] }));
  }
  await r.run(10_000, 100);
  t.equal(r.serverDown[0]?.reason, "lcp-timeout");
  t.ok(r.toClient.length < 20, "bounded");

  const quiet = track(new Rig({ withClient: false }).start());
  quiet.inject(lcpFrame({ kind: "ConfReq", identifier: 1, options: [] }));
  await quiet.run(40_000, 100);
  t.equal(quiet.serverDown[0]?.reason, "lcp-timeout", "heard but never agreed");
  t.equal(quiet.serverDown[0]?.ppp.disconnectCode, PppDisconnectCode.LcpFsmTimeout);
  t.end();
});

void t.test("our first Configure-Request lost: resent as soon as the peer's first one arrives (no 3 s wait)", async (t) => {
  const r = track(new Rig({ withClient: false }).start());
  t.same(r.toClient.map((f) => describe(f)), ["LCP ConfReq 1 [mru=1462 authProtocol=chap magicNumber]"]);
  await r.run(160);
  r.toClient.length = 0;
  r.inject(lcpFrame({ kind: "ConfReq", identifier: 1, options: [{ name: "accm", value: 0 }, { name: "magicNumber", value: 0x7e0023da }] }));
  t.same(r.toClient.map((f) => describe(f)), ["LCP ConfReq 2 [mru=1462 authProtocol=chap magicNumber]", "LCP ConfAck 1 [accm=0 magicNumber]"], "at once, at 160 ms");
  t.equal(r.server.counter("lcp-early-resend"), 1);
  r.toClient.length = 0;
  r.inject(lcpFrame({ kind: "ConfReq", identifier: 2, options: [{ name: "magicNumber", value: 0x7e0023da }] }));
  t.same(r.toClient.map((f) => describe(f)), ["LCP ConfAck 2 [magicNumber]"], "only for the first one");
  t.end();
});

void t.test("LCP option handling: ACCM, PFC, ACFC accepted; MRRU, Endpoint Discriminator, Quality, unknown rejected", (t) => {
  const r = track(new Rig({ withClient: false }).start());
  r.toClient.length = 0;
  const options: LcpOption[] = [
    { name: "mru", value: 1400 },
    { name: "accm", value: 0xffffffff },
    { name: "pfc" },
    { name: "acfc" },
    { name: "magicNumber", value: 42 },
    { name: "mrru", value: 1614 },
    { name: "endpointDiscriminator", value: { class: 2, address: Buffer.from([10, 0, 0, 1]) } },
    { name: "qualityProtocol", value: { protocol: 0xc025, data: Buffer.from("000003e8", "hex") } },
    { name: "unknown", type: 13, data: Buffer.from([6]) },
  ];
  r.inject(lcpFrame({ kind: "ConfReq", identifier: 3, options }));
  t.same(r.toClient.map((f) => describe(f)).pop(), "LCP ConfRej 3 [mrru=1614 endpointDiscriminator qualityProtocol unknown13]");
  r.toClient.length = 0;
  r.inject(lcpFrame({ kind: "ConfReq", identifier: 4, options: options.slice(0, 5) }));
  t.same(r.toClient.map((f) => describe(f)), ["LCP ConfAck 4 [mru=1400 accm=4294967295 pfc acfc magicNumber]"]);
  r.toClient.length = 0;
  r.inject(lcpFrame({ kind: "ConfReq", identifier: 5, options: [{ name: "magicNumber", value: 0 }, { name: "mru", value: 20 }] }));
  t.match(r.toClient.map((f) => describe(f)).pop(), /^LCP ConfNak 5 \[magicNumber mru=68\]$/, "zero Magic-Number and a tiny MRU Nak'd");
  r.toClient.length = 0;
  r.inject(lcpFrame({ kind: "ConfReq", identifier: 6, options: [{ name: "authProtocol", value: { kind: "pap" } }] }));
  t.same(r.toClient.map((f) => describe(f)), ["LCP ConfRej 6 [authProtocol=pap]"], "the LNS does not authenticate itself");
  t.end();
});

void t.test("l2tp_mtu sets the MRU offered: 1500 - 38, 1500 when the path allows, never a 1492 cap", (t) => {
  t.equal(mruForL2tpMtu(1500), 1462);
  t.equal(mruForL2tpMtu(1538), 1500);
  t.equal(mruForL2tpMtu(9000), 1500);
  t.equal(mruForL2tpMtu(1400), 1362);
  t.equal(mruForL2tpMtu(0), 1462);
  const big = track(new Rig({ withClient: false, server: { l2tpMtu: 1600 } }).start());
  t.same(big.toClient.map((f) => describe(f)), ["LCP ConfReq 1 [authProtocol=chap magicNumber]"], "MRU 1500 is the default: not sent");
  t.end();
});

void t.test("Magic-Number loop detection: a looped-back link is found and dropped (RFC 1661 6.4, RFC 3145 code 7)", (t) => {
  const clock = new FakeClock();
  const downs: DisconnectCause[] = [];
  let self: PppServerSession | undefined;
  const sentFrames: string[] = [];
  self = new PppServerSession({
    clock,
    random: seededRandom(3),
    config: { authProtocols: ["chap"] },
    send: (f) => {
      sentFrames.push(describe(f));
      clock.setTimeout(() => self?.receive(f), 1);
    },
    authenticate: fakeAuthenticate,
    events: { up: () => undefined, down: (c) => downs.push(c) },
  });
  self.start();
  clock.advance(10_000);
  t.equal(downs[0]?.reason, "loopback");
  t.equal(downs[0]?.ppp.disconnectCode, PppDisconnectCode.MagicNumberError);
  t.ok(sentFrames.some((d) => d.startsWith("LCP ConfNak")), "Nak'd its own Magic-Number");
  t.ok(sentFrames.length < 40);
  self = undefined;
  t.end();
});

void t.test("proxy LCP and proxy CHAP: no renegotiation, the proxied credentials checked, Success with the LAC's Identifier", async (t) => {
  const challenge = Buffer.from("00112233445566778899aabbccddeeff", "hex");
  const sentConfreq: LcpOption[] = [
    { name: "mru", value: 1460 },
    { name: "authProtocol", value: { kind: "chap", algorithm: 5 } },
    { name: "magicNumber", value: 0x0a0b0c0d },
  ];
  const recvConfreq: LcpOption[] = [
    { name: "accm", value: 0 },
    { name: "magicNumber", value: 0x01020304 },
  ];
  const body = (o: LcpOption[]): Buffer => encodeLcp({ kind: "ConfReq", identifier: 1, options: o }).subarray(4);
  const proxy: ProxyInfo = {
    initialReceivedLcpConfreq: body(recvConfreq),
    lastSentLcpConfreq: body(sentConfreq),
    lastReceivedLcpConfreq: body(recvConfreq),
    authenType: 2,
    authenName: "alice",
    authenChallenge: challenge,
    authenId: 5,
    authenResponse: chapMd5Response(5, "wonderland", challenge),
  };
  // @lnsd/l2tp's ProxyInfo is accepted as it is (checked by the compiler here).
  const asPpp: PppProxyInfo = proxy;
  const r = track(new Rig({ withClient: false, proxy: asPpp }).start());
  await r.run(10);
  const d = r.toClient.map((f) => describe(f));
  t.notOk(d.some((x) => x.startsWith("LCP ConfReq")), "LCP not renegotiated");
  t.equal(d[0], 'CHAP Success 5 "Welcome"');
  t.equal(d[1], "IPCP ConfReq 1 [ipAddress=10.231.0.1]");
  t.match(r.authRequests[0], { kind: "chap", username: "alice", identifier: 5, proxied: true });
  t.equal(r.server.status().lcp, "Opened");
  t.equal(r.server.status().history.lcp[0]?.event, "proxy");
  r.inject(frame(PppProtocol.IPCP, encodeIpcp({ kind: "ConfReq", identifier: 1, options: [{ name: "ipAddress", value: 0x0ae76401 }] })));
  r.inject(frame(PppProtocol.IPCP, encodeIpcp({ kind: "ConfAck", identifier: 1, options: [{ name: "ipAddress", value: 0x0ae70001 }] })));
  await r.run(10);
  t.match(r.serverUp[0], { username: "alice", address: "10.231.100.1", proxiedLcp: true, proxiedAuth: true, magic: 0x0a0b0c0d, peerMagic: 0x01020304, mru: 1460 });
  // A retransmitted Response gets the same answer (RFC 1994 4.2).
  r.toClient.length = 0;
  r.inject(frame(PppProtocol.CHAP, encodeChap({ kind: "Response", identifier: 5, value: proxy.authenResponse ?? Buffer.alloc(16), name: Buffer.from("alice") })));
  t.same(r.toClient.map((f) => describe(f)), ['CHAP Success 5 "Welcome"']);

  // A whole Configure-Request with its header is accepted as well.
  const whole = track(new Rig({ withClient: false, proxy: { ...proxy, lastSentLcpConfreq: encodeLcp({ kind: "ConfReq", identifier: 9, options: sentConfreq }) } }).start());
  await whole.run(10);
  t.equal(whole.server.info().proxiedLcp, true);

  // Wrong proxied password: Failure with the LAC's Identifier, then Terminate.
  const bad = track(new Rig({ withClient: false, proxy: { ...proxy, authenResponse: Buffer.alloc(16, 1) } }).start());
  await bad.run(10_000);
  t.equal(bad.toClient.map((f) => describe(f))[0], 'CHAP Failure 5 "Bad password"');
  t.equal(bad.serverDown[0]?.reason, "auth-failed");

  // Proxy LCP we would not have agreed to (MRRU): renegotiate from scratch and authenticate ourselves.
  const mp = track(new Rig({ withClient: false, proxy: { ...proxy, lastSentLcpConfreq: body([...sentConfreq, { name: "mrru", value: 1614 }]) } }).start());
  t.equal(describe(mp.toClient[0] ?? Buffer.alloc(0)), "LCP ConfReq 1 [mru=1462 authProtocol=chap magicNumber]");
  t.equal(mp.server.counter("proxy-lcp-renegotiated"), 1);

  // Proxy LCP fine, proxy authentication of another protocol (PAP while CHAP was negotiated): our own Challenge.
  const other = track(new Rig({ withClient: false, proxy: { ...proxy, authenType: 3, authenResponse: Buffer.from("wonderland") } }).start());
  await other.run(10);
  t.match(describe(other.toClient[0] ?? Buffer.alloc(0)), /^CHAP Challenge 1 lns$/);
  t.equal(other.server.counter("proxy-auth-not-used"), 1);

  // Proxy PAP with proxy LCP that negotiated PAP.
  const pap = track(
    new Rig({
      withClient: false,
      proxy: { ...proxy, lastSentLcpConfreq: body([{ name: "authProtocol", value: { kind: "pap" } }, { name: "magicNumber", value: 7 }]), authenType: 3, authenId: 2, authenResponse: Buffer.from("wonderland") },
    }).start(),
  );
  await pap.run(10);
  t.equal(describe(pap.toClient[0] ?? Buffer.alloc(0)), 'PAP AuthAck 2 "Welcome"');
  t.match(pap.authRequests[0], { kind: "pap", username: "alice", proxied: true });
  t.end();
});

void t.test("RXJ-: a Code-Reject of Configure-Request ends LCP; a Protocol-Reject of IPCP leaves no NCP", async (t) => {
  const early = track(new Rig({ withClient: false }).start());
  early.inject(lcpFrame({ kind: "CodeRej", identifier: 1, rejected: Buffer.from("0101000e", "hex") }));
  t.equal(early.serverDown[0]?.reason, "peer-rejected-lcp", "RXJ- in Req-Sent: tlf at once");

  const opened = track(new Rig().start());
  await opened.run(100);
  opened.inject(lcpFrame({ kind: "CodeRej", identifier: 1, rejected: Buffer.from("0101000e", "hex") }));
  await opened.run(100);
  t.ok(sent(opened, "LCP TermReq").length === 1, "RXJ- in Opened: tld, irc, str");
  t.equal(opened.serverDown[0]?.reason, "peer-rejected-lcp");

  const echoRejected = track(new Rig().start());
  await echoRejected.run(100);
  echoRejected.inject(lcpFrame({ kind: "CodeRej", identifier: 1, rejected: Buffer.from("09010008", "hex") }));
  await echoRejected.run(100);
  t.equal(echoRejected.server.ended, undefined, "RXJ+ (Echo rejected) is harmless");

  const noIpcp = track(new Rig().start());
  await noIpcp.run(100);
  noIpcp.inject(lcpFrame({ kind: "ProtRej", identifier: 1, protocol: PppProtocol.IPCP, rejected: Buffer.from("0101000a03060a000001", "hex") }));
  await noIpcp.run(10_000, 100);
  t.equal(noIpcp.serverDown[0]?.reason, "no-ncp");
  t.equal(noIpcp.serverDown[0]?.ppp.disconnectCode, PppDisconnectCode.NoNcpAvailable);
  t.end();
});

void t.test("the peer renegotiating LCP on a running session ends it", async (t) => {
  const r = track(new Rig().start());
  await r.run(100);
  r.inject(lcpFrame({ kind: "ConfReq", identifier: 99, options: [{ name: "magicNumber", value: 0x0badcafe }] }));
  await r.run(10_000, 100);
  t.equal(r.serverDown[0]?.reason, "lcp-renegotiation");
  t.end();
});

void t.test("retransmitted PAP Authenticate-Request after the Ack is answered again", async (t) => {
  const r = track(new Rig({ server: { authProtocols: ["pap"] } }).start());
  await r.run(100);
  const before = r.frames.length;
  r.inject(frame(PppProtocol.PAP, encodePap({ kind: "AuthReq", identifier: 9, peerId: Buffer.from("alice"), password: Buffer.from("wonderland") })));
  t.same(r.frames.slice(before).map((f) => describe(f.frame)), ['PAP AuthAck 9 "Welcome"']);
  t.equal(r.authRequests.length, 1, "not checked twice");
  t.end();
});

void t.test("a send callback that answers synchronously (sessions wired directly) still converges", (t) => {
  const clock = new FakeClock();
  let client: PppClientSession | undefined;
  let up = 0;
  const server = new PppServerSession({
    clock,
    random: seededRandom(11),
    config: { authProtocols: ["pap"] },
    send: (f) => client?.receive(f),
    authenticate: fakeAuthenticate,
    events: { up: () => up++, down: () => undefined },
  });
  {
    client = new PppClientSession({
      clock,
      random: seededRandom(12),
      config: { username: "alice", password: "wonderland" },
      send: (f) => {
        server.receive(f);
      },
      events: { up: () => up++, down: () => undefined },
    });
    server.start();
    client.start();
    setImmediate(() => {
      setImmediate(() => {
        t.equal(up, 2, "both ends up");
        t.equal(server.counter("internal-error"), 0);
        t.equal(server.status().protocolErrors, 0);
        t.end();
      });
    });
  }
});

void t.test("transitions the scenarios above took (the table test drives every cell)", (t) => {
  const seen = new Set<string>();
  for (const r of rigs) for (const p of pairsSeen(r.histories())) seen.add(p);
  let defined = 0;
  for (const s of FSM_STATES) for (const e of FSM_EVENTS) if (FSM_TRANSITIONS[s][e] !== undefined) defined++;
  t.comment(`session scenarios took ${seen.size} of the ${defined} defined (state, event) pairs: ${[...seen].sort().join(", ")}`);
  t.ok(seen.size >= 30);
  t.end();
});
