// Tunnel and session state machines in-process, under a fake clock.
import t from "tap";
import {
  AvpType,
  CdnResultCode,
  decodeControlMessage,
  encodeControlMessage,
  L2tpErrorCode,
  L2tpMessageType,
  StopCcnResultCode,
  type L2tpAvpMessage,
} from "@lnsd/wire";
import { SESSION_TRANSITIONS, TUNNEL_TRANSITIONS, type Session, type Tunnel } from "../src/index.js";
import { LAC_ADDR, LNS_ADDR, rig } from "./harness.js";

const seen = new Set<string>();
const rigs: ReturnType<typeof rig>[] = [];
function noteHistory(t: Tunnel): void {
  for (const h of t.history) seen.add(`tunnel ${h.from} ${h.event}`);
}
function noteSession(s: Session): void {
  for (const h of s.history) seen.add(`session ${h.from} ${h.event}`);
}
function track(r: ReturnType<typeof rig>): void {
  rigs.push(r);
  for (const ev of [r.lnsEvents, r.lacEvents]) {
    ev.tunnelDown = (tu) => { noteHistory(tu); };
    ev.sessionDown = (_tu, s) => { noteSession(s); };
  }
}
function flushSeen(r: ReturnType<typeof rig>): void {
  for (const node of [r.lns, r.lac]) {
    for (const tu of node.tunnels.values()) {
      noteHistory(tu);
      for (const s of tu.sessions.values()) noteSession(s);
    }
  }
}

function decodeSent(r: ReturnType<typeof rig>, secret?: string): { from: string; msg: L2tpAvpMessage }[] {
  const out: { from: string; msg: L2tpAvpMessage }[] = [];
  for (const p of r.net.sent) {
    if (((p.packet[0] ?? 0) & 0x80) === 0) continue;
    const d = decodeControlMessage(p.packet, secret === undefined ? {} : { secret });
    if (d.ok && d.value.messageType !== "ZLB") out.push({ from: p.from.address === LNS_ADDR.address ? "lns" : "lac", msg: d.value });
  }
  return out;
}

void t.test("a LAC opens a tunnel and places calls; the LNS keeps what ICRQ and ICCN say", (t) => {
  const r = rig();
  track(r);
  r.net.record = true;
  const up: Session[] = [];
  r.lnsEvents.sessionUp = (_t, s) => up.push(s);
  const tun = r.lac.openTunnel(LNS_ADDR);
  t.ok(tun);
  if (tun === undefined) return;
  const proxy = { authenType: 3, authenName: "alice@isp", authenChallenge: Buffer.alloc(16, 7), authenId: 9, authenResponse: Buffer.alloc(16, 3), lastSentLcpConfreq: Buffer.from("0104058c", "hex") };
  for (let i = 0; i < 5; i++) r.lac.placeCall(tun, { call: { callingNumber: `0113496000${i}`, calledNumber: "lns", txConnectSpeed: 80_000_000 }, proxy });
  r.clock.advance(2000);
  t.equal(tun.state, "established");
  const lnsTunnel = [...r.lns.tunnels.values()][0];
  t.equal(lnsTunnel?.state, "established");
  t.equal(lnsTunnel?.peer.hostName, "lac");
  t.equal(tun.peer.hostName, "lns");
  t.equal(up.length, 5);
  t.same(up.map((s) => s.call.callingNumber), ["01134960000", "01134960001", "01134960002", "01134960003", "01134960004"]);
  t.equal(up[0]?.call.txConnectSpeed, 80_000_000);
  t.same(up[0]?.call.proxy?.authenName, "alice@isp");
  t.same(Buffer.from(up[0]?.call.proxy?.lastSentLcpConfreq ?? []), proxy.lastSentLcpConfreq);
  t.equal(r.lns.sessionCount, 5);
  t.equal(r.lns.sessionsInSetupCount, 0);
  const types = decodeSent(r).map((m) => `${m.from}:${m.msg.messageType}`);
  t.same(types.slice(0, 3), ["lac:1", "lns:2", "lac:3"], "SCCRQ, SCCRP, SCCCN");
  t.equal(types.filter((x) => x === "lac:10").length, 5, "five ICRQ");
  t.equal(types.filter((x) => x === "lns:11").length, 5, "five ICRP");
  t.equal(types.filter((x) => x === "lac:12").length, 5, "five ICCN");
  flushSeen(r);
  t.end();
});

void t.test("tunnel authentication with the right secret, hidden AVPs both ways", (t) => {
  const r = rig({ lns: { secret: "s3cret", requireTunnelAuth: true }, lac: { secret: "s3cret" } });
  track(r);
  r.net.record = true;
  const tun = r.lac.openTunnel(LNS_ADDR);
  if (tun === undefined) return;
  r.lac.placeCall(tun, { call: { callingNumber: "0800" } });
  r.clock.advance(2000);
  t.equal(tun.state, "established");
  t.equal(r.lns.sessionCount, 1);
  const msgs = decodeSent(r, "s3cret");
  const sccrq = msgs.find((m) => m.msg.messageType === L2tpMessageType.SCCRQ)?.msg;
  const sccrp = msgs.find((m) => m.msg.messageType === L2tpMessageType.SCCRP)?.msg;
  const scccn = msgs.find((m) => m.msg.messageType === L2tpMessageType.SCCCN)?.msg;
  t.ok(sccrq?.avps[AvpType.Challenge], "LAC challenges");
  t.ok(sccrp?.avps[AvpType.Challenge] && sccrp.avps[AvpType.ChallengeResponse], "LNS answers and challenges");
  t.ok(scccn?.avps[AvpType.ChallengeResponse], "LAC answers");
  const icrq = msgs.find((m) => m.msg.messageType === L2tpMessageType.ICRQ)?.msg;
  t.ok(icrq?.received.find((a) => a.type === AvpType.CallingNumber)?.hidden, "Calling Number hidden on the wire");
  const icrp = msgs.find((m) => m.msg.messageType === L2tpMessageType.ICRP)?.msg;
  t.ok(icrp?.received.find((a) => a.type === AvpType.AssignedSessionId)?.hidden, "LNS sends hidden AVPs too");
  t.equal([...r.lns.tunnels.values()][0]?.sessions.values().next().value?.call.callingNumber, "0800", "hidden value revealed");
  flushSeen(r);
  t.end();
});

void t.test("wrong secret: StopCCN result 4, and no state left after the hold time", (t) => {
  const r = rig({ lns: { secret: "right", stopCcnHoldMs: 31_000 }, lac: { secret: "wrong" } });
  track(r);
  r.net.record = true;
  const tun = r.lac.openTunnel(LNS_ADDR);
  if (tun === undefined) return;
  r.clock.advance(2000);
  const stop = decodeSent(r, "right").find((m) => m.msg.messageType === L2tpMessageType.StopCCN);
  t.equal(stop?.from, "lac", "the LAC finds the LNS's response wrong and stops");
  t.equal(stop?.msg.avps[AvpType.ResultCode]?.resultCode, StopCcnResultCode.NotAuthorized);
  r.clock.advance(40_000);
  t.equal(r.lns.tunnels.size, 0, "LNS tables empty");
  t.equal(r.lac.tunnels.size, 0, "LAC tables empty");
  t.ok(r.lac.counter("tunnel-auth-failed") >= 1);
  t.end();
});

void t.test("LNS requires the LAC to answer its challenge", (t) => {
  // The LAC has no secret: it sends no Challenge, and cannot answer the LNS's.
  const r = rig({ lns: { secret: "x", requireTunnelAuth: true } });
  track(r);
  r.net.record = true;
  r.lac.openTunnel(LNS_ADDR);
  r.clock.advance(2000);
  const stops = decodeSent(r).filter((m) => m.msg.messageType === L2tpMessageType.StopCCN);
  t.equal(stops[0]?.msg.avps[AvpType.ResultCode]?.resultCode, StopCcnResultCode.NotAuthorized);
  r.clock.advance(40_000);
  t.equal(r.lns.tunnels.size + r.lac.tunnels.size, 0);
  t.end();
});

void t.test("10% loss, duplication and reordering both ways: 10 tunnels of 20 calls converge", (t) => {
  const r = rig({ seed: 5 });
  track(r);
  r.net.impairment = { loss: 0.1, dup: 0.1, reorder: 0.1 };
  const tunnels: Tunnel[] = [];
  for (let i = 0; i < 10; i++) {
    const tun = r.lac.openTunnel(LNS_ADDR);
    if (tun === undefined) continue;
    tunnels.push(tun);
    for (let j = 0; j < 20; j++) r.lac.placeCall(tun, { call: { callingNumber: `${i}-${j}` } });
  }
  r.clock.advance(120_000);
  t.equal(r.lns.tunnels.size, 10);
  t.equal(r.lns.sessionCount, 200);
  t.equal(r.lns.sessionsInSetupCount, 0);
  t.ok(tunnels.every((x) => [...x.sessions.values()].every((s) => s.state === "established")), "every call up on the LAC");
  // Clear everything with CDNs from the LAC under the same impairment.
  for (const x of tunnels) for (const s of [...x.sessions.values()]) x.clearSession(s, CdnResultCode.Administrative, undefined, "bye");
  r.clock.advance(120_000);
  t.equal(r.lns.sessionCount, 0, "every CDN arrived");
  t.equal(r.lac.sessionCount, 0);
  flushSeen(r);
  t.end();
});

void t.test("CDN from the LNS; StopCCN from the LNS; tables empty afterwards", (t) => {
  const r = rig();
  track(r);
  const tun = r.lac.openTunnel(LNS_ADDR);
  if (tun === undefined) return;
  for (let i = 0; i < 3; i++) r.lac.placeCall(tun);
  r.clock.advance(2000);
  const lt = [...r.lns.tunnels.values()][0];
  if (lt === undefined) return;
  const first = [...lt.sessions.values()][0];
  if (first !== undefined) lt.clearSession(first, CdnResultCode.Administrative, undefined, "drop session", { disconnectCode: 3, controlProtocol: 0xc021, direction: 1, message: "admin" });
  r.clock.advance(1000);
  t.equal(r.lac.sessionCount, 2);
  const lacEnded = tun.history.length > 0;
  t.ok(lacEnded);
  lt.stop(StopCcnResultCode.GeneralRequestToClear, undefined, "drop tunnel");
  r.clock.advance(1000);
  t.equal(tun.state, "closing");
  t.equal(tun.end?.resultCode, StopCcnResultCode.GeneralRequestToClear);
  t.equal(r.lac.sessionCount, 0);
  t.equal(r.lns.sessionCount, 0);
  r.clock.advance(35_000);
  t.equal(r.lns.tunnels.size, 0);
  t.equal(r.lac.tunnels.size, 0);
  t.end();
});

void t.test("a session that never connects is cleared with CDN result 10", (t) => {
  const r = rig({ lns: { sessionSetupTimeoutMs: 5000 } });
  track(r);
  r.net.record = true;
  const tun = r.lac.openTunnel(LNS_ADDR);
  if (tun === undefined) return;
  r.clock.advance(500);
  // Drop every LAC->LNS packet after the ICRQ: hand-craft an ICRQ instead of a full call.
  const lt = [...r.lns.tunnels.values()][0];
  if (lt === undefined) return;
  r.net.inject(LAC_ADDR, LNS_ADDR, encodeControlMessage({ messageType: L2tpMessageType.ICRQ, tunnelId: lt.localId, sessionId: 0, ns: tun.transport.ns, nr: tun.transport.nr, avps: { [AvpType.AssignedSessionId]: 4000, [AvpType.CallSerialNumber]: 1 } }));
  t.equal(r.lns.sessionsInSetupCount, 1);
  r.clock.advance(6000);
  t.equal(r.lns.sessionCount, 0);
  t.equal(r.lns.counter("session-setup-timeout"), 1);
  const cdn = decodeSent(r).find((m) => m.from === "lns" && m.msg.messageType === L2tpMessageType.CDN);
  t.equal(cdn?.msg.avps[AvpType.ResultCode]?.resultCode, CdnResultCode.NotEstablishedInTime);
  t.end();
});

void t.test("admission: session limit says try another LNS; setup limit; tunnel limit", (t) => {
  const r = rig({ lns: { maxSessions: 3, maxSessionsInSetup: 100, maxTunnels: 1 } });
  track(r);
  r.net.record = true;
  const tun = r.lac.openTunnel(LNS_ADDR);
  if (tun === undefined) return;
  for (let i = 0; i < 5; i++) r.lac.placeCall(tun);
  r.clock.advance(3000);
  t.equal(r.lns.sessionCount, 3);
  const refusals = decodeSent(r).filter((m) => m.from === "lns" && m.msg.messageType === L2tpMessageType.CDN);
  t.equal(refusals.length, 2);
  t.same(refusals[0]?.msg.avps[AvpType.ResultCode], { resultCode: CdnResultCode.GeneralError, errorCode: L2tpErrorCode.TryAnother, errorMessage: "session limit reached, try another LNS" });
  t.equal(r.lac.sessionCount, 3, "refused calls are gone on the LAC too");
  const second = r.lac.openTunnel(LNS_ADDR);
  r.clock.advance(3000);
  const stop = decodeSent(r).find((m) => m.from === "lns" && m.msg.messageType === L2tpMessageType.StopCCN);
  t.same(stop?.msg.avps[AvpType.ResultCode]?.errorCode, L2tpErrorCode.InsufficientResources);
  t.equal(second?.state, "closing");
  t.equal(r.lns.counter("sccrq-refused"), 1);

  const r2 = rig({ lns: { maxSessionsInSetup: 2, sessionSetupTimeoutMs: 60_000 } });
  track(r2);
  r2.net.record = true;
  const tun2 = r2.lac.openTunnel(LNS_ADDR);
  r2.clock.advance(500);
  const lt = [...r2.lns.tunnels.values()][0];
  if (tun2 === undefined || lt === undefined) return;
  // ICRQs that never get their ICCN stay in setup.
  for (let i = 0; i < 3; i++) {
    r2.net.inject(LAC_ADDR, LNS_ADDR, encodeControlMessage({ messageType: L2tpMessageType.ICRQ, tunnelId: lt.localId, sessionId: 0, ns: (tun2.transport.ns + i) & 0xffff, nr: tun2.transport.nr, avps: { [AvpType.AssignedSessionId]: 100 + i, [AvpType.CallSerialNumber]: i } }));
  }
  t.equal(r2.lns.sessionsInSetupCount, 2);
  r2.clock.advance(500);
  const cdn = decodeSent(r2).find((m) => m.from === "lns" && m.msg.messageType === L2tpMessageType.CDN);
  t.equal(cdn?.msg.avps[AvpType.ResultCode]?.resultCode, CdnResultCode.NoFacilitiesTemporary);
  t.equal(cdn?.msg.sessionId, 102);
  t.end();
});

void t.test("OCRQ is refused with CDN result 5; WEN and SLI are kept", (t) => {
  const r = rig();
  track(r);
  r.net.record = true;
  const tun = r.lac.openTunnel(LNS_ADDR);
  if (tun === undefined) return;
  const s = r.lac.placeCall(tun);
  r.clock.advance(2000);
  const lt = [...r.lns.tunnels.values()][0];
  if (lt === undefined || s === undefined) return;
  let ns = tun.transport.ns;
  const nr = tun.transport.nr;
  // The LAC's transport has used Ns up to ns-1: inject the next ones by hand.
  const send = (m: Parameters<typeof encodeControlMessage>[0]): void => { r.net.inject(LAC_ADDR, LNS_ADDR, encodeControlMessage(m)); };
  send({ messageType: L2tpMessageType.OCRQ, tunnelId: lt.localId, sessionId: 0, ns: ns++, nr, avps: { [AvpType.AssignedSessionId]: 77, [AvpType.CallSerialNumber]: 5, [AvpType.MinimumBps]: 0, [AvpType.MaximumBps]: 1e9, [AvpType.BearerType]: 1, [AvpType.FramingType]: 1, [AvpType.CalledNumber]: "123" } });
  const lnsSession = [...lt.sessions.values()][0];
  if (lnsSession === undefined) return;
  send({ messageType: L2tpMessageType.WEN, tunnelId: lt.localId, sessionId: lnsSession.localId, ns: ns++, nr, avps: { [AvpType.CallErrors]: { crcErrors: 1, framingErrors: 2, hardwareOverruns: 3, bufferOverruns: 4, timeoutErrors: 5, alignmentErrors: 6 } } });
  send({ messageType: L2tpMessageType.SLI, tunnelId: lt.localId, sessionId: lnsSession.localId, ns: ns++, nr, avps: { [AvpType.Accm]: { sendAccm: 0xffffffff, receiveAccm: 0 } } });
  r.clock.advance(10);
  const cdn = decodeSent(r).find((m) => m.from === "lns" && m.msg.messageType === L2tpMessageType.CDN);
  t.equal(cdn?.msg.sessionId, 77);
  t.equal(cdn?.msg.avps[AvpType.ResultCode]?.resultCode, CdnResultCode.NoFacilitiesPermanent);
  t.equal(lnsSession.call.callErrors?.alignmentErrors, 6);
  t.equal(lnsSession.call.accm?.sendAccm, 0xffffffff);
  t.equal(r.lns.counter("ocrq-refused"), 1);
  noteSession(lnsSession);
  t.end();
});

void t.test("HELLO after a quiet interval; a silent peer is torn down after the last retry", (t) => {
  const r = rig({ lns: { helloIntervalMs: 60_000 }, lac: { disableSendingHello: true } });
  track(r);
  r.net.record = true;
  const tun = r.lac.openTunnel(LNS_ADDR);
  if (tun === undefined) return;
  r.lac.placeCall(tun);
  r.clock.advance(61_000);
  const hellos = decodeSent(r).filter((m) => m.msg.messageType === L2tpMessageType.HELLO);
  t.equal(hellos.length, 1);
  t.equal(hellos[0]?.from, "lns");
  t.equal(tun.state, "established");
  r.net.impairment = { loss: 1, dup: 0, reorder: 0 };
  r.clock.advance(60_000 + 31_000 + 1000);
  t.equal(r.lns.tunnels.size, 0, "LNS dropped the silent tunnel");
  t.equal(r.lns.sessionCount, 0);
  t.equal(r.lns.counter("tunnel-retries-exhausted"), 1);
  t.end();
});

void t.test("a LAC that restarts and reuses its tunnel id replaces the old tunnel", (t) => {
  const r = rig();
  track(r);
  const tun = r.lac.openTunnel(LNS_ADDR);
  if (tun === undefined) return;
  r.lac.placeCall(tun);
  r.clock.advance(2000);
  t.equal(r.lns.tunnels.size, 1);
  // The LAC reboots: same address, same Assigned Tunnel ID, a fresh SCCRQ with Ns 0.
  r.net.inject(LAC_ADDR, LNS_ADDR, encodeControlMessage({ messageType: L2tpMessageType.SCCRQ, tunnelId: 0, sessionId: 0, ns: 0, nr: 0, avps: { [AvpType.ProtocolVersion]: { version: 1, revision: 0 }, [AvpType.HostName]: "lac", [AvpType.FramingCapabilities]: 3, [AvpType.AssignedTunnelId]: tun.localId } }));
  t.equal(r.lns.tunnels.size, 1, "one tunnel: the new one");
  t.equal(r.lns.sessionCount, 0, "the old tunnel's sessions are gone");
  t.equal(r.lns.counter("tunnel-replaced"), 1);
  t.equal([...r.lns.tunnels.values()][0]?.state, "wait-ctl-conn");
  t.end();
});

void t.test("bad input: the RFC's answer or a counted drop; other tunnels unaffected", (t) => {
  const r = rig();
  track(r);
  r.net.record = true;
  const good = r.lac.openTunnel(LNS_ADDR);
  const victim = r.lac.openTunnel(LNS_ADDR);
  if (good === undefined || victim === undefined) return;
  for (let i = 0; i < 3; i++) r.lac.placeCall(good);
  r.lac.placeCall(victim);
  r.clock.advance(2000);
  t.equal(r.lns.sessionCount, 4);
  const [lg, lv] = [...r.lns.tunnels.values()];
  if (lg === undefined || lv === undefined) return;
  // Malformed headers and lying lengths: dropped and counted.
  r.net.inject(LAC_ADDR, LNS_ADDR, Buffer.from("c80200ff0001000000000000", "hex"));
  r.net.inject(LAC_ADDR, LNS_ADDR, Buffer.from("c803000c0001000000000000", "hex"));
  r.net.inject(LAC_ADDR, LNS_ADDR, Buffer.from("c8", "hex"));
  r.net.inject(LAC_ADDR, LNS_ADDR, Buffer.alloc(0));
  // A control message for a tunnel that does not exist.
  r.net.inject(LAC_ADDR, LNS_ADDR, encodeControlMessage({ messageType: L2tpMessageType.HELLO, tunnelId: 999, sessionId: 0, ns: 0, nr: 0, avps: {} }));
  // Junk SCCRQs: a flood of them, each a decode and a counted drop.
  for (let i = 0; i < 1000; i++) r.net.inject({ address: "203.0.113.9", port: 1000 + i }, LNS_ADDR, Buffer.from(`c802001400000000000000008008000000000001`, "hex"));
  t.equal(r.lns.tunnels.size, 2, "no tunnel created by junk");
  t.ok(r.lns.counter("bad-sccrq:missing-avp") + r.lns.counter("bad-sccrq:bad-value") + r.lns.counter("bad-sccrq:unexpected-avp") >= 1000 || [...r.lns.counters.keys()].some((k) => k.startsWith("bad-sccrq")));
  // An unknown mandatory AVP in a session message of the victim tunnel: CDN for that session.
  const vs = [...lv.sessions.values()][0];
  if (vs === undefined) return;
  const cdnBefore = decodeSent(r).filter((m) => m.from === "lns" && m.msg.messageType === L2tpMessageType.CDN).length;
  r.net.inject(LAC_ADDR, LNS_ADDR, encodeControlMessage({ messageType: L2tpMessageType.SLI, tunnelId: lv.localId, sessionId: vs.localId, ns: victim.transport.ns, nr: victim.transport.nr, avps: { [AvpType.Accm]: { sendAccm: 0, receiveAccm: 0 } }, unknown: [{ vendorId: 0, attributeType: 200, mandatory: true, hidden: false, value: Buffer.from("x") }] }));
  r.clock.advance(10);
  const cdns = decodeSent(r).filter((m) => m.from === "lns" && m.msg.messageType === L2tpMessageType.CDN);
  t.equal(cdns.length, cdnBefore + 1, "unknown mandatory AVP in a session message: CDN");
  t.equal(cdns.at(-1)?.msg.avps[AvpType.ResultCode]?.errorCode, L2tpErrorCode.UnknownMandatoryAvp);
  // An unknown mandatory AVP in a tunnel message: StopCCN for that tunnel only.
  r.net.inject(LAC_ADDR, LNS_ADDR, encodeControlMessage({ messageType: L2tpMessageType.HELLO, tunnelId: lv.localId, sessionId: 0, ns: (victim.transport.ns + 1) & 0xffff, nr: victim.transport.nr, avps: {}, unknown: [{ vendorId: 9, attributeType: 1, mandatory: true, hidden: false, value: Buffer.alloc(0) }] }));
  r.clock.advance(10);
  t.equal(lv.state, "closing");
  t.equal(lv.end?.errorCode, L2tpErrorCode.UnknownMandatoryAvp);
  // An unknown AVP without M is skipped: the good tunnel carries on.
  r.net.inject(LAC_ADDR, LNS_ADDR, encodeControlMessage({ messageType: L2tpMessageType.HELLO, tunnelId: lg.localId, sessionId: 0, ns: good.transport.ns, nr: good.transport.nr, avps: {}, unknown: [{ vendorId: 9, attributeType: 1, mandatory: false, hidden: false, value: Buffer.from("vendor") }] }));
  r.clock.advance(5000);
  t.equal(lg.state, "established", "the other tunnel is untouched");
  t.equal(lg.sessions.size, 3);
  t.ok(r.lns.counter("control-unknown-tunnel") >= 1);
  t.ok([...r.lns.counters.keys()].some((k) => k.startsWith("bad-header")));
  // A message out of place: SCCRQ inside an established tunnel is an FSM error (StopCCN 7).
  r.net.inject(LAC_ADDR, LNS_ADDR, encodeControlMessage({ messageType: L2tpMessageType.SCCRQ, tunnelId: lg.localId, sessionId: 0, ns: (good.transport.ns + 1) & 0xffff, nr: good.transport.nr, avps: { [AvpType.ProtocolVersion]: { version: 1, revision: 0 }, [AvpType.HostName]: "x", [AvpType.FramingCapabilities]: 3, [AvpType.AssignedTunnelId]: 5 } }));
  r.clock.advance(10);
  t.equal(lg.end?.resultCode, StopCcnResultCode.FsmError);
  r.clock.advance(40_000);
  flushSeen(r);
  t.end();
});

void t.test("protocol version other than 1.0: StopCCN result 5 naming 1.0", (t) => {
  const r = rig();
  track(r);
  r.net.record = true;
  r.net.inject(LAC_ADDR, LNS_ADDR, encodeControlMessage({ messageType: L2tpMessageType.SCCRQ, tunnelId: 0, sessionId: 0, ns: 0, nr: 0, avps: { [AvpType.ProtocolVersion]: { version: 2, revision: 0 }, [AvpType.HostName]: "x", [AvpType.FramingCapabilities]: 3, [AvpType.AssignedTunnelId]: 5 } }));
  r.clock.advance(10);
  const stop = decodeSent(r).find((m) => m.msg.messageType === L2tpMessageType.StopCCN);
  t.same(stop?.msg.avps[AvpType.ResultCode], { resultCode: StopCcnResultCode.UnsupportedProtocolVersion, errorCode: 0x0100, errorMessage: "only L2TP version 1.0 (RFC 2661) is supported" });
  t.equal(stop?.msg.tunnelId, 5);
  r.clock.advance(40_000);
  t.equal(r.lns.tunnels.size, 0);
  t.end();
});

void t.test("LNS shutdown stops every tunnel; the LAC side goes with it", (t) => {
  const r = rig();
  track(r);
  for (let i = 0; i < 3; i++) {
    const tun = r.lac.openTunnel(LNS_ADDR);
    if (tun !== undefined) r.lac.placeCall(tun);
  }
  r.clock.advance(2000);
  r.lns.shutdown();
  r.clock.advance(40_000);
  t.equal(r.lns.tunnels.size, 0);
  t.equal(r.lac.tunnels.size, 0);
  t.equal(r.lac.sessionCount, 0);
  t.end();
});

void t.test("LAC tunnel times out when the LNS never answers; a call waiting for it goes too", (t) => {
  const r = rig();
  track(r);
  r.net.impairment = { loss: 1, dup: 0, reorder: 0 };
  const tun = r.lac.openTunnel(LNS_ADDR);
  if (tun === undefined) return;
  r.lac.placeCall(tun);
  r.clock.advance(40_000);
  t.equal(r.lac.tunnels.size, 0);
  t.equal(r.lac.sessionCount, 0);
  t.end();
});

void t.test("corners of the state tables", (t) => {
  const sccrq = (host: string, peerTunnelId: number): Buffer =>
    encodeControlMessage({ messageType: L2tpMessageType.SCCRQ, tunnelId: 0, sessionId: 0, ns: 0, nr: 0, avps: { [AvpType.ProtocolVersion]: { version: 1, revision: 0 }, [AvpType.HostName]: host, [AvpType.FramingCapabilities]: 3, [AvpType.AssignedTunnelId]: peerTunnelId } });
  const silent = { address: "203.0.113.5", port: 1701 };

  // An SCCRP nobody acknowledges; an SCCRQ from a restarted LAC while we wait for its SCCCN.
  const a = rig();
  track(a);
  a.net.inject(silent, LNS_ADDR, sccrq("ghost", 42));
  a.net.inject(LAC_ADDR, LNS_ADDR, sccrq("first", 7));
  a.net.inject(LAC_ADDR, LNS_ADDR, sccrq("first", 7));
  t.equal(a.lns.tunnels.size, 2, "a retransmitted SCCRQ is not a new tunnel");
  a.net.inject(LAC_ADDR, LNS_ADDR, sccrq("second", 7));
  t.equal(a.lns.tunnels.size, 2, "a different SCCRQ with the same id replaces the first");
  t.equal(a.lns.counter("tunnel-replaced"), 1);
  a.clock.advance(40_000);
  t.equal(a.lns.tunnels.size, 0, "both unanswered SCCRPs timed out");

  // Both ends stop at once; a StopCCN never acknowledged; a restart while closing.
  const b = rig({ lns: { stopCcnHoldMs: 60_000 }, lac: { stopCcnHoldMs: 60_000 } });
  track(b);
  const t1 = b.lac.openTunnel(LNS_ADDR);
  const t2 = b.lac.openTunnel(LNS_ADDR);
  const t3 = b.lac.openTunnel(LNS_ADDR);
  b.clock.advance(1000);
  const [l1, l2, l3] = [...b.lns.tunnels.values()];
  if (t1 === undefined || t2 === undefined || t3 === undefined || l1 === undefined || l2 === undefined || l3 === undefined) return;
  t1.stop(StopCcnResultCode.GeneralRequestToClear);
  l1.stop(StopCcnResultCode.GeneralRequestToClear);
  b.clock.advance(1000);
  t.equal(l1.state, "closing");
  t3.stop(StopCcnResultCode.GeneralRequestToClear);
  b.clock.advance(1000);
  t.equal(l3.state, "closing");
  b.net.inject(LAC_ADDR, LNS_ADDR, sccrq("lac", t3.localId));
  t.equal(l3.state, "closed", "the closing tunnel was replaced by the LAC's new one");
  b.net.impairment = { loss: 1, dup: 0, reorder: 0 };
  l2.stop(StopCcnResultCode.GeneralRequestToClear);
  b.clock.advance(45_000);
  t.equal(l2.state, "closed", "StopCCN never acknowledged: freed after the last retry");

  // LAC calls: cleared or lost while waiting for the tunnel, or for ICRP.
  const c = rig({ lac: { sessionSetupTimeoutMs: 60_000 } });
  track(c);
  const ct = c.lac.openTunnel(LNS_ADDR);
  if (ct === undefined) return;
  const waiting = ct.placeCall();
  if (waiting !== undefined) ct.clearSession(waiting, CdnResultCode.Administrative);
  c.clock.advance(1000);
  const early = ct.placeCall();
  if (early !== undefined) ct.clearSession(early, CdnResultCode.Administrative);
  c.clock.advance(1000);
  t.equal(c.lns.sessionCount, 0, "a CDN sent before ICRP arrived still finds the call (session id 0)");
  t.equal(c.lac.sessionCount, 0);
  ct.placeCall();
  ct.stop(StopCcnResultCode.GeneralRequestToClear);
  const lost = c.lac.openTunnel(LNS_ADDR);
  c.net.impairment = { loss: 1, dup: 0, reorder: 0 };
  if (lost !== undefined) lost.placeCall();
  c.clock.advance(40_000);
  t.equal(c.lac.sessionCount, 0);

  const d = rig({ lac: { sessionSetupTimeoutMs: 3000 } });
  track(d);
  const dt = d.lac.openTunnel(LNS_ADDR);
  d.clock.advance(1000);
  if (dt === undefined) return;
  d.net.impairment = { loss: 1, dup: 0, reorder: 0 };
  dt.placeCall();
  d.clock.advance(4000);
  t.equal(d.lac.counter("session-setup-timeout"), 1, "ICRP never came");

  // LNS calls in wait-connect: cleared locally, or with their tunnel.
  const e = rig();
  track(e);
  const et = e.lac.openTunnel(LNS_ADDR);
  e.clock.advance(1000);
  const el = [...e.lns.tunnels.values()][0];
  if (et === undefined || el === undefined) return;
  for (let i = 0; i < 2; i++) {
    e.net.inject(LAC_ADDR, LNS_ADDR, encodeControlMessage({ messageType: L2tpMessageType.ICRQ, tunnelId: el.localId, sessionId: 0, ns: (et.transport.ns + i) & 0xffff, nr: et.transport.nr, avps: { [AvpType.AssignedSessionId]: 500 + i, [AvpType.CallSerialNumber]: i } }));
  }
  const [w1] = [...el.sessions.values()];
  if (w1 !== undefined) el.clearSession(w1, CdnResultCode.Administrative);
  el.stop(StopCcnResultCode.GeneralRequestToClear);
  t.equal(e.lns.sessionCount, 0);
  e.clock.advance(40_000);
  t.end();
});

void t.test("tunnelUp fires once per tunnel, after SCCCN is queued: a call placed from it works", (t) => {
  const r = rig();
  track(r);
  r.net.record = true;
  let lacUp = 0;
  let lnsUp = 0;
  // Before the fix: tunnelUp fired twice, and the first time before SCCCN took its Ns, so this
  // ICRQ reached the LNS ahead of SCCCN: FSM error, StopCCN 7, the tunnel lost.
  r.lacEvents.tunnelUp = (tu) => {
    lacUp++;
    r.lac.placeCall(tu);
  };
  r.lnsEvents.tunnelUp = () => { lnsUp++; };
  r.lac.openTunnel(LNS_ADDR);
  r.clock.advance(2000);
  t.equal(lacUp, 1);
  t.equal(lnsUp, 1);
  t.equal(r.lns.counter("fsm-error"), 0);
  t.equal(r.lns.sessionCount, 1);
  const lac = decodeSent(r).filter((m) => m.from === "lac").map((m) => [m.msg.messageType, m.msg.ns]);
  t.same(lac.slice(0, 3), [[L2tpMessageType.SCCRQ, 0], [L2tpMessageType.SCCCN, 1], [L2tpMessageType.ICRQ, 2]]);
  t.end();
});

void t.test("an SCCRQ whose Ns is not 0 is dropped, not left in idle holding a tunnel id", (t) => {
  const r = rig();
  track(r);
  r.net.record = true;
  // Before the fix the transport held it for reordering: a tunnel in idle forever, without a timer.
  for (let ns = 1; ns < 20; ns++) {
    r.net.inject({ address: "203.0.113.9", port: 1701 }, LNS_ADDR, encodeControlMessage({ messageType: L2tpMessageType.SCCRQ, tunnelId: 0, sessionId: 0, ns, nr: 0, avps: { [AvpType.ProtocolVersion]: { version: 1, revision: 0 }, [AvpType.HostName]: "x", [AvpType.FramingCapabilities]: 3, [AvpType.AssignedTunnelId]: ns } }));
  }
  t.equal(r.lns.tunnels.size, 0, "no tunnel created");
  t.equal(r.lns.counter("sccrq-bad-ns"), 19);
  t.equal(r.net.sent.length, 0, "nothing answered");
  t.end();
});

void t.test("RFC 2661 8.1: ports stay static once the tunnel is set up; only the LAC follows the SCCRP's port", (t) => {
  const r = rig();
  track(r);
  const tun = r.lac.openTunnel(LNS_ADDR);
  if (tun === undefined) return;
  r.lac.placeCall(tun);
  r.clock.advance(2000);
  const lt = [...r.lns.tunnels.values()][0];
  if (lt === undefined) return;
  // Another socket on the LAC's address sends into the tunnel: before the fix the LNS moved the
  // tunnel to that port and the real LAC's next call was answered there.
  const intruder = { address: LAC_ADDR.address, port: 4000 };
  r.net.inject(intruder, LNS_ADDR, Buffer.from("c802000c" + lt.localId.toString(16).padStart(4, "0") + "0000ffff0000", "hex"));
  t.same(lt.address, LAC_ADDR, "the LNS still sends to the LAC's port");
  t.equal(r.lns.counter("control-wrong-peer"), 1);
  r.lac.placeCall(tun);
  r.clock.advance(2000);
  t.equal(r.lns.sessionCount, 2, "the next call still works");

  // An LNS that answers SCCRQ from another port: the LAC follows it (and only then).
  const q = rig();
  track(q);
  q.net.impairment = { loss: 1, dup: 0, reorder: 0 };
  const qt = q.lac.openTunnel(LNS_ADDR);
  if (qt === undefined) return;
  const moved = { address: LNS_ADDR.address, port: 1702 };
  q.net.inject(moved, LAC_ADDR, encodeControlMessage({ messageType: L2tpMessageType.SCCRP, tunnelId: qt.localId, sessionId: 0, ns: 0, nr: 1, avps: { [AvpType.ProtocolVersion]: { version: 1, revision: 0 }, [AvpType.HostName]: "lns", [AvpType.FramingCapabilities]: 3, [AvpType.AssignedTunnelId]: 99 } }));
  t.equal(qt.state, "established");
  t.same(qt.address, moved, "the LAC follows the port the SCCRP came from");
  q.net.inject({ address: LNS_ADDR.address, port: 1703 }, LAC_ADDR, encodeControlMessage({ messageType: L2tpMessageType.HELLO, tunnelId: qt.localId, sessionId: 0, ns: 1, nr: 1, avps: {} }));
  t.same(qt.address, moved, "but not afterwards");
  t.equal(q.lac.counter("control-wrong-peer"), 1);
  q.lac.close();
  t.end();
});

void t.test("close() forgets every tunnel and session at once, with their events, and no timer is left", (t) => {
  const r = rig();
  track(r);
  let lacDown = 0;
  let lnsDown = 0;
  r.lacEvents.sessionDown = () => { lacDown++; };
  r.lnsEvents.sessionDown = () => { lnsDown++; };
  const tuns = [r.lac.openTunnel(LNS_ADDR), r.lac.openTunnel(LNS_ADDR), r.lac.openTunnel(LNS_ADDR)];
  for (const x of tuns) if (x !== undefined) for (let i = 0; i < 3; i++) r.lac.placeCall(x);
  r.clock.advance(2000);
  tuns[1]?.stop(StopCcnResultCode.GeneralRequestToClear);
  r.lac.openTunnel(LNS_ADDR);
  r.clock.advance(5);
  t.equal(r.lns.sessionCount, 6, "one tunnel's calls went with its StopCCN");
  t.equal(r.lns.tunnels.size, 4, "one up, one closing, one being set up, one established");
  r.net.record = true;
  r.lns.close();
  r.lac.close();
  t.equal(r.lns.tunnels.size + r.lac.tunnels.size, 0);
  t.equal(r.lns.sessionCount + r.lac.sessionCount, 0);
  t.equal(r.lns.sessionsInSetupCount + r.lac.sessionsInSetupCount, 0);
  t.equal(lacDown, 9);
  t.equal(lnsDown, 9);
  r.clock.advance(50);
  t.equal(r.clock.pending, 0, "every timer cancelled (once the datagrams in flight have landed)");
  r.clock.advance(60_000);
  t.equal(r.net.sent.length, 0, "nothing sent after close");
  t.end();
});

void t.test("an SCCRQ with an unknown mandatory AVP is answered with StopCCN 2/8", (t) => {
  const r = rig();
  track(r);
  r.net.record = true;
  const lac = { address: "203.0.113.40", port: 1701 };
  r.net.inject(lac, LNS_ADDR, encodeControlMessage({ messageType: L2tpMessageType.SCCRQ, tunnelId: 0, sessionId: 0, ns: 0, nr: 0, avps: { [AvpType.ProtocolVersion]: { version: 1, revision: 0 }, [AvpType.HostName]: "odd", [AvpType.FramingCapabilities]: 3, [AvpType.AssignedTunnelId]: 321 }, unknown: [{ vendorId: 0, attributeType: 250, mandatory: true, hidden: false, value: Buffer.from("?") }] }));
  // Without an Assigned Tunnel ID there is no tunnel to address: one StopCCN to tunnel 0, no state.
  r.net.inject(lac, LNS_ADDR, encodeControlMessage({ messageType: L2tpMessageType.SCCRQ, tunnelId: 0, sessionId: 0, ns: 0, nr: 0, avps: { [AvpType.ProtocolVersion]: { version: 1, revision: 0 }, [AvpType.HostName]: "odd", [AvpType.FramingCapabilities]: 3 } }));
  r.clock.advance(10);
  const stops = r.net.sent.filter((p) => p.from.address === LNS_ADDR.address).map((p) => decodeControlMessage(p.packet));
  t.equal(stops.length, 2);
  const unaddressed = stops[1];
  t.equal(unaddressed?.ok === true && unaddressed.value.tunnelId, 0);
  t.equal(r.lns.counter("sccrq-refused-unaddressable"), 1);
  const stop = stops[0];
  if (stop?.ok !== true || stop.value.messageType === "ZLB") return;
  t.equal(stop.value.messageType, L2tpMessageType.StopCCN);
  t.equal(stop.value.tunnelId, 321);
  t.equal(stop.value.avps[AvpType.ResultCode]?.resultCode, StopCcnResultCode.GeneralError);
  t.equal(stop.value.avps[AvpType.ResultCode]?.errorCode, L2tpErrorCode.UnknownMandatoryAvp);
  t.equal(r.lns.counter("sccrq-refused-invalid"), 1);
  r.clock.advance(40_000);
  t.equal(r.lns.tunnels.size, 0, "nothing left after the hold time");
  t.end();
});

void t.test("PPP that overtakes the ICCN is kept and delivered once the call is up", (t) => {
  const r = rig();
  track(r);
  const seen: string[] = [];
  r.lnsEvents.sessionUp = () => seen.push("up");
  r.lnsEvents.data = (_t, _s, packet, header) => seen.push(packet.subarray(header.payloadOffset, header.payloadOffset + header.payloadLength).toString("hex"));
  const tun = r.lac.openTunnel(LNS_ADDR);
  r.clock.advance(500);
  const lt = [...r.lns.tunnels.values()][0];
  if (tun === undefined || lt === undefined) return;
  let ns = tun.transport.ns;
  const nr = tun.transport.nr;
  r.net.inject(LAC_ADDR, LNS_ADDR, encodeControlMessage({ messageType: L2tpMessageType.ICRQ, tunnelId: lt.localId, sessionId: 0, ns: ns++, nr, avps: { [AvpType.AssignedSessionId]: 77, [AvpType.CallSerialNumber]: 1 } }));
  const s = [...lt.sessions.values()][0];
  if (s === undefined) return;
  const data = (payload: string): Buffer => Buffer.concat([Buffer.from([0x00, 0x02, lt.localId >> 8, lt.localId & 0xff, s.localId >> 8, s.localId & 0xff]), Buffer.from(payload, "hex")]);
  r.net.inject(LAC_ADDR, LNS_ADDR, data("ff03c02101010004"));
  r.net.inject(LAC_ADDR, LNS_ADDR, data("ff03c02101020004"));
  t.same(seen, [], "nothing delivered before ICCN");
  r.net.inject(LAC_ADDR, LNS_ADDR, encodeControlMessage({ messageType: L2tpMessageType.ICCN, tunnelId: lt.localId, sessionId: s.localId, ns: ns++, nr, avps: { [AvpType.TxConnectSpeed]: 1000, [AvpType.FramingType]: 1 } }));
  t.same(seen, ["up", "ff03c02101010004", "ff03c02101020004"], "up, then the early frames in order");
  t.end();
});

void t.test("every transition of the tunnel and session tables was exercised", (t) => {
  for (const r of rigs) flushSeen(r);
  const missing: string[] = [];
  for (const [from, evs] of Object.entries(TUNNEL_TRANSITIONS)) for (const ev of Object.keys(evs)) if (!seen.has(`tunnel ${from} ${ev}`)) missing.push(`tunnel ${from} ${ev}`);
  for (const [from, evs] of Object.entries(SESSION_TRANSITIONS)) for (const ev of Object.keys(evs)) if (!seen.has(`session ${from} ${ev}`)) missing.push(`session ${from} ${ev}`);
  t.same(missing, [], "transitions never taken by any scenario above");
  t.end();
});
