// PAP (RFC 1334 2.2) and CHAP (RFC 1994 4): round trips, known answers, lying lengths.
import { createHash } from "node:crypto";
import t from "tap";
import {
  ChapCode,
  PapCode,
  PppProtocol,
  type ChapPacket,
  type PapPacket,
  decodeChap,
  decodePap,
  decodePppFrame,
  encodeChap,
  encodePap,
} from "../src/index.js";
import { pppSamples } from "./lib/ppp-samples.js";
import { failure, hex, unwrap } from "./lib/util.js";

const str = (b: Uint8Array): string => Buffer.from(b).toString("latin1");


void t.test("PAP known answer: Authenticate-Request", (t) => {
  // Code 1, Id 7, Length 15: Peer-ID "bob" and Password "hunter".
  const bytes = hex("01 07 000f 03 626f62 06 68756e746572");
  const p = unwrap(decodePap(bytes));
  t.ok(p.kind === "AuthReq" && str(p.peerId) === "bob" && str(p.password) === "hunter");
  t.equal(p.identifier, 7);
  t.equal(encodePap(p).toString("hex"), bytes.toString("hex"));
  t.end();
});

void t.test("PAP round trips every Code", (t) => {
  const packets: PapPacket[] = [
    { kind: "AuthReq", identifier: 1, peerId: Buffer.from("alice@isp.example"), password: Buffer.from("s3cret") },
    { kind: "AuthReq", identifier: 2, peerId: Buffer.alloc(0), password: Buffer.alloc(0) },
    { kind: "AuthReq", identifier: 3, peerId: Buffer.alloc(255, 0x61), password: Buffer.alloc(255, 0x62) },
    { kind: "AuthAck", identifier: 1, message: Buffer.from("Login ok") },
    { kind: "AuthAck", identifier: 1, message: Buffer.alloc(0) },
    { kind: "AuthNak", identifier: 2, message: Buffer.from("Authentication failed") },
  ];
  for (const p of packets) {
    const bytes = encodePap(p);
    t.equal(bytes[0], PapCode[p.kind]);
    t.equal(bytes.readUInt16BE(2), bytes.length);
    t.same(unwrap(decodePap(bytes)), p, p.kind);
  }
  for (const s of pppSamples().filter((x) => x.protocol === PppProtocol.PAP)) {
    const info = unwrap(decodePppFrame(s.bytes)).info;
    t.equal(encodePap(unwrap(decodePap(info))).toString("hex"), Buffer.from(info).toString("hex"), s.name);
  }
  t.throws(() => encodePap({ kind: "AuthReq", identifier: 1, peerId: Buffer.alloc(256), password: Buffer.alloc(0) }), RangeError);
  t.end();
});

void t.test("PAP Ack without Msg-Length is accepted with an empty message", (t) => {
  const p = unwrap(decodePap(hex("02 01 0004")));
  t.ok(p.kind === "AuthAck" && p.message.length === 0);
  t.end();
});

void t.test("PAP padding past Length is ignored", (t) => {
  const p = unwrap(decodePap(hex("03 01 0007 02 6e6f 000000")));
  t.ok(p.kind === "AuthNak" && str(p.message) === "no");
  t.end();
});

void t.test("PAP lying lengths", (t) => {
  const cases: [string, string, string][] = [
    ["Length past the octets", "01 01 0010 03 626f62 02 7878", "bad-length"],
    ["Length below the header", "01 01 0002 00 00", "bad-length"],
    ["no Peer-ID Length", "01 01 0004", "truncated"],
    ["Peer-ID past the packet", "01 01 0008 05 626f62 00", "bad-length"],
    ["Peer-ID reaching into padding", "01 01 0007 03 626f62 00 00", "bad-length"],
    ["no Passwd-Length", "01 01 0008 03 626f62", "bad-length"],
    ["Password past the packet", "01 01 000a 03 626f62 04 7878", "bad-length"],
    ["Msg-Length past the packet", "02 01 0007 05 6f6b21", "bad-length"],
    ["Msg-Length past Length into padding", "02 01 0006 03 6f6b 21", "bad-length"],
    ["short header", "01 01 00", "truncated"],
  ];
  for (const [what, h, code] of cases) {
    const e = failure(decodePap(hex(h)));
    t.equal(e.code, code, what);
    t.equal(e.action.kind, "drop", what);
  }
  t.end();
});

void t.test("PAP unknown Code is dropped (no Code-Reject in RFC 1334)", (t) => {
  for (const code of [0, 4, 255]) {
    const e = failure(decodePap(Buffer.from([code, 1, 0, 4])));
    t.equal(e.code, "unknown-code");
    t.equal(e.action.kind, "drop");
    t.equal(e.value, code);
  }
  t.end();
});

void t.test("CHAP known answer and an MD5 response per RFC 1994 2.3", (t) => {
  // Challenge: Id 0x2a, Value-Size 4, Value 01020304, Name "lns".
  const challenge = hex("01 2a 000c 04 01020304 6c6e73");
  const c = unwrap(decodeChap(challenge));
  t.ok(c.kind === "Challenge" && Buffer.from(c.value).toString("hex") === "01020304" && str(c.name) === "lns");
  t.equal(encodeChap(c).toString("hex"), challenge.toString("hex"));
  if (c.kind !== "Challenge") return;
  const value = createHash("md5").update(Buffer.from([c.identifier])).update("secret").update(c.value).digest();
  const response = encodeChap({ kind: "Response", identifier: c.identifier, value, name: Buffer.from("bob") });
  t.equal(response.toString("hex"), `022a0018 10${value.toString("hex")}626f62`.replace(/ /g, ""));
  const r = unwrap(decodeChap(response));
  t.ok(r.kind === "Response" && Buffer.from(r.value).equals(value) && str(r.name) === "bob");
  t.end();
});

void t.test("CHAP round trips every Code", (t) => {
  const packets: ChapPacket[] = [
    { kind: "Challenge", identifier: 1, value: Buffer.alloc(16, 7), name: Buffer.from("lnsd") },
    { kind: "Response", identifier: 1, value: Buffer.alloc(16, 9), name: Buffer.from("alice") },
    { kind: "Response", identifier: 2, value: Buffer.alloc(0), name: Buffer.alloc(0) },
    { kind: "Success", identifier: 1, message: Buffer.from("Welcome") },
    { kind: "Success", identifier: 1, message: Buffer.alloc(0) },
    { kind: "Failure", identifier: 1, message: Buffer.from("E=691 R=0") },
  ];
  for (const p of packets) {
    const bytes = encodeChap(p);
    t.equal(bytes[0], ChapCode[p.kind]);
    t.same(unwrap(decodeChap(bytes)), p, p.kind);
  }
  for (const s of pppSamples().filter((x) => x.protocol === PppProtocol.CHAP)) {
    const info = unwrap(decodePppFrame(s.bytes)).info;
    t.equal(encodeChap(unwrap(decodeChap(info))).toString("hex"), Buffer.from(info).toString("hex"), s.name);
  }
  t.end();
});

void t.test("CHAP padding past Length is ignored: Name and Message stop at Length", (t) => {
  const r = unwrap(decodeChap(hex("02 01 0009 01 aa 626f62 ffff")));
  t.ok(r.kind === "Response" && str(r.name) === "bob");
  const s = unwrap(decodeChap(hex("03 01 0006 6f6b 2121")));
  t.ok(s.kind === "Success" && str(s.message) === "ok");
  t.end();
});

void t.test("CHAP lying lengths and unknown Codes", (t) => {
  const cases: [string, string, string][] = [
    ["Length past the octets", "01 01 0020 04 01020304", "bad-length"],
    ["no Value-Size", "01 01 0004", "truncated"],
    ["Value past the packet", "01 01 0008 10 01020304", "bad-length"],
    ["Value past Length into padding", "02 01 0006 02 aa bb", "bad-length"],
  ];
  for (const [what, h, code] of cases) {
    const e = failure(decodeChap(hex(h)));
    t.equal(e.code, code, what);
    t.equal(e.action.kind, "drop", what);
  }
  for (const code of [0, 5, 255]) {
    const e = failure(decodeChap(Buffer.from([code, 1, 0, 4])));
    t.equal(e.code, "unknown-code");
    t.equal(e.action.kind, "drop");
  }
  t.end();
});
