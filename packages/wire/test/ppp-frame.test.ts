// PPP frame header: FF 03 present or compressed (ACFC), one- or two-octet Protocol (PFC), invalid
// protocol numbers, and the allocation-free helpers agreeing with the decoder.
import t from "tap";
import {
  PppProtocol,
  decodePppFrame,
  encodePppFrame,
  isValidPppProtocol,
  pppHeaderLength,
  pppHeaderSize,
  pppProtocolAt,
  pppProtocolName,
  writePppHeader,
} from "../src/index.js";
import { pppSamples } from "./lib/ppp-samples.js";
import { failure, hex, unwrap } from "./lib/util.js";



void t.test("full header FF 03 and two-octet protocol", (t) => {
  const buf = hex("ff03 c021 0901 0008 5a3c91e7");
  const f = unwrap(decodePppFrame(buf));
  t.equal(f.protocol, PppProtocol.LCP);
  t.equal(f.offset, 4);
  t.equal(f.addressControl, true);
  t.equal(f.protocolCompressed, false);
  t.equal(Buffer.from(f.info).toString("hex"), "090100085a3c91e7");
  // A view, not a copy.
  t.equal(f.info.buffer, buf.buffer);
  t.equal(f.info.byteOffset, buf.byteOffset + 4);
  t.end();
});

void t.test("ACFC: no address and control (RFC 1661 6.6)", (t) => {
  const f = unwrap(decodePppFrame(hex("8021 0101 0004")));
  t.equal(f.protocol, PppProtocol.IPCP);
  t.equal(f.offset, 2);
  t.equal(f.addressControl, false);
  t.equal(f.protocolCompressed, false);
  t.end();
});

void t.test("PFC: one-octet protocol (RFC 1661 6.5)", (t) => {
  const withAc = unwrap(decodePppFrame(hex("ff03 21 4500")));
  t.equal(withAc.protocol, PppProtocol.IPv4);
  t.equal(withAc.offset, 3);
  t.equal(withAc.protocolCompressed, true);
  t.equal(withAc.addressControl, true);
  const bare = unwrap(decodePppFrame(hex("57 6000")));
  t.equal(bare.protocol, PppProtocol.IPv6);
  t.equal(bare.offset, 1);
  t.equal(bare.protocolCompressed, true);
  t.equal(bare.addressControl, false);
  // An uncompressed 0x0021 is the same protocol.
  t.equal(unwrap(decodePppFrame(hex("ff03 0021 45"))).protocol, PppProtocol.IPv4);
  t.end();
});

void t.test("empty information field is a valid frame", (t) => {
  const f = unwrap(decodePppFrame(hex("ff03 c021")));
  t.equal(f.info.length, 0);
  t.end();
});

void t.test("truncated and bad headers are dropped", (t) => {
  for (const h of ["", "ff", "ff03", "ff03c0", "c0", "ff0380"]) {
    const e = failure(decodePppFrame(hex(h)));
    t.equal(e.code, "truncated", h);
    t.equal(e.action.kind, "drop", h);
  }
  const bad = failure(decodePppFrame(hex("ff05 c021")));
  t.equal(bad.code, "bad-header");
  t.equal(bad.action.kind, "drop");
  t.end();
});

void t.test("invalid protocol numbers are protocol-rejected (RFC 1661 2)", (t) => {
  for (const [h, protocol] of [
    ["ff03 c022 01", 0xc022],
    ["ff03 0020 00", 0x0020],
    ["0000", 0x0000],
  ] as const) {
    const e = failure(decodePppFrame(hex(h)));
    t.equal(e.code, "bad-value", h);
    t.same(e.action, { kind: "protocol-reject", protocol }, h);
    t.equal(e.value, protocol, h);
  }
  t.notOk(isValidPppProtocol(0x0101));
  t.ok(isValidPppProtocol(0x80fd));
  t.end();
});

void t.test("encoder: ACFC and PFC options, never on LCP", (t) => {
  const info = hex("4500");
  t.equal(encodePppFrame(PppProtocol.IPv4, info).toString("hex"), "ff0300214500");
  t.equal(encodePppFrame(PppProtocol.IPv4, info, { compressProtocol: true }).toString("hex"), "ff03214500");
  t.equal(encodePppFrame(PppProtocol.IPv4, info, { addressControl: false, compressProtocol: true }).toString("hex"), "214500");
  t.equal(encodePppFrame(PppProtocol.IPCP, info, { addressControl: false, compressProtocol: true }).toString("hex"), "80214500");
  // RFC 1661 6.5, 6.6: LCP always goes out with FF 03 and the full protocol.
  t.equal(encodePppFrame(PppProtocol.LCP, info, { addressControl: false, compressProtocol: true }).toString("hex"), "ff03c0214500");
  t.equal(pppHeaderSize(PppProtocol.IPv6, { addressControl: false, compressProtocol: true }), 1);
  const out = Buffer.alloc(8);
  t.equal(writePppHeader(out, 2, PppProtocol.IPV6CP), 4);
  t.equal(out.toString("hex"), "0000ff0380570000");
  t.end();
});

void t.test("round trip over every flag combination", (t) => {
  const protocols = [PppProtocol.IPv4, PppProtocol.IPv6, PppProtocol.LCP, PppProtocol.PAP, PppProtocol.CHAP, PppProtocol.IPCP, PppProtocol.CCP];
  for (const protocol of protocols) {
    for (const addressControl of [true, false]) {
      for (const compressProtocol of [true, false]) {
        const info = hex("01020304");
        const bytes = encodePppFrame(protocol, info, { addressControl, compressProtocol });
        const f = unwrap(decodePppFrame(bytes));
        const what = `${pppProtocolName(protocol)} ac=${addressControl} pfc=${compressProtocol}`;
        t.equal(f.protocol, protocol, what);
        t.equal(Buffer.from(f.info).toString("hex"), "01020304", what);
        t.equal(f.offset, pppHeaderSize(protocol, { addressControl, compressProtocol }), what);
        t.equal(pppHeaderLength(bytes), f.offset, what);
        t.equal(pppProtocolAt(bytes), protocol, what);
      }
    }
  }
  t.end();
});

void t.test("samples decode with the protocol they claim", (t) => {
  for (const s of pppSamples()) {
    const f = unwrap(decodePppFrame(s.bytes));
    t.equal(f.protocol, s.protocol, s.name);
    t.equal(f.addressControl, true, s.name);
    if (s.code !== undefined) t.equal(f.info[0], s.code, s.name);
  }
  t.end();
});

void t.test("hot-path helpers agree with the decoder on arbitrary input", (t) => {
  let seed = 12345;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  const starts = [0xff, 0x03, 0x21, 0x57, 0xc0, 0x80, 0x00, 0x01];
  for (let i = 0; i < 20000; i++) {
    const len = rand() % 6;
    const b = Buffer.alloc(len);
    for (let j = 0; j < len; j++) b[j] = rand() % 3 === 0 ? rand() & 0xff : (starts[rand() % starts.length] ?? 0);
    // Pad after `len` so the helpers must honour `end`.
    const padded = Buffer.concat([b, hex("ff03c021")]);
    const r = decodePppFrame(b);
    const hl = pppHeaderLength(padded, 0, len);
    const proto = pppProtocolAt(padded, 0, len);
    if (r.ok) {
      if (hl !== r.value.offset || proto !== r.value.protocol) t.fail(`disagree on ${b.toString("hex")}`);
    } else if (hl !== -1 || proto !== -1) {
      t.fail(`helpers accept ${b.toString("hex")} that the decoder rejects`);
    }
  }
  t.pass("agreed");
  t.end();
});
