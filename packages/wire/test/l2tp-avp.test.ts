// L2TPv2 AVPs and control messages (RFC 2661 4.1, 4.4, 6; RFC 3145): a round trip for every message
// type with every allowed AVP, every value kind, unknown and vendor AVPs, ZLB, and the action each
// validation error asks for.
import t from "tap";
import {
  AVP_TABLE,
  AVP_TYPES_ASCENDING,
  AVPS_IN_ANY_MESSAGE,
  AvpType,
  L2TP_MESSAGE_TABLE,
  L2tpMessageType,
  decodeAvpValue,
  decodeControlMessage,
  encodeAvpValue,
  encodeControlMessage,
  encodeL2tpDataMessage,
  encodeRawAvp,
  getAvp,
  isAvpAllowed,
  parseControlMessage,
  type AvpValues,
  type L2tpAvpMessage,
  type L2tpAvpMessageInit,
  type L2tpControlMessage,
  type L2tpDecodeOptions,
  type L2tpMessageSpec,
  type WireError,
} from "../src/index.js";
import { addExampleAvp, l2tpSamples } from "./lib/l2tp-samples.js";

function decodeOk(buf: Uint8Array, opts: L2tpDecodeOptions = {}): L2tpControlMessage {
  const r = decodeControlMessage(buf, opts);
  if (!r.ok) throw new Error(`decode failed: ${r.error.code}: ${r.error.reason}`);
  return r.value;
}

function decodeAvp(buf: Uint8Array, opts: L2tpDecodeOptions = {}): L2tpAvpMessage {
  const m = decodeOk(buf, opts);
  if (m.messageType === "ZLB") throw new Error("decoded a ZLB");
  return m;
}

function decodeErr(buf: Uint8Array, opts: L2tpDecodeOptions = {}): WireError {
  const r = decodeControlMessage(buf, opts);
  if (r.ok) throw new Error(`decoded ${String(r.value.messageType)} where an error was expected`);
  return r.error;
}

const u16 = (v: number): Buffer => Buffer.from([v >>> 8, v & 0xff]);

function raw(attributeType: number, value: Uint8Array, flags: { mandatory?: boolean; hidden?: boolean; vendorId?: number } = {}): Buffer {
  return encodeRawAvp({ vendorId: flags.vendorId ?? 0, attributeType, mandatory: flags.mandatory ?? false, hidden: flags.hidden ?? false, value });
}

/** A control message made of the given AVP octets (no checks), for malformed cases. */
function build(avps: readonly Buffer[], sessionId = 0): Buffer {
  const zlb = encodeControlMessage({ messageType: "ZLB", tunnelId: 1, sessionId, ns: 0, nr: 0 });
  const b = Buffer.concat([zlb, ...avps]);
  b.writeUInt16BE(b.length, 2);
  return b;
}

function fullMessage(type: L2tpMessageType): L2tpAvpMessageInit {
  const spec = L2TP_MESSAGE_TABLE[type];
  const avps: AvpValues = {};
  for (const a of [...spec.required, ...spec.optional, AvpType.RandomVector]) {
    if (a !== AvpType.MessageType) addExampleAvp(avps, a);
  }
  return { messageType: type, tunnelId: 0x0102, sessionId: spec.scope === "session" ? 0x0304 : 0, ns: 0x0506, nr: 0x0708, avps };
}

const ICRQ: L2tpAvpMessageInit = {
  messageType: L2tpMessageType.ICRQ,
  tunnelId: 1,
  sessionId: 0,
  ns: 1,
  nr: 1,
  avps: { [AvpType.AssignedSessionId]: 99, [AvpType.CallSerialNumber]: 5 },
};
const SCCRQ: L2tpAvpMessageInit = fullMessage(L2tpMessageType.SCCRQ);

void t.test("the tables cover RFC 2661 4.4 and section 6", (t) => {
  t.equal(AVP_TYPES_ASCENDING.length, 40, "39 RFC 2661 AVPs and RFC 3145's");
  for (const type of AVP_TYPES_ASCENDING) {
    const used = Object.values(L2tpMessageType).some((m) => isAvpAllowed(m, type));
    t.ok(used, `${AVP_TABLE[type].name} is allowed in some message`);
  }
  t.same(Object.keys(L2TP_MESSAGE_TABLE).map(Number), [1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16], "message types 1-16 but 5 and 13 (RFC 2661 3.2)");
  for (const [m, spec] of Object.entries(L2TP_MESSAGE_TABLE)) {
    t.equal(spec.required[0], AvpType.MessageType, `${spec.name} requires Message Type`);
    t.match(spec.rfc, /^RFC 2661 6\.\d+/, `${spec.name} cites section 6`);
    t.equal(isAvpAllowed(Number(m) as L2tpMessageType, AvpType.RandomVector), true);
  }
  t.same(AVPS_IN_ANY_MESSAGE, [AvpType.MessageType, AvpType.RandomVector]);
  // A few facts from RFC 2661 4.4.
  t.equal(AVP_TABLE[AvpType.TieBreaker].mBit, "clear");
  t.equal(AVP_TABLE[AvpType.HostName].mayHide, false);
  t.equal(AVP_TABLE[AvpType.ProxyAuthenResponse].mayHide, true);
  t.equal(AVP_TABLE[AvpType.SequencingRequired].maxLength, 0);
  t.equal(AVP_TABLE[AvpType.ChallengeResponse].minLength, 16);
  t.end();
});

void t.test("every message type round trips with every allowed AVP", (t) => {
  for (const type of Object.values(L2tpMessageType)) {
    const msg = fullMessage(type);
    const bytes = encodeControlMessage(msg);
    const d = decodeAvp(bytes);
    const name = L2TP_MESSAGE_TABLE[type].name;
    t.equal(d.messageType, type, name);
    t.same([d.tunnelId, d.sessionId, d.ns, d.nr], [msg.tunnelId, msg.sessionId, msg.ns, msg.nr], `${name} header`);
    t.same(d.avps, { [AvpType.MessageType]: type, ...msg.avps }, `${name} AVPs`);
    t.same(d.unknown, [], `${name} no unknown AVPs`);
    // Message Type first, Random Vector second (RFC 2661 4.1, 4.3).
    t.same(
      d.received.slice(0, 2).map((r) => r.type),
      [AvpType.MessageType, AvpType.RandomVector],
    );
    for (const r of d.received) t.equal(r.mandatory, AVP_TABLE[r.type].mBit === "set", `${name}: M bit of ${AVP_TABLE[r.type].name}`);
    t.same(encodeControlMessage(d), bytes, `${name} re-encodes to the same bytes`);
  }
  t.end();
});

void t.test("samples round trip byte for byte", (t) => {
  for (const s of l2tpSamples()) {
    if (s.messageType === "data") continue;
    const d = decodeOk(s.bytes, s.secret === undefined ? {} : { secret: s.secret });
    t.equal(d.messageType, s.messageType, s.name);
    if (s.secret === undefined) t.same(encodeControlMessage(d), s.bytes, `${s.name} re-encodes`);
  }
  t.end();
});

void t.test("typed access with getAvp", (t) => {
  const d = decodeOk(encodeControlMessage(SCCRQ));
  const host: string | undefined = getAvp(d, AvpType.HostName);
  const tie: bigint | undefined = getAvp(d, AvpType.TieBreaker);
  const version = getAvp(d, AvpType.ProtocolVersion);
  t.equal(host, "lac1.example.net");
  t.equal(tie, 0x0123456789abcdefn);
  t.same(version, { version: 1, revision: 0 });
  t.equal(getAvp(d, AvpType.ResultCode), undefined);
  t.equal(getAvp({ messageType: "ZLB", tunnelId: 1, sessionId: 0, ns: 0, nr: 0 }, AvpType.HostName), undefined);
  t.end();
});

void t.test("every value kind, edge values", (t) => {
  const cases: { readonly name: string; readonly avps: AvpValues; readonly type: L2tpMessageType }[] = [
    { name: "Result Code alone", type: L2tpMessageType.StopCCN, avps: { [AvpType.AssignedTunnelId]: 1, [AvpType.ResultCode]: { resultCode: 1 } } },
    { name: "Result Code + Error Code", type: L2tpMessageType.StopCCN, avps: { [AvpType.AssignedTunnelId]: 1, [AvpType.ResultCode]: { resultCode: 5, errorCode: 1 } } },
    { name: "Result Code + empty message", type: L2tpMessageType.StopCCN, avps: { [AvpType.AssignedTunnelId]: 1, [AvpType.ResultCode]: { resultCode: 2, errorCode: 0 } } },
    {
      name: "Q.931 without advisory, disconnect cause without message",
      type: L2tpMessageType.CDN,
      avps: {
        [AvpType.ResultCode]: { resultCode: 1, errorCode: 0, errorMessage: "x" },
        [AvpType.AssignedSessionId]: 0xffff,
        [AvpType.Q931CauseCode]: { causeCode: 0xffff, causeMsg: 0xff },
        [AvpType.PppDisconnectCauseCode]: { disconnectCode: 0, controlProtocol: 0, direction: 0 },
      },
    },
    {
      name: "latin1 octets, u32 and u64 extremes",
      type: L2tpMessageType.SCCRQ,
      avps: {
        ...SCCRQ.avps,
        [AvpType.HostName]: "h\u00e9\u00ff\u0000",
        [AvpType.VendorName]: "",
        [AvpType.FramingCapabilities]: 0xffffffff,
        [AvpType.TieBreaker]: 0xffffffffffffffffn,
        [AvpType.Challenge]: Buffer.alloc(1000, 0xa5),
      },
    },
  ];
  for (const c of cases) {
    const msg: L2tpAvpMessageInit = { messageType: c.type, tunnelId: 1, sessionId: 0, ns: 0, nr: 0, avps: c.avps };
    const bytes = encodeControlMessage(msg);
    const d = decodeAvp(bytes);
    t.same(d.avps, { [AvpType.MessageType]: c.type, ...c.avps }, c.name);
    t.same(encodeControlMessage(d), bytes, `${c.name}: re-encode`);
  }
  // Host Name with bytes above 0x7f keeps every octet.
  const hn = encodeAvpValue(AvpType.HostName, "h\u00e9\u00ff");
  t.same([...hn], [0x68, 0xe9, 0xff]);
  // A wider character is sent as UTF-8 and comes back as its octets.
  t.same([...encodeAvpValue(AvpType.ResultCode, { resultCode: 2, errorCode: 0, errorMessage: "\u20ac" })], [0, 2, 0, 0, 0xe2, 0x82, 0xac]);
  t.end();
});

void t.test("value length and range checks", (t) => {
  const bad = (type: AvpType, octets: number[]): string => {
    const r = decodeAvpValue(type, Buffer.from(octets));
    return r.ok ? "ok" : r.error.code;
  };
  t.equal(bad(AvpType.ResultCode, [0, 1, 0]), "bad-length", "Result Code of 3 octets (RFC 2661 4.4.2)");
  t.equal(bad(AvpType.ResultCode, [0]), "bad-length");
  t.equal(bad(AvpType.ResultCode, [0, 1]), "ok");
  t.equal(bad(AvpType.AssignedTunnelId, [0, 1, 2]), "bad-length");
  t.equal(bad(AvpType.AssignedTunnelId, [0, 0]), "bad-value", "Assigned Tunnel ID 0 (RFC 2661 5.3)");
  t.equal(bad(AvpType.AssignedSessionId, [0, 0]), "bad-value");
  t.equal(bad(AvpType.HostName, []), "bad-length", "Host Name at least 1 octet (RFC 2661 4.4.3)");
  t.equal(bad(AvpType.ChallengeResponse, new Array<number>(15).fill(0)), "bad-length");
  t.equal(bad(AvpType.SequencingRequired, [0]), "bad-length");
  t.equal(bad(AvpType.CallErrors, new Array<number>(25).fill(0)), "bad-length");
  t.equal(bad(AvpType.Accm, new Array<number>(10).fill(0)), "ok");
  t.equal(bad(AvpType.Q931CauseCode, [0, 1]), "bad-length");
  t.equal(bad(AvpType.PppDisconnectCauseCode, [0, 1, 0, 0]), "bad-length");
  t.equal(bad(AvpType.TieBreaker, [1, 2, 3, 4, 5, 6, 7]), "bad-length");
  // Inside a message: StopCCN / CDN with general error 2 ("length is wrong").
  const e = decodeErr(build([raw(0, u16(L2tpMessageType.ICRQ), { mandatory: true }), raw(AvpType.AssignedSessionId, Buffer.from([0, 1, 2]), { mandatory: true })]));
  t.same([e.code, e.action], ["bad-length", { kind: "cdn", resultCode: 2, errorCode: 2 }]);
  const z = decodeErr(build([raw(0, u16(L2tpMessageType.SCCRQ), { mandatory: true }), raw(AvpType.AssignedTunnelId, u16(0), { mandatory: true })]));
  t.same([z.code, z.action], ["bad-value", { kind: "stopccn", resultCode: 2, errorCode: 3 }]);
  t.end();
});

void t.test("ZLB (RFC 2661 5.8)", (t) => {
  const zlb = encodeControlMessage({ messageType: "ZLB", tunnelId: 5, sessionId: 6, ns: 7, nr: 8 });
  t.equal(zlb.length, 12);
  t.same(decodeOk(zlb), { messageType: "ZLB", tunnelId: 5, sessionId: 6, ns: 7, nr: 8 });
  // Bytes past Length are ignored: still a ZLB.
  t.same(decodeOk(Buffer.concat([zlb, Buffer.from([1, 2, 3])])).messageType, "ZLB");
  t.end();
});

void t.test("unknown AVPs: skipped without M, an error with M (RFC 2661 4.1)", (t) => {
  const base = encodeControlMessage(ICRQ);
  const withAvp = (avp: Buffer): Buffer => {
    const b = Buffer.concat([base, avp]);
    b.writeUInt16BE(b.length, 2);
    return b;
  };
  // Vendor 0, unknown type, no M: kept as opaque, message fine.
  const u = decodeAvp(withAvp(raw(200, Buffer.from("hello"))));
  t.same(u.unknown, [{ vendorId: 0, attributeType: 200, mandatory: false, hidden: false, value: Buffer.from("hello") }]);
  t.equal(getAvp(u, AvpType.AssignedSessionId), 99, "the rest still decodes");
  // Vendor AVP (Cisco, vendor 9) without M: kept whole, including an empty one.
  const v = decodeAvp(withAvp(Buffer.concat([raw(1, Buffer.from([1, 2, 3, 4]), { vendorId: 9 }), raw(2, Buffer.alloc(0), { vendorId: 311 })])));
  t.same(
    v.unknown.map((x) => [x.vendorId, x.attributeType, x.value.length]),
    [
      [9, 1, 4],
      [311, 2, 0],
    ],
  );
  // A vendor AVP whose attribute number collides with a known one is still vendor-specific.
  const c = decodeAvp(withAvp(raw(AvpType.HostName, Buffer.from("x"), { vendorId: 9 })));
  t.equal(getAvp(c, AvpType.HostName), undefined);
  t.equal(c.unknown.length, 1);
  // Unknown with M in a session message (ICRQ, header Session ID 0): CDN, general error 8.
  const m = decodeErr(withAvp(raw(200, Buffer.from("x"), { mandatory: true })));
  t.same([m.code, m.value, m.action], ["unknown-mandatory-avp", 200, { kind: "cdn", resultCode: 2, errorCode: 8 }]);
  const vm = decodeErr(withAvp(raw(1, Buffer.alloc(2), { mandatory: true, vendorId: 9 })));
  t.same([vm.code, vm.action], ["unknown-mandatory-avp", { kind: "cdn", resultCode: 2, errorCode: 8 }]);
  // ... and parseControlMessage still gives the control plane what it needs to send that CDN.
  const p = parseControlMessage(withAvp(raw(200, Buffer.from("x"), { mandatory: true })));
  t.equal(p.ok && getAvp(p.value, AvpType.AssignedSessionId), 99);
  // In a tunnel message: StopCCN, general error 8.
  const hello = encodeControlMessage({ messageType: L2tpMessageType.HELLO, tunnelId: 1, sessionId: 0, ns: 0, nr: 0, avps: {} });
  const h = Buffer.concat([hello, raw(999, Buffer.alloc(0), { mandatory: true })]);
  h.writeUInt16BE(h.length, 2);
  t.same(decodeErr(h).action, { kind: "stopccn", resultCode: 2, errorCode: 8 });
  // A known AVP with a reserved bit set is unrecognized (RFC 2661 4.1).
  const rsv = raw(AvpType.CallingNumber, Buffer.from("123"));
  rsv.writeUInt16BE(rsv.readUInt16BE(0) | 0x0400, 0);
  const r = decodeAvp(withAvp(rsv));
  t.equal(getAvp(r, AvpType.CallingNumber), undefined);
  t.same(
    r.unknown.map((x) => x.attributeType),
    [AvpType.CallingNumber],
  );
  const rsvM = Buffer.from(rsv);
  rsvM.writeUInt16BE(rsvM.readUInt16BE(0) | 0x8000, 0);
  t.equal(decodeErr(withAvp(rsvM)).code, "unknown-mandatory-avp");
  // Unknown AVPs are re-encoded as they came.
  t.same(encodeControlMessage(u), withAvp(raw(200, Buffer.from("hello"))));
  t.end();
});

void t.test("Message Type must come first, be known and not hidden (RFC 2661 4.1, 4.4.1)", (t) => {
  const e1 = decodeErr(build([raw(AvpType.HostName, Buffer.from("x"), { mandatory: true }), raw(0, u16(1), { mandatory: true })]));
  t.same([e1.code, e1.action], ["missing-avp", { kind: "stopccn", resultCode: 2, errorCode: 3 }]);
  const e2 = decodeErr(build([raw(0, u16(1), { mandatory: true, vendorId: 9 })], 33));
  t.same([e2.code, e2.action.kind], ["missing-avp", "cdn"], "session ID in the header decides before a Message Type is known");
  t.equal(decodeErr(build([raw(0, u16(1), { mandatory: true, hidden: true })])).code, "bad-value");
  t.equal(decodeErr(build([raw(0, Buffer.from([0, 0, 1]), { mandatory: true })])).code, "bad-length");
  for (const type of [0, 5, 13, 17, 0xffff]) {
    const m = decodeErr(build([raw(0, u16(type), { mandatory: true })]));
    t.same([m.code, m.value, m.action], ["unknown-message-type", type, { kind: "stopccn", resultCode: 2, errorCode: 3 }], `type ${type} with M clears the tunnel`);
    const n = decodeErr(build([raw(0, u16(type), { mandatory: false })]));
    t.same([n.code, n.action], ["unknown-message-type", { kind: "drop" }], `type ${type} without M is ignored`);
  }
  t.end();
});

void t.test("AVP framing errors (RFC 2661 4.1)", (t) => {
  const mt = raw(0, u16(L2tpMessageType.HELLO), { mandatory: true });
  // Length below 6.
  for (const len of [0, 1, 5]) {
    const a = raw(200, Buffer.alloc(4));
    a.writeUInt16BE(len, 0);
    const e = decodeErr(build([mt, a]));
    t.same([e.code, e.value, e.action], ["bad-length", len, { kind: "stopccn", resultCode: 2, errorCode: 2 }], `AVP Length ${len}`);
  }
  // Length past the end of the message.
  const long = raw(200, Buffer.alloc(4));
  long.writeUInt16BE(11, 0);
  t.equal(decodeErr(build([mt, long])).code, "bad-length");
  // 1 to 5 stray octets after the last AVP.
  for (let n = 1; n < 6; n++) t.equal(decodeErr(build([mt, Buffer.alloc(n)])).code, "bad-length", `${n} trailing octets`);
  // The message Length cuts the last AVP short.
  const ok = build([mt, raw(200, Buffer.alloc(4))]);
  const cut = Buffer.from(ok);
  cut.writeUInt16BE(ok.length - 1, 2);
  t.equal(decodeErr(cut).code, "bad-length");
  // A data message is not a control message.
  t.equal(decodeErr(encodeL2tpDataMessage({ tunnelId: 1, sessionId: 1 }, Buffer.from([0xff, 0x03]))).code, "bad-header");
  t.end();
});

void t.test("required and unexpected AVPs (RFC 2661 section 6)", (t) => {
  for (const type of Object.values(L2tpMessageType)) {
    const spec: L2tpMessageSpec = L2TP_MESSAGE_TABLE[type];
    for (const missing of spec.required) {
      if (missing === AvpType.MessageType) continue;
      const full = fullMessage(type);
      const avps: AvpValues = { ...full.avps };
      // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- building a message without one AVP
      delete avps[missing];
      if (spec.mayBeMissing?.includes(missing) === true) {
        // Required, but lnsd can do without it (l2tpns's test LAC omits it): accepted, default applied.
        const d = decodeAvp(encodeControlMessage({ ...full, avps }));
        t.same(d.missing, [missing], `${spec.name} without ${AVP_TABLE[missing].name}: accepted`);
        t.same(d.avps[missing], spec.defaults?.[missing], `${spec.name} without ${AVP_TABLE[missing].name}: its default`);
        continue;
      }
      const e = decodeErr(encodeControlMessage({ ...full, avps }));
      t.same(
        [e.code, e.value, e.action],
        ["missing-avp", missing, { kind: spec.scope === "tunnel" ? "stopccn" : "cdn", resultCode: 2, errorCode: 3 }],
        `${spec.name} without ${AVP_TABLE[missing].name}`,
      );
    }
  }
  // A known mandatory AVP the message does not list: treated as unknown mandatory.
  const hello: L2tpAvpMessageInit = { messageType: L2tpMessageType.HELLO, tunnelId: 1, sessionId: 0, ns: 0, nr: 0, avps: { [AvpType.ResultCode]: { resultCode: 1 } } };
  const e = decodeErr(encodeControlMessage(hello));
  t.same([e.code, e.value, e.action], ["unexpected-avp", AvpType.ResultCode, { kind: "stopccn", resultCode: 2, errorCode: 8 }]);
  t.equal(decodeAvp(encodeControlMessage(hello), { unexpectedMandatory: "ignore" }).avps[AvpType.ResultCode]?.resultCode, 1);
  // Not mandatory: kept, no error (Tie Breaker has M=0).
  const icrq = decodeAvp(encodeControlMessage({ ...ICRQ, avps: { ...ICRQ.avps, [AvpType.TieBreaker]: 1n } }));
  t.equal(getAvp(icrq, AvpType.TieBreaker), 1n);
  // CDN session scope even when the header Session ID is 0.
  const cdn = encodeControlMessage({ messageType: L2tpMessageType.CDN, tunnelId: 1, sessionId: 0, ns: 0, nr: 0, avps: { [AvpType.ResultCode]: { resultCode: 1 } } });
  t.same(decodeErr(cdn).action, { kind: "cdn", resultCode: 2, errorCode: 3 });
  t.end();
});

void t.test("duplicate AVPs: the first is kept", (t) => {
  const b = encodeControlMessage(ICRQ);
  const dup = Buffer.concat([b, raw(AvpType.AssignedSessionId, u16(1234), { mandatory: true })]);
  dup.writeUInt16BE(dup.length, 2);
  const d = decodeAvp(dup);
  t.equal(getAvp(d, AvpType.AssignedSessionId), 99);
  t.equal(d.received.filter((r) => r.type === AvpType.AssignedSessionId).length, 2);
  t.end();
});

void t.test("encoder refuses what the tables forbid", (t) => {
  t.throws(() => encodeControlMessage({ ...SCCRQ, avps: { ...SCCRQ.avps, [AvpType.HostName]: "" } }), RangeError, "empty Host Name");
  t.throws(() => encodeControlMessage({ ...SCCRQ, avps: { ...SCCRQ.avps, [AvpType.ChallengeResponse]: Buffer.alloc(15) } }), RangeError);
  t.throws(() => encodeControlMessage({ ...SCCRQ, avps: { ...SCCRQ.avps, [AvpType.Challenge]: Buffer.alloc(1018) } }), RangeError, "AVP over 1023 octets");
  t.throws(() => encodeControlMessage({ ...SCCRQ, avps: { ...SCCRQ.avps, [AvpType.MessageType]: 2 } }), RangeError, "two Message Types");
  t.throws(() => encodeControlMessage({ ...ICRQ, avps: { ...ICRQ.avps, [AvpType.ResultCode]: { resultCode: 1, errorMessage: "x" } } }), RangeError);
  const hide = { secret: "s", randomVector: Buffer.alloc(16, 1), types: [AvpType.HostName] };
  const sccrq = { ...SCCRQ, avps: { ...SCCRQ.avps, [AvpType.RandomVector]: hide.randomVector } };
  t.doesNotThrow(() => encodeControlMessage(sccrq, { hide: { ...hide, types: [AvpType.VendorName] } }));
  t.throws(() => encodeControlMessage(SCCRQ, { hide: { ...hide, types: [AvpType.VendorName] } }), RangeError, "two different Random Vectors");
  t.throws(() => encodeControlMessage(sccrq, { hide }), RangeError, "Host Name MUST NOT be hidden");
  t.throws(() => encodeControlMessage(SCCRQ, { hide: { ...hide, types: [AvpType.RandomVector] } }), RangeError);
  t.end();
});
