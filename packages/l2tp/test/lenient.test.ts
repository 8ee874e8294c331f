// Liberal acceptance where RFC 2661 allows it, as l2tpns has it (its test LAC, test/generateload.c,
// is the example), and an answer at once wherever lnsd cannot go on: StopCCN or CDN with the RFC
// 2661 4.4.2 result and error codes, never silence (RFC 2661 4.1).
import t from "tap";
import { AvpType, CdnResultCode, L2tpErrorCode, L2tpMessageType, StopCcnResultCode, type L2tpAvpMessage } from "@lnsd/wire";
import { RawLac, rig, u16, u32, type RawAvpSpec, type Rig } from "./harness.js";

/** generateload's SCCRQ: every AVP with M clear, Framing and Bearer Capabilities in 2 octets. */
const generateloadSccrq = (tunnelId: number): RawAvpSpec[] => [
  { type: AvpType.HostName, value: Buffer.from("loadtest") },
  { type: AvpType.VendorName, value: Buffer.from("OIE") },
  { type: AvpType.AssignedTunnelId, value: u16(tunnelId) },
  { type: AvpType.ProtocolVersion, value: u16(256) },
  { type: AvpType.FramingCapabilities, value: u16(1) },
  { type: AvpType.BearerCapabilities, value: u16(1) },
  { type: AvpType.ReceiveWindowSize, value: u16(20) },
];

/** generateload's ICRQ: Called and Calling Number, Assigned Session ID; no Call Serial Number. */
const generateloadIcrq = (sessionId: number): RawAvpSpec[] => [
  { type: AvpType.CalledNumber, value: Buffer.from("12356") },
  { type: AvpType.CallingNumber, value: Buffer.from("000") },
  { type: AvpType.AssignedSessionId, value: u16(sessionId) },
];

/** An SCCRQ as RFC 2661 6.1 has it. */
const rfcSccrq = (tunnelId: number): RawAvpSpec[] => [
  { type: AvpType.ProtocolVersion, mandatory: true, value: u16(0x0100) },
  { type: AvpType.HostName, mandatory: true, value: Buffer.from("rfc-lac") },
  { type: AvpType.FramingCapabilities, mandatory: true, value: u32(3) },
  { type: AvpType.AssignedTunnelId, mandatory: true, value: u16(tunnelId) },
];

/** An ICRQ and an ICCN as RFC 2661 6.6 and 6.8 have them. */
const rfcIcrq = (sessionId: number): RawAvpSpec[] => [
  { type: AvpType.AssignedSessionId, mandatory: true, value: u16(sessionId) },
  { type: AvpType.CallSerialNumber, mandatory: true, value: u32(sessionId) },
];
const rfcIccn: RawAvpSpec[] = [
  { type: AvpType.FramingType, mandatory: true, value: u32(1) },
  { type: AvpType.TxConnectSpeed, mandatory: true, value: u32(10_000_000) },
];

/** A tunnel up, opened the RFC's way (strict) or generateload's. */
function upTunnel(r: Rig, how: "rfc" | "generateload", address = "203.0.113.60", lacTunnelId = 1): RawLac {
  const lac = new RawLac(r, { address, port: 1701 });
  lac.send(L2tpMessageType.SCCRQ, 0, how === "rfc" ? rfcSccrq(lacTunnelId) : generateloadSccrq(lacTunnelId));
  lac.send(L2tpMessageType.SCCCN, 0, []);
  return lac;
}

function lnsTunnelOf(r: Rig, lac: RawLac) {
  return r.lns.tunnels.get(lac.lnsTunnelId);
}

void t.test("l2tpns's test LAC: 2-octet capabilities, no Call Serial Number, an empty ICCN: tunnel and calls come up", (t) => {
  const r = rig();
  const lac = new RawLac(r, { address: "203.0.113.60", port: 1701 });
  lac.send(L2tpMessageType.SCCRQ, 0, generateloadSccrq(1));
  const sccrp = lac.last(L2tpMessageType.SCCRP);
  t.ok(sccrp, "SCCRP, not StopCCN");
  t.equal(lac.last(L2tpMessageType.StopCCN), undefined);
  lac.send(L2tpMessageType.SCCCN, 0, []);
  const tu = lnsTunnelOf(r, lac);
  t.equal(tu?.state, "established");
  t.equal(tu?.peer.framingCapabilities, 1, "a 2-octet capability is read as its value");
  t.equal(tu?.peer.bearerCapabilities, 1);
  const up: number[] = [];
  r.lnsEvents.sessionUp = (_t, s) => up.push(s.peerId);
  for (let s = 1; s <= 3; s++) {
    lac.send(L2tpMessageType.ICRQ, 0, generateloadIcrq(s));
    const icrp = lac.replies().filter((m) => m.messageType === L2tpMessageType.ICRP && m.sessionId === s)[0];
    t.ok(icrp, `ICRP for call ${s}`);
    lac.send(L2tpMessageType.ICCN, icrp?.avps[AvpType.AssignedSessionId] ?? 0, []);
  }
  t.same(up, [1, 2, 3], "every call up");
  const s1 = [...(tu?.sessions.values() ?? [])][0];
  t.equal(s1?.call.callingNumber, "000");
  t.equal(s1?.call.framingType, 1, "Framing Type defaults to synchronous");
  t.equal(s1?.call.txConnectSpeed, undefined, "no Tx Connect Speed: none invented");
  t.equal(r.lns.counter("avp-missing:Call Serial Number"), 3, "each missing AVP counted");
  t.equal(r.lns.counter("avp-missing:Framing Type"), 3);
  t.equal(r.lns.counter("avp-missing:(Tx) Connect Speed"), 3);
  t.equal(r.logs.filter((l) => l.includes("avp-missing") && l.includes("Call Serial Number")).length, 1, "one log line per tunnel for each missing AVP");
  t.end();
});

void t.test("an AVP of the wrong length: ignored with M clear, CDN 2/2 with M set", (t) => {
  const r = rig();
  const lac = upTunnel(r, "generateload");
  // Rx Connect Speed of 2 octets, M clear: logged, counted, ignored; the call comes up.
  lac.send(L2tpMessageType.ICRQ, 0, generateloadIcrq(1));
  const icrp = lac.last(L2tpMessageType.ICRP);
  lac.send(L2tpMessageType.ICCN, icrp?.avps[AvpType.AssignedSessionId] ?? 0, [{ type: AvpType.RxConnectSpeed, value: u16(99) }]);
  t.equal(lnsTunnelOf(r, lac)?.sessions.values().next().value?.state, "established");
  t.equal(r.lns.counter("avp-ignored:Rx Connect Speed"), 1);
  t.ok(r.logs.some((l) => l.includes("avp-ignored") && l.includes("Rx Connect Speed")), "logged");
  // The same with M set: CDN result 2, error 2 (length is wrong).
  lac.send(L2tpMessageType.ICRQ, 0, generateloadIcrq(2));
  const icrp2 = lac.replies().filter((m) => m.messageType === L2tpMessageType.ICRP && m.sessionId === 2)[0];
  lac.send(L2tpMessageType.ICCN, icrp2?.avps[AvpType.AssignedSessionId] ?? 0, [{ type: AvpType.RxConnectSpeed, mandatory: true, value: u16(99) }]);
  const cdn = lac.last(L2tpMessageType.CDN);
  t.equal(cdn?.sessionId, 2);
  t.same(resultOf(cdn), [CdnResultCode.GeneralError, L2tpErrorCode.LengthWrong]);
  t.end();
});

function resultOf(m: L2tpAvpMessage | undefined): [number | undefined, number | undefined] {
  const rc = m?.avps[AvpType.ResultCode];
  return [rc?.resultCode, rc?.errorCode];
}

void t.test("where lnsd cannot go on it says so at once: StopCCN or CDN, never silence", (t) => {
  const r = rig();
  // SCCRQ without Assigned Tunnel ID: nobody to address but the sender; StopCCN to tunnel 0.
  const noId = new RawLac(r, { address: "203.0.113.61", port: 1701 });
  noId.send(L2tpMessageType.SCCRQ, 0, rfcSccrq(1).filter((a) => a.type !== AvpType.AssignedTunnelId));
  const stop = noId.last(L2tpMessageType.StopCCN);
  t.equal(stop?.tunnelId, 0);
  t.same(resultOf(stop), [StopCcnResultCode.GeneralError, L2tpErrorCode.FieldOutOfRange]);
  t.match(stop?.avps[AvpType.ResultCode]?.errorMessage, /Assigned Tunnel ID/);
  t.equal(r.lns.tunnels.size, 0, "no state kept for it");
  // SCCRQ without Host Name: StopCCN 2/3 to its Assigned Tunnel ID.
  const noHost = new RawLac(r, { address: "203.0.113.62", port: 1701 });
  noHost.send(L2tpMessageType.SCCRQ, 0, rfcSccrq(9).filter((a) => a.type !== AvpType.HostName));
  const stop2 = noHost.last(L2tpMessageType.StopCCN);
  t.equal(stop2?.tunnelId, 9);
  t.same(resultOf(stop2), [StopCcnResultCode.GeneralError, L2tpErrorCode.FieldOutOfRange]);
  // ICRQ without Assigned Session ID: CDN 2/3 at once (header Session ID 0: there is none to use).
  const lac = upTunnel(r, "rfc");
  lac.send(L2tpMessageType.ICRQ, 0, rfcIcrq(1).filter((a) => a.type !== AvpType.AssignedSessionId));
  const cdn = lac.last(L2tpMessageType.CDN);
  t.ok(cdn, "CDN for an ICRQ without Assigned Session ID");
  t.same(resultOf(cdn), [CdnResultCode.GeneralError, L2tpErrorCode.FieldOutOfRange]);
  t.match(cdn?.avps[AvpType.ResultCode]?.errorMessage, /Assigned Session ID/);
  t.equal(lnsTunnelOf(r, lac)?.state, "established", "the tunnel carries on");
  t.equal(lnsTunnelOf(r, lac)?.sessions.size, 0);
  t.end();
});

void t.test("generateload's CDN without Result Code ends the call without a CDN back", (t) => {
  const r = rig();
  const lac = upTunnel(r, "rfc");
  lac.send(L2tpMessageType.ICRQ, 0, rfcIcrq(1));
  const ours = lac.last(L2tpMessageType.ICRP)?.avps[AvpType.AssignedSessionId] ?? 0;
  lac.send(L2tpMessageType.ICCN, ours, rfcIccn);
  t.equal(r.lns.sessionCount, 1);
  lac.send(L2tpMessageType.CDN, 0, [{ type: AvpType.AssignedSessionId, value: u16(1) }]);
  t.equal(r.lns.sessionCount, 0, "the call is gone");
  t.equal(lac.last(L2tpMessageType.CDN), undefined, "no CDN in answer to a CDN");
  t.end();
});

void t.test("RFC 2661 4.1: an unknown AVP with M set ends the session (CDN 2/8) or the tunnel (StopCCN 2/8) at once", (t) => {
  const r = rig();
  const lac = upTunnel(r, "rfc");
  const unknown: RawAvpSpec = { type: 250, mandatory: true, value: Buffer.from("?") };
  // ICRQ: CDN to the LAC's Assigned Session ID, within the same tick.
  lac.send(L2tpMessageType.ICRQ, 0, [...rfcIcrq(5), unknown]);
  const cdn = lac.last(L2tpMessageType.CDN);
  t.equal(cdn?.sessionId, 5, "addressed to the LAC's call");
  t.same(resultOf(cdn), [CdnResultCode.GeneralError, L2tpErrorCode.UnknownMandatoryAvp]);
  t.equal(r.lns.sessionCount, 0, "no session kept");
  // ICCN: CDN for that call.
  lac.send(L2tpMessageType.ICRQ, 0, rfcIcrq(6));
  const ours = lac.replies().filter((m) => m.messageType === L2tpMessageType.ICRP && m.sessionId === 6)[0]?.avps[AvpType.AssignedSessionId] ?? 0;
  lac.send(L2tpMessageType.ICCN, ours, [...rfcIccn, unknown]);
  const cdn6 = lac.last(L2tpMessageType.CDN);
  t.equal(cdn6?.sessionId, 6);
  t.same(resultOf(cdn6), [CdnResultCode.GeneralError, L2tpErrorCode.UnknownMandatoryAvp]);
  // CDN: the call ends (the peer cleared it anyway); nothing sent back.
  lac.send(L2tpMessageType.ICRQ, 0, rfcIcrq(7));
  const ours7 = lac.replies().filter((m) => m.messageType === L2tpMessageType.ICRP && m.sessionId === 7)[0]?.avps[AvpType.AssignedSessionId] ?? 0;
  lac.send(L2tpMessageType.ICCN, ours7, rfcIccn);
  t.equal(r.lns.sessionCount, 1);
  const cdnsBefore = lac.replies().filter((m) => m.messageType === L2tpMessageType.CDN).length;
  lac.send(L2tpMessageType.CDN, ours7, [{ type: AvpType.ResultCode, mandatory: true, value: u16(1) }, { type: AvpType.AssignedSessionId, mandatory: true, value: u16(7) }, unknown]);
  t.equal(r.lns.sessionCount, 0);
  t.equal(lac.replies().filter((m) => m.messageType === L2tpMessageType.CDN).length, cdnsBefore);
  // A tunnel message: StopCCN 2/8.
  lac.send(L2tpMessageType.HELLO, 0, [unknown]);
  t.same(resultOf(lac.last(L2tpMessageType.StopCCN)), [StopCcnResultCode.GeneralError, L2tpErrorCode.UnknownMandatoryAvp]);
  t.end();
});
