// LCP (RFC 1661 5, 6): every Code and every option round-trips; unknown options stay byte for
// byte; lying lengths and wrong option lengths are typed errors; unknown Codes get code-reject.
import t from "tap";
import {
  ChapAlgorithm,
  PppCode,
  PppProtocol,
  type LcpOption,
  type LcpPacket,
  type UnknownOption,
  decodeLcp,
  decodePppFrame,
  encodeLcp,
  optionLabel,
  LCP,
  LCP_OPTIONS,
} from "../src/index.js";
import { LCP_CODES, pppSamples } from "./lib/ppp-samples.js";
import { failure, hex, unwrap } from "./lib/util.js";



/** Exhaustive over LcpPacket: fails to compile if a kind is added and not handled. */
function describe(p: LcpPacket): string {
  switch (p.kind) {
    case "ConfReq":
    case "ConfAck":
    case "ConfNak":
    case "ConfRej":
      return `${p.kind} ${p.options.length} options`;
    case "TermReq":
    case "TermAck":
      return `${p.kind} ${p.data.length}`;
    case "CodeRej":
      return `CodeRej ${p.rejected.length}`;
    case "ProtRej":
      return `ProtRej ${p.protocol}`;
    case "EchoReq":
    case "EchoReply":
    case "DiscardReq":
      return `${p.kind} ${p.magic}`;
    default: {
      const never: never = p;
      return never;
    }
  }
}

void t.test("known answer: a Configure-Request written by hand", (t) => {
  // Code 1, Id 1, Length 19: MRU 1458, Auth CHAP MD5, Magic 0x5a3c91e7.
  const bytes = hex("01 01 0013  01 04 05b2  03 05 c223 05  05 06 5a3c91e7");
  const p = unwrap(decodeLcp(bytes));
  t.equal(p.kind, "ConfReq");
  t.equal(p.identifier, 1);
  t.same(p, {
    kind: "ConfReq",
    identifier: 1,
    options: [
      { name: "mru", value: 1458 },
      { name: "authProtocol", value: { kind: "chap", algorithm: ChapAlgorithm.MD5 } },
      { name: "magicNumber", value: 0x5a3c91e7 },
    ],
  });
  t.equal(encodeLcp(p).toString("hex"), bytes.toString("hex"));
  t.end();
});

void t.test("every LCP Code round-trips", (t) => {
  const seen = new Set<number>();
  for (const s of pppSamples().filter((x) => x.protocol === PppProtocol.LCP)) {
    const info = unwrap(decodePppFrame(s.bytes)).info;
    const p = unwrap(decodeLcp(info));
    t.equal(PppCode[p.kind], s.code, s.name);
    t.equal(encodeLcp(p).toString("hex"), Buffer.from(info).toString("hex"), `${s.name}: ${describe(p)}`);
    seen.add(PppCode[p.kind]);
  }
  t.same([...seen].sort((a, b) => a - b), LCP_CODES);
  t.end();
});

void t.test("the samples carry every LCP option", (t) => {
  const names = new Set<string>();
  for (const s of pppSamples().filter((x) => x.protocol === PppProtocol.LCP)) {
    const p = unwrap(decodeLcp(unwrap(decodePppFrame(s.bytes)).info));
    if (p.kind === "ConfReq") for (const o of p.options) names.add(o.name);
  }
  // Quality-Protocol is left out of the samples (see ppp-samples.ts) and tested below.
  const expected = [...Object.keys(LCP_OPTIONS).filter((n) => n !== "qualityProtocol"), "unknown"];
  t.same([...names].sort(), expected.sort());
  t.end();
});

void t.test("Echo, Discard, Protocol-Reject and Code-Reject bodies", (t) => {
  const echo = unwrap(decodeLcp(hex("09 07 000c 1d2e3f40 abcd0102")));
  t.same(echo.kind === "EchoReq" && { magic: echo.magic, data: Buffer.from(echo.data).toString("hex") }, { magic: 0x1d2e3f40, data: "abcd0102" });
  const reply = unwrap(decodeLcp(hex("0a 07 0008 fffffffe")));
  t.ok(reply.kind === "EchoReply" && reply.magic === 0xfffffffe && reply.data.length === 0);
  const discard = unwrap(decodeLcp(hex("0b 01 0009 00000000 99")));
  t.ok(discard.kind === "DiscardReq" && discard.magic === 0 && discard.data[0] === 0x99);
  const protRej = unwrap(decodeLcp(hex("08 02 000e 80fd 0101 0008 1206 0100")));
  t.ok(protRej.kind === "ProtRej");
  if (protRej.kind === "ProtRej") {
    t.equal(protRej.protocol, PppProtocol.CCP);
    t.equal(Buffer.from(protRej.rejected).toString("hex"), "010100081206" + "0100");
  }
  const codeRej = unwrap(decodeLcp(hex("07 03 0008 0c050004")));
  t.ok(codeRej.kind === "CodeRej" && Buffer.from(codeRej.rejected).toString("hex") === "0c050004");
  t.end();
});

void t.test("every LCP option round-trips with its value", (t) => {
  const cases: { option: LcpOption; hex: string }[] = [
    { option: { name: "mru", value: 1500 }, hex: "010405dc" },
    { option: { name: "accm", value: 0x000a0000 }, hex: "0206000a0000" },
    { option: { name: "authProtocol", value: { kind: "pap" } }, hex: "0304c023" },
    { option: { name: "authProtocol", value: { kind: "chap", algorithm: 5 } }, hex: "0305c22305" },
    { option: { name: "authProtocol", value: { kind: "chap", algorithm: 0x81 } }, hex: "0305c22381" },
    { option: { name: "authProtocol", value: { kind: "other", protocol: PppProtocol.EAP, data: hex("") } }, hex: "0304c227" },
    { option: { name: "qualityProtocol", value: { protocol: PppProtocol.LQR, data: hex("000003e8") } }, hex: "0408c025000003e8" },
    { option: { name: "magicNumber", value: 0xdeadbeef }, hex: "0506deadbeef" },
    { option: { name: "pfc" }, hex: "0702" },
    { option: { name: "acfc" }, hex: "0802" },
    { option: { name: "mrru", value: 1614 }, hex: "1104064e" },
    { option: { name: "endpointDiscriminator", value: { class: 0, address: hex("") } }, hex: "130300" },
    { option: { name: "endpointDiscriminator", value: { class: 1, address: hex("6c6e7364") } }, hex: "1307016c6e7364" },
    { option: { name: "endpointDiscriminator", value: { class: 2, address: hex("c0000201") } }, hex: "130702c0000201" },
    { option: { name: "endpointDiscriminator", value: { class: 3, address: hex("02005e100001") } }, hex: "13090302005e100001" },
    { option: { name: "endpointDiscriminator", value: { class: 4, address: hex("0102030405060708") } }, hex: "130b040102030405060708" },
    { option: { name: "endpointDiscriminator", value: { class: 5, address: hex("3535353132") } }, hex: "1308053535353132" },
  ];
  for (const c of cases) {
    const packet: LcpPacket = { kind: "ConfReq", identifier: 9, options: [c.option] };
    const bytes = encodeLcp(packet);
    const label = optionLabel(LCP.optionCodec, c.option);
    t.equal(bytes.subarray(4).toString("hex"), c.hex, label);
    const back = unwrap(decodeLcp(bytes));
    t.same(back, packet, label);
  }
  t.end();
});

void t.test("unknown options are kept byte for byte and echo in a Configure-Reject", (t) => {
  // MRU, Callback (13, Length 3), an unknown 0x99 with odd data, Magic, SSNHF (18, Length 2).
  const req = hex("01 05 0019  010405dc  0d0306  9906 00ff7f80  050612345678  1202");
  const p = unwrap(decodeLcp(req));
  const options = p.kind === "ConfReq" ? p.options : [];
  const unknown = options.filter((o): o is UnknownOption => o.name === "unknown");
  t.same(
    unknown.map((o) => [o.type, Buffer.from(o.data).toString("hex")]),
    [
      [13, "06"],
      [0x99, "00ff7f80"],
      [18, ""],
    ],
  );
  t.equal(optionLabel(LCP.optionCodec, unknown[0] ?? { name: "unknown", type: 0, data: hex("") }), "unknown option 13");
  const rej = encodeLcp({ kind: "ConfRej", identifier: p.identifier, options: unknown });
  t.equal(rej.toString("hex"), "04 05 000f 0d0306 990600ff7f80 1202".replace(/ /g, ""));
  t.end();
});

void t.test("trailing padding beyond Length is ignored (RFC 1661 5)", (t) => {
  const p = unwrap(decodeLcp(hex("01 01 0008 01 04 05 dc  00 00 00 00 05 06")));
  t.same(p, { kind: "ConfReq", identifier: 1, options: [{ name: "mru", value: 1500 }] });
  const echo = unwrap(decodeLcp(hex("09 01 0008 01020304 eeee")));
  t.ok(echo.kind === "EchoReq" && echo.data.length === 0);
  t.end();
});

void t.test("lying lengths are bad-length and dropped", (t) => {
  const cases: [string, string][] = [
    ["Length past the received octets", "01 01 0009 010405dc"],
    ["Length below the header", "01 01 0003 010405dc"],
    ["Length zero", "09 01 0000 01020304"],
    ["option Length past the packet Length", "01 01 0008 0105 05dc 00 00"],
    ["option Length 1", "01 01 0008 0101 0000"],
    ["option Length 0", "01 01 0006 0100"],
    ["Echo without Magic-Number", "09 01 0006 0102"],
    ["Protocol-Reject without protocol", "08 01 0005 80"],
  ];
  for (const [what, h] of cases) {
    const e = failure(decodeLcp(hex(h)));
    t.equal(e.code, "bad-length", what);
    t.equal(e.action.kind, "drop", what);
  }
  for (const h of ["", "01", "010100"]) t.equal(failure(decodeLcp(hex(h))).code, "truncated", h);
  // A lone option Type octet at the end of the packet.
  t.equal(failure(decodeLcp(hex("01 01 0005 01"))).code, "truncated");
  t.end();
});

void t.test("an option whose Length is wrong for its type is a typed error", (t) => {
  const cases: [string, string][] = [
    ["MRU Length 3", "010300"],
    ["MRU Length 5", "01050000 00"],
    ["ACCM Length 4", "02040000"],
    ["Magic-Number Length 4", "05040000"],
    ["PFC Length 3", "070300"],
    ["ACFC Length 4", "08040000"],
    ["Auth Length 3", "0303c0"],
    ["PAP with an extra octet", "0305c02300"],
    ["CHAP without algorithm", "0304c223"],
    ["CHAP with two octets", "0306c2230505"],
    ["Quality Length 3", "0403c0"],
    ["MRRU Length 6", "110600000000"],
    ["Endpoint Length 2", "1302"],
    ["Endpoint null class with an address", "13040000"],
    ["Endpoint IP class with 3 octets", "130602c00002"],
    ["Endpoint MAC class with 5 octets", "13080302005e1000"],
    ["Endpoint magic block not a multiple of 4", "13080401020304 05"],
    ["Endpoint directory number of 16 digits", "1314053131313131313131313131313131313131"],
    ["Endpoint locally assigned of 21 octets", "1318 01 000102030405060708090a0b0c0d0e0f1011121314"],
  ];
  for (const [what, optHex] of cases) {
    const opt = hex(optHex);
    const pkt = Buffer.concat([hex("0101"), Buffer.from([0, 4 + opt.length]), opt]);
    const e = failure(decodeLcp(pkt));
    t.equal(e.code, "bad-length", what);
    t.equal(e.action.kind, "drop", what);
    t.match(e.reason, /RFC/, what);
  }
  // An unassigned Endpoint class (6) has no length rule.
  t.ok(decodeLcp(hex("01 01 0009 1305 06 aabb")).ok);
  t.end();
});

void t.test("unknown Codes are code-rejected (RFC 1661 5.6)", (t) => {
  for (const code of [0, 12, 13, 14, 15, 16, 255]) {
    const e = failure(decodeLcp(Buffer.from([code, 1, 0, 8, 1, 2, 3, 4])));
    t.equal(e.code, "unknown-code", `code ${code}`);
    t.same(e.action, { kind: "code-reject" }, `code ${code}`);
    t.equal(e.value, code);
  }
  // A lying Length is dropped before the Code is looked at.
  t.equal(failure(decodeLcp(hex("0c 01 00ff"))).action.kind, "drop");
  t.end();
});

void t.test("Code-Reject and Protocol-Reject are truncated to the MRU (RFC 1661 5.6, 5.7)", (t) => {
  const big = Buffer.alloc(3000, 0xab);
  const codeRej = encodeLcp({ kind: "CodeRej", identifier: 1, rejected: big }, { mru: 1500 });
  t.equal(codeRej.length, 1500);
  t.equal(codeRej.readUInt16BE(2), 1500);
  const protRej = encodeLcp({ kind: "ProtRej", identifier: 2, protocol: PppProtocol.CCP, rejected: big }, { mru: 1500 });
  t.equal(protRej.length, 1500);
  t.equal(protRej.readUInt16BE(4), PppProtocol.CCP);
  const small = encodeLcp({ kind: "CodeRej", identifier: 1, rejected: hex("0c01") }, { mru: 1500 });
  t.equal(small.toString("hex"), "070100060c01");
  t.end();
});

void t.test("decoded values are views of the input", (t) => {
  const buf = hex("09 07 000c 1d2e3f40 abcd0102");
  const p = unwrap(decodeLcp(buf));
  t.ok(p.kind === "EchoReq" && p.data.buffer === buf.buffer);
  t.end();
});
