// L2TPv2 header (RFC 2661 3.1): every data flag combination round trips, control header rules,
// bad versions, truncation, lying Length fields, offset padding, in-place encoding.
import t from "tap";
import {
  L2TP_CONTROL_HEADER_LENGTH,
  decodeL2tpHeader,
  encodeControlMessage,
  encodeL2tpDataHeader,
  encodeL2tpDataMessage,
  l2tpDataHeaderLength,
  writeL2tpDataHeader,
  type L2tpDataHeaderInit,
  type L2tpHeader,
} from "../src/index.js";

const PAYLOAD = Buffer.from("ff03c021010100080104 05d4".replace(/\s/g, ""), "hex");

function decodeOk(buf: Uint8Array): L2tpHeader {
  const r = decodeL2tpHeader(buf);
  if (!r.ok) throw new Error(`decode failed: ${r.error.reason}`);
  return r.value;
}

function decodeErr(buf: Uint8Array): { code: string; kind: string; value?: number } {
  const r = decodeL2tpHeader(buf);
  if (r.ok) return { code: "ok", kind: "none" };
  return r.error.value === undefined ? { code: r.error.code, kind: r.error.action.kind } : { code: r.error.code, kind: r.error.action.kind, value: r.error.value };
}

void t.test("data header: every combination of L, S, O, P round trips", (t) => {
  for (let bits = 0; bits < 16; bits++) {
    for (const offsetSize of [0, 3]) {
      if ((bits & 4) === 0 && offsetSize !== 0) continue;
      const h: L2tpDataHeaderInit = {
        tunnelId: 0xbeef,
        sessionId: 0x0102,
        withLength: (bits & 1) !== 0,
        ...((bits & 2) !== 0 ? { ns: 0xfffe } : {}),
        ...((bits & 4) !== 0 ? { offsetSize } : {}),
        priority: (bits & 8) !== 0,
      };
      const msg = encodeL2tpDataMessage(h, PAYLOAD);
      const name = `L=${h.withLength} S=${h.ns !== undefined} O=${h.offsetSize !== undefined}/${offsetSize} P=${h.priority}`;
      const d = decodeOk(msg);
      if (d.kind !== "data") {
        t.fail(`${name}: not decoded as data`);
        continue;
      }
      t.equal(d.payloadOffset, l2tpDataHeaderLength(h), `${name}: payload offset`);
      t.equal(d.payloadLength, PAYLOAD.length, `${name}: payload length`);
      t.same(msg.subarray(d.payloadOffset, d.payloadOffset + d.payloadLength), PAYLOAD, `${name}: payload`);
      t.equal(d.tunnelId, 0xbeef);
      t.equal(d.sessionId, 0x0102);
      t.equal(d.withLength, h.withLength);
      t.equal(d.ns, h.ns);
      t.equal(d.offsetSize, h.offsetSize);
      t.equal(d.priority, h.priority);
      // Re-encoding the decoded header gives the same bytes.
      t.same(encodeL2tpDataMessage(d, PAYLOAD), msg, `${name}: re-encode`);
    }
  }
  t.end();
});

void t.test("data header wire layout (RFC 2661 3.1)", (t) => {
  const h = encodeL2tpDataHeader({ tunnelId: 0x0a0b, sessionId: 0x0c0d, withLength: true, ns: 5, offsetSize: 2, priority: true }, 10);
  // T=0 L=1 S=1 O=1 P=1 Ver=2 -> 0x4b02; Length = 2+2+2+2+4+2+2 = 16 header + 10; Nr written 0.
  t.equal(h.toString("hex"), "4b02" + "001a" + "0a0b" + "0c0d" + "0005" + "0000" + "0002" + "0000");
  t.end();
});

void t.test("control header: T=1 L=1 S=1 O=0, Ns/Nr and Length", (t) => {
  const zlb = encodeControlMessage({ messageType: "ZLB", tunnelId: 7, sessionId: 9, ns: 0x1234, nr: 0xffff });
  t.equal(zlb.toString("hex"), "c802000c000700091234ffff");
  const d = decodeOk(zlb);
  t.same(d, { kind: "control", tunnelId: 7, sessionId: 9, ns: 0x1234, nr: 0xffff, length: 12, payloadOffset: L2TP_CONTROL_HEADER_LENGTH, payloadLength: 0 });
  // RFC 2661 3.1: control messages with L=0, S=0 or O=1 are refused.
  for (const [flags, what] of [
    [0x8802, "L=0"],
    [0xc002, "S=0"],
    [0xca02, "O=1"],
  ] as const) {
    const b = Buffer.from(zlb);
    b.writeUInt16BE(flags, 0);
    t.same(decodeErr(b), { code: "bad-header", kind: "drop", value: flags }, what);
  }
  // P=1 on a control message is a sender error only; it is accepted.
  const p = Buffer.from(zlb);
  p.writeUInt16BE(0xc902, 0);
  t.equal(decodeOk(p).kind, "control", "P=1 accepted");
  t.end();
});

void t.test("versions other than 2 are bad-version (RFC 2661 3.1)", (t) => {
  for (const v of [0, 1, 3, 15]) {
    const b = Buffer.from("c802000c0001000000000000", "hex");
    b[1] = v;
    t.same(decodeErr(b), { code: "bad-version", kind: "drop", value: v }, `version ${v}`);
    const data = Buffer.from("0002000100020000", "hex");
    data[1] = v;
    t.same(decodeErr(data), { code: "bad-version", kind: "drop", value: v }, `data version ${v}`);
  }
  t.end();
});

void t.test("reserved bits are ignored on receive (RFC 2661 3.1)", (t) => {
  const msg = encodeL2tpDataMessage({ tunnelId: 1, sessionId: 2, ns: 3, withLength: true }, PAYLOAD);
  const before = decodeOk(msg);
  const b = Buffer.from(msg);
  b.writeUInt16BE(b.readUInt16BE(0) | 0x34f0, 0);
  t.same(decodeOk(b), before);
  // Nr is reserved in data messages: a non-zero Nr changes nothing.
  const n = Buffer.from(msg);
  n.writeUInt16BE(0xabcd, 10);
  t.same(decodeOk(n), before);
  t.end();
});

void t.test("truncated headers", (t) => {
  const variants: L2tpDataHeaderInit[] = [
    { tunnelId: 1, sessionId: 2 },
    { tunnelId: 1, sessionId: 2, withLength: true },
    { tunnelId: 1, sessionId: 2, ns: 1 },
    { tunnelId: 1, sessionId: 2, withLength: true, ns: 1, offsetSize: 0 },
  ];
  for (const h of variants) {
    const hdr = encodeL2tpDataHeader(h, 0);
    for (let n = 0; n < hdr.length; n++) {
      t.equal(decodeErr(hdr.subarray(0, n)).code, "truncated", `${JSON.stringify(h)} cut to ${n}`);
    }
  }
  const zlb = encodeControlMessage({ messageType: "ZLB", tunnelId: 1, sessionId: 0, ns: 0, nr: 0 });
  for (let n = 0; n < zlb.length; n++) t.equal(decodeErr(zlb.subarray(0, n)).code, "truncated", `ZLB cut to ${n}`);
  t.end();
});

void t.test("a Length field that lies", (t) => {
  const msg = encodeL2tpDataMessage({ tunnelId: 1, sessionId: 2, withLength: true }, PAYLOAD);
  // Bigger than the buffer: the packet was cut.
  t.same(decodeErr(msg.subarray(0, msg.length - 1)), { code: "bad-length", kind: "drop", value: msg.length });
  const big = Buffer.from(msg);
  big.writeUInt16BE(0xffff, 2);
  t.same(decodeErr(big), { code: "bad-length", kind: "drop", value: 0xffff });
  // Smaller than the header.
  for (const len of [0, 5, 7]) {
    const small = Buffer.from(msg);
    small.writeUInt16BE(len, 2);
    t.same(decodeErr(small), { code: "bad-length", kind: "drop", value: len }, `Length ${len}`);
  }
  // Equal to the header: an empty payload.
  const empty = Buffer.from(msg);
  empty.writeUInt16BE(8, 2);
  const e = decodeOk(empty);
  t.equal(e.payloadLength, 0);
  // Smaller than the buffer: trailing bytes (e.g. link padding) are ignored.
  const padded = Buffer.concat([msg, Buffer.alloc(5, 0xee)]);
  t.equal(decodeOk(padded).payloadLength, PAYLOAD.length);
  // Control messages: Length below 12 or past the buffer.
  const zlb = encodeControlMessage({ messageType: "ZLB", tunnelId: 1, sessionId: 0, ns: 0, nr: 0 });
  const c1 = Buffer.from(zlb);
  c1.writeUInt16BE(11, 2);
  t.same(decodeErr(c1), { code: "bad-length", kind: "drop", value: 11 });
  const c2 = Buffer.from(zlb);
  c2.writeUInt16BE(13, 2);
  t.same(decodeErr(c2), { code: "bad-length", kind: "drop", value: 13 });
  t.end();
});

void t.test("offset padding (RFC 2661 3.1)", (t) => {
  for (const offsetSize of [0, 1, 4, 31]) {
    const msg = encodeL2tpDataMessage({ tunnelId: 3, sessionId: 4, offsetSize }, PAYLOAD);
    const d = decodeOk(msg);
    t.equal(d.payloadOffset, 8 + offsetSize, `offset ${offsetSize}`);
    t.same(msg.subarray(d.payloadOffset), PAYLOAD);
    // Padding content is undefined: non-zero padding is accepted.
    if (offsetSize > 0) {
      const junk = Buffer.from(msg);
      junk.fill(0xaa, 8, 8 + offsetSize);
      t.same(decodeOk(junk), d);
    }
  }
  // Offset Size pointing past the end of the message.
  const msg = encodeL2tpDataMessage({ tunnelId: 3, sessionId: 4, withLength: true, offsetSize: 2 }, PAYLOAD);
  const lie = Buffer.from(msg);
  lie.writeUInt16BE(PAYLOAD.length + 3, 8);
  t.same(decodeErr(lie), { code: "bad-length", kind: "drop", value: PAYLOAD.length + 3 });
  // Exactly to the end: empty payload.
  const edge = Buffer.from(msg);
  edge.writeUInt16BE(PAYLOAD.length + 2, 8);
  t.equal(decodeOk(edge).payloadLength, 0);
  t.end();
});

void t.test("writeL2tpDataHeader prepends in place", (t) => {
  const h: L2tpDataHeaderInit = { tunnelId: 100, sessionId: 200, withLength: true, ns: 7 };
  const headroom = 32;
  const buf = Buffer.alloc(headroom + PAYLOAD.length, 0x55);
  PAYLOAD.copy(buf, headroom);
  const len = l2tpDataHeaderLength(h);
  const start = headroom - len;
  t.equal(writeL2tpDataHeader(buf, start, h, PAYLOAD.length), len);
  t.same(buf.subarray(0, start), Buffer.alloc(start, 0x55), "bytes before the header untouched");
  const view = buf.subarray(start);
  t.same(view, encodeL2tpDataMessage(h, PAYLOAD));
  const d = decodeOk(view);
  t.equal(d.payloadOffset, len);
  t.equal(d.payloadLength, PAYLOAD.length);
  // Works on a plain Uint8Array too.
  const u8 = new Uint8Array(len + PAYLOAD.length);
  writeL2tpDataHeader(u8, 0, h, PAYLOAD.length);
  u8.set(PAYLOAD, len);
  t.same(Buffer.from(u8), encodeL2tpDataMessage(h, PAYLOAD));
  t.throws(() => writeL2tpDataHeader(Buffer.alloc(len - 1), 0, h, 0), RangeError, "no room");
  t.throws(() => writeL2tpDataHeader(Buffer.alloc(64), 0, { tunnelId: 70000, sessionId: 1 }, 0), RangeError, "tunnel id range");
  t.throws(() => writeL2tpDataHeader(Buffer.alloc(64), 0, { tunnelId: 1, sessionId: 1, withLength: true }, 0xffff), RangeError, "Length overflow");
  t.end();
});
