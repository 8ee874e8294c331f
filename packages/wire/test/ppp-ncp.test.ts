// IPCP (RFC 1332, RFC 1877), IPV6CP (RFC 5072) and CCP (RFC 1962) over the shared packet codec:
// every Code and option round-trips, unknown options stay raw, LCP-only Codes get code-reject.
import t from "tap";
import {
  PppCode,
  PppProtocol,
  type CcpPacket,
  type IpcpOption,
  type IpcpPacket,
  type Ipv6cpPacket,
  decodeCcp,
  decodeIpcp,
  decodeIpv6cp,
  decodePppFrame,
  encodeCcp,
  encodeIpcp,
  encodeIpv6cp,
  formatIpv4,
  parseIpv4,
} from "../src/index.js";
import { pppSamples } from "./lib/ppp-samples.js";
import { failure, hex, unwrap } from "./lib/util.js";
import type { Result, WireError } from "../src/index.js";



function v4(s: string): number {
  const a = parseIpv4(s);
  if (a === undefined) throw new Error(s);
  return a;
}

const NCP_CODES = [1, 2, 3, 4, 5, 6, 7];

void t.test("samples of every NCP round-trip and cover Codes 1-7", (t) => {
  const codecs = new Map<number, (b: Uint8Array) => Buffer | undefined>([
    [PppProtocol.IPCP, (b) => { const r = decodeIpcp(b); return r.ok ? encodeIpcp(r.value) : undefined; }],
    [PppProtocol.IPV6CP, (b) => { const r = decodeIpv6cp(b); return r.ok ? encodeIpv6cp(r.value) : undefined; }],
    [PppProtocol.CCP, (b) => { const r = decodeCcp(b); return r.ok ? encodeCcp(r.value) : undefined; }],
  ]);
  const seen = new Map<number, Set<number>>();
  for (const s of pppSamples()) {
    const codec = codecs.get(s.protocol);
    if (codec === undefined) continue;
    const info = unwrap(decodePppFrame(s.bytes)).info;
    t.equal(codec(info)?.toString("hex"), Buffer.from(info).toString("hex"), s.name);
    const codes = seen.get(s.protocol) ?? new Set<number>();
    codes.add(info[0] ?? 0);
    seen.set(s.protocol, codes);
  }
  t.same([...(seen.get(PppProtocol.IPCP) ?? [])].sort(), NCP_CODES);
  t.same([...(seen.get(PppProtocol.IPV6CP) ?? [])].sort(), NCP_CODES);
  t.end();
});

void t.test("IPCP known answer: a peer asking for address and DNS (RFC 1877)", (t) => {
  const bytes = hex("01 01 0016  03 06 00000000  81 06 00000000  83 06 00000000");
  const p = unwrap(decodeIpcp(bytes));
  t.same(p, {
    kind: "ConfReq",
    identifier: 1,
    options: [
      { name: "ipAddress", value: 0 },
      { name: "primaryDns", value: 0 },
      { name: "secondaryDns", value: 0 },
    ],
  });
  const nak: IpcpPacket = {
    kind: "ConfNak",
    identifier: 1,
    options: [
      { name: "ipAddress", value: v4("100.64.1.2") },
      { name: "primaryDns", value: v4("192.0.2.53") },
      { name: "secondaryDns", value: v4("198.51.100.53") },
    ],
  };
  t.equal(encodeIpcp(nak).toString("hex"), "03010016" + "030664400102" + "8106c0000235" + "8306c6336435");
  t.end();
});

void t.test("every IPCP option round-trips", (t) => {
  const cases: { option: IpcpOption; hex: string }[] = [
    { option: { name: "ipAddresses", value: hex("0a000002 0a000001") }, hex: "010a0a0000020a000001" },
    { option: { name: "ipCompressionProtocol", value: hex("002d 0f 01") }, hex: "0206002d0f01" },
    { option: { name: "ipAddress", value: v4("203.0.113.9") }, hex: "0306cb007109" },
    { option: { name: "primaryDns", value: v4("8.8.8.8") }, hex: "810608080808" },
    { option: { name: "primaryNbns", value: v4("10.0.0.1") }, hex: "82060a000001" },
    { option: { name: "secondaryDns", value: v4("1.1.1.1") }, hex: "830601010101" },
    { option: { name: "secondaryNbns", value: v4("10.0.0.2") }, hex: "84060a000002" },
    { option: { name: "unknown", type: 0x90, data: hex("abcd") }, hex: "9004abcd" },
  ];
  for (const c of cases) {
    for (const kind of ["ConfReq", "ConfAck", "ConfNak", "ConfRej"] as const) {
      const p: IpcpPacket = { kind, identifier: 3, options: [c.option] };
      const bytes = encodeIpcp(p);
      t.equal(bytes.subarray(4).toString("hex"), c.hex, `${kind} ${c.option.name}`);
      t.same(unwrap(decodeIpcp(bytes)), p, `${kind} ${c.option.name}`);
    }
  }
  t.equal(formatIpv4(v4("203.0.113.9")), "203.0.113.9");
  // Signed int32 addresses (from bit operations) encode as the same 32 bits.
  t.equal(encodeIpcp({ kind: "ConfReq", identifier: 1, options: [{ name: "ipAddress", value: (203 << 24) | 9 }] }).toString("hex"), "0101000a0306cb000009");
  t.end();
});

void t.test("IPCP Terminate and Code-Reject round-trip", (t) => {
  const packets: IpcpPacket[] = [
    { kind: "TermReq", identifier: 1, data: Buffer.from("bye") },
    { kind: "TermAck", identifier: 1, data: Buffer.alloc(0) },
    { kind: "CodeRej", identifier: 2, rejected: hex("09 01 0008 01020304") },
  ];
  for (const p of packets) t.same(unwrap(decodeIpcp(encodeIpcp(p))), p, p.kind);
  t.end();
});

void t.test("IPCP unknown and kept-raw options echo in a Configure-Reject byte for byte", (t) => {
  const req = hex("01 04 001b  0206002d0f01  0306 00000000  9005 aabbcc  82060a000001");
  const p = unwrap(decodeIpcp(req));
  const options = p.kind === "ConfReq" ? p.options : [];
  const reject = options.filter((o) => o.name !== "ipAddress");
  const rej = encodeIpcp({ kind: "ConfRej", identifier: p.identifier, options: reject });
  t.equal(rej.toString("hex"), "04040015" + "0206002d0f01" + "9005aabbcc" + "82060a000001");
  t.end();
});

void t.test("IPCP options of the wrong length are typed errors", (t) => {
  for (const [what, opt] of [
    ["IP-Address Length 4", "03040000"],
    ["IP-Address Length 7", "030700000000 00"],
    ["Primary-DNS Length 5", "8105000000"],
    ["Secondary-NBNS Length 2", "8402"],
    ["IP-Addresses Length 6", "0106 00000000"],
    ["IP-Compression-Protocol Length 3", "020300"],
  ] as const) {
    const o = hex(opt);
    const e = failure(decodeIpcp(Buffer.concat([hex("0101"), Buffer.from([0, 4 + o.length]), o])));
    t.equal(e.code, "bad-length", what);
    t.equal(e.action.kind, "drop", what);
  }
  t.end();
});

void t.test("LCP-only and unknown Codes are code-rejected in every NCP (RFC 1332 2, RFC 5072 2)", (t) => {
  const decoders: [string, (b: Uint8Array) => Result<unknown, WireError>][] = [
    ["IPCP", decodeIpcp],
    ["IPV6CP", decodeIpv6cp],
  ];
  for (const [name, decode] of decoders) {
    for (const code of [0, 8, 9, 10, 11, 12, 14, 15, 255]) {
      const e = failure(decode(Buffer.from([code, 1, 0, 8, 0, 0, 0, 0])));
      t.equal(e.code, "unknown-code", `${name} ${code}`);
      t.same(e.action, { kind: "code-reject" }, `${name} ${code}`);
      t.equal(e.value, code);
    }
  }
  for (const code of [0, 8, 9, 10, 11, 12, 13, 16, 255]) {
    t.same(failure(decodeCcp(Buffer.from([code, 1, 0, 8, 0, 0, 0, 0]))).action, { kind: "code-reject" }, `CCP ${code}`);
  }
  t.end();
});

void t.test("IPV6CP options", (t) => {
  const packets: Ipv6cpPacket[] = [
    { kind: "ConfReq", identifier: 1, options: [{ name: "interfaceIdentifier", value: hex("021122fffe334455") }] },
    { kind: "ConfNak", identifier: 1, options: [{ name: "interfaceIdentifier", value: hex("a1b2c3d4e5f60718") }] },
    { kind: "ConfRej", identifier: 2, options: [{ name: "ipv6CompressionProtocol", value: hex("004f00020000") }] },
    { kind: "ConfReq", identifier: 3, options: [{ name: "unknown", type: 3, data: hex("00") }] },
    { kind: "TermReq", identifier: 4, data: Buffer.alloc(0) },
    { kind: "CodeRej", identifier: 5, rejected: hex("0c01") },
  ];
  for (const p of packets) t.same(unwrap(decodeIpv6cp(encodeIpv6cp(p))), p, p.kind);
  t.equal(encodeIpv6cp(packets[0] ?? { kind: "TermAck", identifier: 0, data: Buffer.alloc(0) }).toString("hex"), "0101000e010a021122fffe334455");
  for (const opt of ["0109 0011 22ff fe33 44", "010b 0011 22ff fe33 4455 66", "0203 00"]) {
    const o = hex(opt);
    t.equal(failure(decodeIpv6cp(Buffer.concat([hex("0101"), Buffer.from([0, 4 + o.length]), o]))).code, "bad-length", opt);
  }
  t.end();
});

void t.test("CCP: options kept raw, rejected byte for byte; Reset-Request/Ack", (t) => {
  const req = hex("01 01 0013  1206 01000060  1a04 7800  1503 2f  0002");
  // MPPE (18), Deflate (26), BSD-Compress (21) and an empty type 0 option: Length 19.
  const p = unwrap(decodeCcp(req));
  const options = p.kind === "ConfReq" ? p.options : [];
  t.same(
    options.map((o) => [o.type, Buffer.from(o.data).toString("hex")]),
    [
      [18, "01000060"],
      [26, "7800"],
      [21, "2f"],
      [0, ""],
    ],
  );
  const rej = encodeCcp({ kind: "ConfRej", identifier: p.identifier, options });
  t.equal(rej.subarray(4).toString("hex"), req.subarray(4).toString("hex"));
  t.equal(rej[0], PppCode.ConfRej);
  const resets: CcpPacket[] = [
    { kind: "ResetReq", identifier: 9, data: hex("0102") },
    { kind: "ResetAck", identifier: 9, data: Buffer.alloc(0) },
  ];
  for (const r of resets) {
    const bytes = encodeCcp(r);
    t.equal(bytes[0], PppCode[r.kind]);
    t.same(unwrap(decodeCcp(bytes)), r, r.kind);
  }
  // A CCP option with Length 1 makes the request malformed.
  t.equal(failure(decodeCcp(hex("01 01 0007 1201 00"))).code, "bad-length");
  t.end();
});
