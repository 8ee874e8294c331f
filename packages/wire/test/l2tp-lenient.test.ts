// Liberal decoding where RFC 2661 allows it (as l2tpns reads): 2-octet capabilities, AVPs with M
// clear and a wrong length ignored, required AVPs lnsd can do without reported with their default.
import t from "tap";
import { AvpType, decodeControlMessage, encodeRawAvp, FramingBits, L2TP_CONTROL_FLAGS, L2tpMessageType, type L2tpAvpMessage } from "../src/index.js";

interface Avp {
  readonly type: number;
  readonly mandatory?: boolean;
  readonly value: Uint8Array;
}

const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
const u32 = (n: number): Buffer => Buffer.from([n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);

function message(messageType: number, sessionId: number, avps: readonly Avp[]): Buffer {
  const body = Buffer.concat([
    encodeRawAvp({ vendorId: 0, attributeType: AvpType.MessageType, mandatory: true, hidden: false, value: u16(messageType) }),
    ...avps.map((a) => encodeRawAvp({ vendorId: 0, attributeType: a.type, mandatory: a.mandatory ?? false, hidden: false, value: a.value })),
  ]);
  const head = Buffer.alloc(12);
  head.writeUInt16BE(L2TP_CONTROL_FLAGS, 0);
  head.writeUInt16BE(12 + body.length, 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(sessionId, 6);
  return Buffer.concat([head, body]);
}

function decoded(b: Buffer): L2tpAvpMessage | undefined {
  const r = decodeControlMessage(b);
  return r.ok && r.value.messageType !== "ZLB" ? r.value : undefined;
}

const sccrq = (framing: Avp): Buffer =>
  message(L2tpMessageType.SCCRQ, 0, [
    { type: AvpType.ProtocolVersion, value: u16(0x0100) },
    { type: AvpType.HostName, value: Buffer.from("loadtest") },
    framing,
    { type: AvpType.BearerCapabilities, value: u16(1) },
    { type: AvpType.AssignedTunnelId, value: u16(1) },
  ]);

void t.test("Framing and Bearer Capabilities of 2 octets are read as their value (RFC 2661 4.4.3 says 4)", (t) => {
  const m = decoded(sccrq({ type: AvpType.FramingCapabilities, value: u16(1) }));
  t.equal(m?.avps[AvpType.FramingCapabilities], 1);
  t.equal(m?.avps[AvpType.BearerCapabilities], 1);
  t.equal(decoded(sccrq({ type: AvpType.FramingCapabilities, value: u32(3) }))?.avps[AvpType.FramingCapabilities], 3);
  // 3 octets with M set: a length that is wrong either way, StopCCN 2/2.
  const r = decodeControlMessage(sccrq({ type: AvpType.FramingCapabilities, mandatory: true, value: Buffer.from([0, 0, 1]) }));
  t.same(r.ok ? undefined : r.error.action, { kind: "stopccn", resultCode: 2, errorCode: 2 });
  t.end();
});

void t.test("an AVP with M clear and a wrong length is ignored and reported; with M set it is an error", (t) => {
  const iccn = (mandatory: boolean): Buffer =>
    message(L2tpMessageType.ICCN, 5, [
      { type: AvpType.TxConnectSpeed, mandatory: true, value: u32(1000) },
      { type: AvpType.FramingType, mandatory: true, value: u32(1) },
      { type: AvpType.RxConnectSpeed, mandatory, value: u16(9) },
    ]);
  const m = decoded(iccn(false));
  t.equal(m?.avps[AvpType.RxConnectSpeed], undefined, "left out");
  t.same(m?.ignored.map((i) => i.type), [AvpType.RxConnectSpeed]);
  t.match(m?.ignored[0]?.reason, /2 octets/);
  const r = decodeControlMessage(iccn(true));
  t.same(r.ok ? undefined : r.error.action, { kind: "cdn", resultCode: 2, errorCode: 2 });
  // A required AVP ignored for its length is then missing: the error names it.
  const noId = decodeControlMessage(message(L2tpMessageType.ICRQ, 0, [{ type: AvpType.AssignedSessionId, value: u32(7) }]));
  t.same(noId.ok ? undefined : [noId.error.code, noId.error.value], ["missing-avp", AvpType.AssignedSessionId]);
  t.end();
});

void t.test("required AVPs lnsd can do without: accepted, listed in `missing`, defaults filled in", (t) => {
  const icrq = decoded(message(L2tpMessageType.ICRQ, 0, [{ type: AvpType.AssignedSessionId, value: u16(7) }]));
  t.same(icrq?.missing, [AvpType.CallSerialNumber]);
  t.equal(icrq?.avps[AvpType.CallSerialNumber], undefined, "no serial number invented");
  const iccn = decoded(message(L2tpMessageType.ICCN, 5, []));
  t.same(iccn?.missing, [AvpType.TxConnectSpeed, AvpType.FramingType]);
  t.equal(iccn?.avps[AvpType.FramingType], FramingBits.Sync);
  t.equal(iccn?.avps[AvpType.TxConnectSpeed], undefined);
  const cdn = decoded(message(L2tpMessageType.CDN, 0, [{ type: AvpType.AssignedSessionId, value: u16(7) }]));
  t.same(cdn?.missing, [AvpType.ResultCode]);
  const full = decoded(message(L2tpMessageType.ICRQ, 0, [{ type: AvpType.AssignedSessionId, value: u16(7) }, { type: AvpType.CallSerialNumber, value: u32(1) }]));
  t.same(full?.missing, []);
  t.end();
});
