// Hidden AVPs (RFC 2661 4.3). Known answers come from a separate, literal reading of the RFC's
// formula written here with node:crypto, not from the codec's helper.
import { createHash } from "node:crypto";
import t from "tap";
import {
  AVP_TABLE,
  AvpType,
  L2TP_MESSAGE_TABLE,
  L2tpMessageType,
  decodeControlMessage,
  encodeControlMessage,
  encodeRawAvp,
  getAvp,
  hideAvpValue,
  revealAvpValue,
  type AvpValues,
  type L2tpAvpMessageInit,
  type L2tpDecodeOptions,
  type WireError,
} from "../src/index.js";
import { addExampleAvp } from "./lib/l2tp-samples.js";

const SECRET = Buffer.from("it's a secret to everybody", "utf8");
const RV = Buffer.from("000102030405060708090a0b0c0d0e0f1011", "hex");

/**
 * RFC 2661 4.3, read literally: subformat = Original Length (2) || value || padding, cut into
 * 16-octet chunks p1..pn; b1 = MD5(AV + S + RV), bi = MD5(S + c(i-1)), ci = pi xor bi.
 */
function referenceHide(attributeType: number, value: Buffer, secret: Buffer, rv: Buffer, padding: Buffer): Buffer {
  const sub = Buffer.concat([Buffer.from([value.length >> 8, value.length & 0xff]), value, padding]);
  const out: number[] = [];
  let hashInput = Buffer.concat([Buffer.from([attributeType >> 8, attributeType & 0xff]), secret, rv]);
  for (let start = 0; start < sub.length; start += 16) {
    const b = createHash("md5").update(hashInput).digest();
    const p = sub.subarray(start, start + 16);
    const c = Buffer.from(p.map((octet, i) => octet ^ (b[i] ?? 0)));
    out.push(...c);
    hashInput = Buffer.concat([secret, c]);
  }
  return Buffer.from(out);
}

function pattern(n: number, seed: number): Buffer {
  return Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff));
}

function decodeErr(buf: Uint8Array, opts: L2tpDecodeOptions = {}): WireError {
  const r = decodeControlMessage(buf, opts);
  if (r.ok) throw new Error("decoded where an error was expected");
  return r.error;
}

/** The AVPs of a control message as [flags word, vendor, type, value] (test-side walk). */
function avpsOf(msg: Buffer): { word: number; vendor: number; type: number; value: Buffer }[] {
  const out = [];
  for (let pos = 12; pos < msg.readUInt16BE(2); ) {
    const word = msg.readUInt16BE(pos);
    const len = word & 0x3ff;
    out.push({ word, vendor: msg.readUInt16BE(pos + 2), type: msg.readUInt16BE(pos + 4), value: msg.subarray(pos + 6, pos + len) });
    pos += len;
  }
  return out;
}

const ICCN: L2tpAvpMessageInit = {
  messageType: L2tpMessageType.ICCN,
  tunnelId: 10,
  sessionId: 20,
  ns: 3,
  nr: 4,
  avps: { [AvpType.TxConnectSpeed]: 1_000_000, [AvpType.FramingType]: 1 },
};

void t.test("known answers for value lengths 0, 1, 15, 16, 17, 100, 300", (t) => {
  for (const n of [0, 1, 15, 16, 17, 100, 300]) {
    for (const padding of [Buffer.alloc(0), pattern(5, 99), pattern(16, 1)]) {
      const value = pattern(n, n);
      const name = `length ${n}, padding ${padding.length}`;
      const expected = referenceHide(AvpType.ProxyAuthenResponse, value, SECRET, RV, padding);
      t.same(hideAvpValue(AvpType.ProxyAuthenResponse, value, SECRET, RV, padding), expected, `${name}: hideAvpValue`);

      // The same octets inside an encoded ICCN, after the Random Vector AVP.
      const msg = encodeControlMessage(
        { ...ICCN, avps: { ...ICCN.avps, [AvpType.ProxyAuthenResponse]: value } },
        { hide: { secret: SECRET, randomVector: RV, types: [AvpType.ProxyAuthenResponse], padding: { [AvpType.ProxyAuthenResponse]: padding } } },
      );
      const avps = avpsOf(msg);
      t.same(
        avps.map((a) => a.type),
        [0, AvpType.RandomVector, AvpType.FramingType, AvpType.TxConnectSpeed, AvpType.ProxyAuthenResponse],
      );
      t.same(avps[1]?.value, RV, `${name}: Random Vector precedes`);
      const hidden = avps[4];
      t.equal(hidden?.word, 0x4000 | (6 + 2 + n + padding.length), `${name}: H=1, M=0, Length`);
      t.same(hidden?.value, expected, `${name}: hidden octets`);

      const d = decodeControlMessage(msg, { secret: SECRET });
      t.ok(d.ok, `${name}: decodes`);
      if (d.ok) {
        t.same(getAvp(d.value, AvpType.ProxyAuthenResponse), value, `${name}: revealed`);
        t.same(d.value.messageType !== "ZLB" && d.value.received.find((r) => r.type === AvpType.ProxyAuthenResponse)?.hidden, true);
      }
      const back = revealAvpValue(AvpType.ProxyAuthenResponse, expected, SECRET, RV);
      t.same(back.ok && back.value, value, `${name}: revealAvpValue`);
    }
  }
  t.end();
});

void t.test("the attribute type keys the first block", (t) => {
  const v = pattern(20, 3);
  t.same(hideAvpValue(AvpType.ProxyAuthenName, v, SECRET, RV), referenceHide(AvpType.ProxyAuthenName, v, SECRET, RV, Buffer.alloc(0)));
  t.notSame(hideAvpValue(AvpType.ProxyAuthenName, v, SECRET, RV), hideAvpValue(AvpType.ProxyAuthenResponse, v, SECRET, RV));
  // A string secret is its UTF-8 octets.
  t.same(hideAvpValue(30, v, "s\u00e9cret", RV), hideAvpValue(30, v, Buffer.from("s\u00e9cret", "utf8"), RV));
  t.end();
});

void t.test("every hideable AVP round trips hidden, in every message type", (t) => {
  for (const type of Object.values(L2tpMessageType)) {
    const spec = L2TP_MESSAGE_TABLE[type];
    const avps: AvpValues = {};
    const hide: AvpType[] = [];
    for (const a of [...spec.required, ...spec.optional]) {
      if (a === AvpType.MessageType) continue;
      addExampleAvp(avps, a);
      if (AVP_TABLE[a].mayHide) hide.push(a);
    }
    const msg: L2tpAvpMessageInit = { messageType: type, tunnelId: 1, sessionId: 2, ns: 3, nr: 4, avps };
    const padding = Object.fromEntries(hide.map((a) => [a, pattern(a % 7, a)]));
    const bytes = encodeControlMessage(msg, { hide: { secret: SECRET, randomVector: RV, types: hide, padding } });
    const d = decodeControlMessage(bytes, { secret: SECRET });
    if (!d.ok) {
      t.fail(`${spec.name}: ${d.error.reason}`);
      continue;
    }
    if (d.value.messageType === "ZLB") continue;
    t.same(d.value.avps, { [AvpType.MessageType]: type, [AvpType.RandomVector]: RV, ...avps }, `${spec.name}: ${hide.length} hidden AVPs revealed`);
    t.same(
      d.value.received.filter((r) => r.hidden).map((r) => r.type),
      hide.slice().sort((a, b) => a - b),
    );
    // Re-encoding with the same hiding parameters gives the same octets.
    t.same(encodeControlMessage(d.value, { hide: { secret: SECRET, randomVector: RV, types: hide, padding } }), bytes, `${spec.name}: re-encode`);
  }
  t.end();
});

void t.test("a wrong secret gives an error or garbage, never a throw", (t) => {
  const value = pattern(40, 1);
  const msg = encodeControlMessage(
    { ...ICCN, avps: { ...ICCN.avps, [AvpType.ProxyAuthenResponse]: value, [AvpType.ProxyAuthenName]: "carol" } },
    { hide: { secret: SECRET, randomVector: RV, types: [AvpType.ProxyAuthenResponse, AvpType.ProxyAuthenName] } },
  );
  let errors = 0;
  for (let i = 0; i < 200; i++) {
    const r = decodeControlMessage(msg, { secret: `wrong-${i}` });
    if (!r.ok) {
      errors++;
      t.equal(r.error.code, "bad-length");
      t.same(r.error.action, { kind: "cdn", resultCode: 2, errorCode: 2 });
    } else if (r.value.messageType !== "ZLB" && r.value.ignored.length > 0) {
      // These AVPs have M clear: a value that does not reveal is ignored, not an error (RFC 2661 4.1).
      errors++;
      t.ok(r.value.ignored.every((a) => a.type === AvpType.ProxyAuthenResponse || a.type === AvpType.ProxyAuthenName));
    } else {
      t.notSame(getAvp(r.value, AvpType.ProxyAuthenResponse), value);
    }
  }
  t.ok(errors > 150, `most wrong secrets are caught by the Original Length check (${errors}/200)`);
  // The same with M set (Assigned Session ID): an error, CDN 2/2.
  const mandatory = encodeControlMessage({ ...ICCN, messageType: L2tpMessageType.CDN, avps: { [AvpType.ResultCode]: { resultCode: 1 }, [AvpType.AssignedSessionId]: 7 } }, { hide: { secret: SECRET, randomVector: RV, types: [AvpType.AssignedSessionId], padding: { [AvpType.AssignedSessionId]: pattern(30, 3) } } });
  let mandatoryErrors = 0;
  for (let i = 0; i < 50; i++) {
    const r = decodeControlMessage(mandatory, { secret: `wrong-${i}` });
    if (!r.ok) {
      mandatoryErrors++;
      t.same(r.error.action, { kind: "cdn", resultCode: 2, errorCode: 2 });
    }
  }
  t.ok(mandatoryErrors > 35, `a mandatory AVP that does not reveal is an error (${mandatoryErrors}/50)`);
  const short = revealAvpValue(33, Buffer.from([1]), SECRET, RV);
  t.same(!short.ok && short.error.code, "bad-length", "hidden value shorter than the Original Length field");
  t.end();
});

void t.test("hidden AVP without a secret or without a Random Vector", (t) => {
  const hidden = encodeControlMessage(
    { ...ICCN, avps: { ...ICCN.avps, [AvpType.ProxyAuthenName]: "dave" } },
    { hide: { secret: SECRET, randomVector: RV, types: [AvpType.ProxyAuthenName] } },
  );
  const e = decodeErr(hidden);
  t.same([e.code, e.value, e.action], ["hidden-no-secret", AvpType.ProxyAuthenName, { kind: "cdn", resultCode: 2, errorCode: 3 }]);
  // In an SCCRQ: StopCCN result 4, not authorized (RFC 2661 4.4.2).
  const sccrq: L2tpAvpMessageInit = {
    messageType: L2tpMessageType.SCCRQ,
    tunnelId: 0,
    sessionId: 0,
    ns: 0,
    nr: 0,
    avps: {
      [AvpType.ProtocolVersion]: { version: 1, revision: 0 },
      [AvpType.HostName]: "lac",
      [AvpType.FramingCapabilities]: 3,
      [AvpType.AssignedTunnelId]: 9,
    },
  };
  const s = decodeErr(encodeControlMessage(sccrq, { hide: { secret: SECRET, randomVector: RV, types: [AvpType.AssignedTunnelId] } }));
  t.same([s.code, s.action], ["hidden-no-secret", { kind: "stopccn", resultCode: 4 }]);

  // Hand-built: Message Type, then a hidden AVP with no Random Vector before it (RFC 2661 4.3).
  const mt = encodeRawAvp({ vendorId: 0, attributeType: 0, mandatory: true, hidden: false, value: Buffer.from([0, L2tpMessageType.ICCN]) });
  const h = encodeRawAvp({ vendorId: 0, attributeType: AvpType.ProxyAuthenName, mandatory: false, hidden: true, value: hideAvpValue(30, Buffer.from("x"), SECRET, RV) });
  const rv = encodeRawAvp({ vendorId: 0, attributeType: AvpType.RandomVector, mandatory: true, hidden: false, value: RV });
  const build = (avps: Buffer[]): Buffer => {
    const head = Buffer.from("c80200000001001400000000", "hex");
    const b = Buffer.concat([head, ...avps]);
    b.writeUInt16BE(b.length, 2);
    return b;
  };
  const n = decodeErr(build([mt, h, rv]), { secret: SECRET });
  t.same([n.code, n.value], ["missing-avp", AvpType.RandomVector]);
  // Hidden Random Vector: MUST NOT be hidden.
  const hrv = encodeRawAvp({ vendorId: 0, attributeType: AvpType.RandomVector, mandatory: true, hidden: true, value: RV });
  t.equal(decodeErr(build([mt, hrv]), { secret: SECRET }).code, "bad-value");
  // A hidden vendor AVP without M is kept opaque even without a secret.
  const vendor = encodeRawAvp({ vendorId: 9, attributeType: 1, mandatory: false, hidden: true, value: Buffer.from([1, 2, 3]) });
  const ok = decodeControlMessage(build([mt, encodeRawAvp({ vendorId: 0, attributeType: 24, mandatory: true, hidden: false, value: Buffer.from([0, 0, 1, 0]) }), encodeRawAvp({ vendorId: 0, attributeType: 19, mandatory: true, hidden: false, value: Buffer.from([0, 0, 0, 1]) }), vendor]));
  t.same(ok.ok && ok.value.messageType !== "ZLB" && ok.value.unknown, [{ vendorId: 9, attributeType: 1, mandatory: false, hidden: true, value: Buffer.from([1, 2, 3]) }]);
  t.end();
});

void t.test("each hidden AVP uses the Random Vector most closely preceding it (RFC 2661 4.3)", (t) => {
  const rv2 = Buffer.from("ffeeddccbbaa", "hex");
  const mt = encodeRawAvp({ vendorId: 0, attributeType: 0, mandatory: true, hidden: false, value: Buffer.from([0, L2tpMessageType.ICCN]) });
  const avp = (type: number, value: Buffer, hidden = false): Buffer => encodeRawAvp({ vendorId: 0, attributeType: type, mandatory: type === AvpType.RandomVector, hidden, value });
  const parts = [
    mt,
    avp(AvpType.RandomVector, RV),
    avp(AvpType.ProxyAuthenName, referenceHide(30, Buffer.from("erin"), SECRET, RV, Buffer.alloc(0)), true),
    avp(AvpType.RandomVector, rv2),
    avp(AvpType.ProxyAuthenResponse, referenceHide(33, pattern(33, 5), SECRET, rv2, Buffer.alloc(3)), true),
    avp(AvpType.TxConnectSpeed, Buffer.from([0, 1, 0, 0])),
    avp(AvpType.FramingType, Buffer.from([0, 0, 0, 2])),
  ];
  const msg = Buffer.concat([Buffer.from("c80200000001001400000000", "hex"), ...parts]);
  msg.writeUInt16BE(msg.length, 2);
  const d = decodeControlMessage(msg, { secret: SECRET });
  t.ok(d.ok, d.ok ? "decodes" : d.error.reason);
  if (d.ok) {
    t.equal(getAvp(d.value, AvpType.ProxyAuthenName), "erin");
    t.same(getAvp(d.value, AvpType.ProxyAuthenResponse), pattern(33, 5));
    t.same(getAvp(d.value, AvpType.RandomVector), RV, "the map keeps the first Random Vector");
  }
  t.end();
});
