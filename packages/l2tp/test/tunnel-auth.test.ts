// Tunnel authentication (RFC 2661 5.1.1) and hidden AVPs (4.3) as l2tpns operators expect them:
// the LNS challenges a LAC only when the LAC challenged it, or when l2tp_require_auth says so; it
// hides AVPs only towards a LAC that proved it holds the secret or hid AVPs itself.
import t from "tap";
import { AvpType, hideAvpValue, L2tpMessageType, StopCcnResultCode, tunnelChallengeResponse, type L2tpAvpMessage } from "@lnsd/wire";
import { l2tpConfigProblem } from "../src/index.js";
import { LNS_ADDR, RawLac, rig, u16, u32, type RawAvpSpec } from "./harness.js";

function lnsSent(r: ReturnType<typeof rig>, secret?: string): L2tpAvpMessage[] {
  const lac = new RawLac(r, { address: "198.51.100.7", port: 1701 }, secret);
  return lac.replies();
}

const sccrqAvps = (tunnelId: number, extra: RawAvpSpec[] = []): RawAvpSpec[] => [
  { type: AvpType.ProtocolVersion, mandatory: true, value: u16(0x0100) },
  { type: AvpType.HostName, mandatory: true, value: Buffer.from("rawlac") },
  { type: AvpType.FramingCapabilities, mandatory: true, value: u32(3) },
  { type: AvpType.AssignedTunnelId, mandatory: true, value: u16(tunnelId) },
  ...extra,
];

void t.test("LNS with l2tp_secret, LAC without one (xl2tpd's default): no Challenge, the call comes up, nothing hidden", (t) => {
  const r = rig({ lns: { secret: "s3cret" } });
  r.net.record = true;
  const tun = r.lac.openTunnel(LNS_ADDR);
  if (tun === undefined) return;
  r.lac.placeCall(tun, { call: { callingNumber: "0800" } });
  r.clock.advance(2000);
  t.equal(tun.state, "established", "the tunnel is up");
  t.equal(r.lns.sessionCount, 1, "the call is up");
  const sent = lnsSent(r);
  const sccrp = sent.find((m) => m.messageType === L2tpMessageType.SCCRP);
  t.equal(sccrp?.avps[AvpType.Challenge], undefined, "no Challenge towards a LAC that sent none");
  const icrp = sent.find((m) => m.messageType === L2tpMessageType.ICRP);
  t.ok(icrp, "ICRP readable without the secret");
  t.equal(icrp?.received.find((a) => a.type === AvpType.AssignedSessionId)?.hidden, false, "Assigned Session ID in the clear");
  t.end();
});

void t.test("a LAC that challenges gets mutual authentication and hidden AVPs, without l2tp_require_auth", (t) => {
  const r = rig({ lns: { secret: "s3cret" }, lac: { secret: "s3cret" } });
  r.net.record = true;
  const tun = r.lac.openTunnel(LNS_ADDR);
  if (tun === undefined) return;
  r.lac.placeCall(tun, { call: { callingNumber: "0800" } });
  r.clock.advance(2000);
  t.equal(r.lns.sessionCount, 1);
  const sent = lnsSent(r, "s3cret");
  const sccrp = sent.find((m) => m.messageType === L2tpMessageType.SCCRP);
  t.ok(sccrp?.avps[AvpType.ChallengeResponse], "the LNS answers the LAC's Challenge");
  t.ok(sccrp?.avps[AvpType.Challenge], "and challenges the LAC in turn");
  const icrp = sent.find((m) => m.messageType === L2tpMessageType.ICRP);
  t.equal(icrp?.received.find((a) => a.type === AvpType.AssignedSessionId)?.hidden, true, "hidden towards a LAC that proved the secret");
  t.end();
});

void t.test("a LAC that challenged must answer our Challenge correctly in SCCCN", (t) => {
  for (const scccn of ["none", "wrong"] as const) {
    const r = rig({ lns: { secret: "s3cret" } });
    const lac = new RawLac(r, undefined, "s3cret");
    lac.send(L2tpMessageType.SCCRQ, 0, sccrqAvps(41, [{ type: AvpType.Challenge, mandatory: true, value: Buffer.alloc(16, 9) }]));
    const sccrp = lac.last(L2tpMessageType.SCCRP);
    const ours = sccrp?.avps[AvpType.Challenge];
    t.ok(ours, "the LNS challenges a LAC that challenged it");
    const response = scccn === "none" ? [] : [{ type: AvpType.ChallengeResponse, mandatory: true, value: tunnelChallengeResponse(L2tpMessageType.SCCCN, "other", ours ?? Buffer.alloc(16)) }];
    lac.send(L2tpMessageType.SCCCN, 0, response);
    const stop = lac.last(L2tpMessageType.StopCCN);
    t.equal(stop?.avps[AvpType.ResultCode]?.resultCode, StopCcnResultCode.NotAuthorized, `${scccn} Challenge Response: StopCCN result 4`);
    t.equal([...r.lns.tunnels.values()][0]?.state, "closing");
  }
  t.end();
});

void t.test("l2tp_require_auth: every LAC is challenged and must answer", (t) => {
  const r = rig({ lns: { secret: "s3cret", requireTunnelAuth: true } });
  const lac = new RawLac(r, undefined, "s3cret");
  lac.send(L2tpMessageType.SCCRQ, 0, sccrqAvps(42));
  const ours = lac.last(L2tpMessageType.SCCRP)?.avps[AvpType.Challenge];
  t.ok(ours, "challenged without having challenged");
  lac.send(L2tpMessageType.SCCCN, 0, []);
  t.equal(lac.last(L2tpMessageType.StopCCN)?.avps[AvpType.ResultCode]?.resultCode, StopCcnResultCode.NotAuthorized, "no answer: StopCCN result 4");

  const good = new RawLac(r, { address: "203.0.113.51", port: 1701 }, "s3cret");
  good.send(L2tpMessageType.SCCRQ, 0, sccrqAvps(43));
  const challenge = good.last(L2tpMessageType.SCCRP)?.avps[AvpType.Challenge] ?? Buffer.alloc(16);
  good.send(L2tpMessageType.SCCCN, 0, [{ type: AvpType.ChallengeResponse, mandatory: true, value: tunnelChallengeResponse(L2tpMessageType.SCCCN, "s3cret", challenge) }]);
  t.equal(good.last(L2tpMessageType.StopCCN), undefined);
  t.equal([...r.lns.tunnels.values()].find((x) => x.peerId === 43)?.state, "established", "the right answer: up");
  t.end();
});

void t.test("l2tp_require_auth without l2tp_secret refuses every LAC rather than let it in", (t) => {
  const r = rig({ lns: { requireTunnelAuth: true } });
  const lac = new RawLac(r);
  lac.send(L2tpMessageType.SCCRQ, 0, sccrqAvps(44));
  t.equal(lac.last(L2tpMessageType.StopCCN)?.avps[AvpType.ResultCode]?.resultCode, StopCcnResultCode.NotAuthorized);
  t.equal(lac.last(L2tpMessageType.SCCRP), undefined);
  t.end();
});

void t.test("a LAC challenges but no l2tp_secret is set: StopCCN result 4", (t) => {
  const r = rig();
  const lac = new RawLac(r);
  lac.send(L2tpMessageType.SCCRQ, 0, sccrqAvps(45, [{ type: AvpType.Challenge, mandatory: true, value: Buffer.alloc(16, 1) }]));
  t.equal(lac.last(L2tpMessageType.StopCCN)?.avps[AvpType.ResultCode]?.resultCode, StopCcnResultCode.NotAuthorized);
  t.ok(r.logs.some((l) => l.includes("no l2tp_secret")), "the log says why");
  t.end();
});

void t.test("hidden AVPs go only to a LAC that hid AVPs itself or proved the secret", (t) => {
  const r = rig({ lns: { secret: "s3cret" } });
  // Not challenged, not hiding: everything in the clear.
  const plain = new RawLac(r, undefined, "s3cret");
  plain.send(L2tpMessageType.SCCRQ, 0, sccrqAvps(46));
  t.equal(plain.last(L2tpMessageType.SCCRP)?.avps[AvpType.Challenge], undefined);
  plain.send(L2tpMessageType.SCCCN, 0, []);
  plain.send(L2tpMessageType.ICRQ, 0, [{ type: AvpType.AssignedSessionId, mandatory: true, value: u16(7) }, { type: AvpType.CallSerialNumber, mandatory: true, value: u32(1) }]);
  const clearIcrp = plain.last(L2tpMessageType.ICRP);
  t.equal(clearIcrp?.received.find((a) => a.type === AvpType.AssignedSessionId)?.hidden, false, "ICRP in the clear");

  // Not challenged, but it hides its own AVPs with our secret: it holds the secret, so we hide too.
  const hider = new RawLac(r, { address: "203.0.113.52", port: 1701 }, "s3cret");
  hider.send(L2tpMessageType.SCCRQ, 0, sccrqAvps(47));
  hider.send(L2tpMessageType.SCCCN, 0, []);
  const rv = Buffer.alloc(16, 5);
  hider.send(L2tpMessageType.ICRQ, 0, [
    { type: AvpType.RandomVector, mandatory: true, value: rv },
    { type: AvpType.AssignedSessionId, mandatory: true, hidden: true, value: hideAvpValue(AvpType.AssignedSessionId, u16(8), "s3cret", rv) },
    { type: AvpType.CallSerialNumber, mandatory: true, value: u32(2) },
    { type: AvpType.CallingNumber, mandatory: true, hidden: true, value: hideAvpValue(AvpType.CallingNumber, Buffer.from("0800"), "s3cret", rv) },
  ]);
  const hiddenIcrp = hider.last(L2tpMessageType.ICRP);
  t.equal(hiddenIcrp?.sessionId, 8, "the hidden Assigned Session ID was read");
  t.equal(hiddenIcrp?.received.find((a) => a.type === AvpType.AssignedSessionId)?.hidden, true, "ICRP hidden in return");
  const s = [...r.lns.tunnels.values()].find((x) => x.peerId === 47)?.sessions.values().next().value;
  t.equal(s?.call.callingNumber, "0800", "hidden Calling Number revealed");
  t.end();
});

void t.test("l2tp_require_auth without l2tp_secret is a configuration error", (t) => {
  t.match(l2tpConfigProblem({ requireTunnelAuth: true }), /l2tp_secret/);
  t.match(l2tpConfigProblem({ requireTunnelAuth: true, secret: "" }), /l2tp_secret/);
  t.equal(l2tpConfigProblem({ requireTunnelAuth: true, secret: "s" }), undefined);
  t.equal(l2tpConfigProblem({ requireTunnelAuth: false }), undefined);
  t.end();
});
