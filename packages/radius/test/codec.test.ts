// The codec: the RFC 2865 7.1 example packets, signing and verification of every packet kind,
// decode errors, vendor attributes, the reply parser, routes and prefixes, request builders.
import t from "tap";
import { AcctTerminateCause } from "@lnsd/wire";
import {
  accessRequestAttributes,
  accountingAttributes,
  Attr,
  bufferToIpv6,
  Code,
  codeName,
  decodeIpv6Prefix,
  decodePacket,
  encodeIpv6Prefix,
  encodePacket,
  hidePassword,
  integerAttr,
  interimIntervalSec,
  ipv6ToBuffer,
  parseAuthReply,
  parseFramedIpv6Route,
  parseFramedRoute,
  parseIpv6PrefixText,
  revealPassword,
  signRequest,
  signResponse,
  splitVendorSpecific,
  textAttr,
  Vendor,
  vendorAttr,
  VendorAttr,
  verifyRequest,
  verifyResponse,
  type RadiusAttribute,
} from "../src/index.js";

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");

void t.test("RFC 2865 7.1: nemo's Access-Request and Access-Accept", (t) => {
  const secret = "xyzzy5461";
  const request = hex(`01 00 00 38 0f 40 3f 94 73 97 80 57 bd 83 d5 cb
    98 f4 22 7a 01 06 6e 65 6d 6f 02 12 0d be 70 8d
    93 d4 13 ce 31 96 e4 3f 78 2a 0a ee 04 06 c0 a8
    01 10 05 06 00 00 00 03`);
  const accept = hex(`02 00 00 26 86 fe 22 0e 76 24 ba 2a 10 05 f6 bf
    9b 55 e0 b2 06 06 00 00 00 01 0f 06 00 00 00 00
    0e 06 c0 a8 01 03`);
  const d = decodePacket(request);
  t.ok(d.ok);
  if (!d.ok) {
    t.end();
    return;
  }
  t.equal(d.value.code, Code.AccessRequest);
  t.same(
    d.value.attributes.map((a) => a.type),
    [Attr.UserName, Attr.UserPassword, Attr.NasIpAddress, Attr.NasPort],
  );
  const hidden = d.value.attributes[1]?.value ?? Buffer.alloc(0);
  t.equal(revealPassword(hidden, secret, d.value.authenticator)?.toString(), "arctangent");
  t.same(hidePassword(Buffer.from("arctangent"), secret, d.value.authenticator), hidden);
  t.same(encodePacket(d.value), request, "re-encodes to the same bytes");
  // Without Message-Authenticator (1997), the reply verifies only when it is not required.
  t.equal(verifyResponse(accept, secret, d.value.authenticator, false), "ok");
  t.equal(verifyResponse(accept, secret, d.value.authenticator, true), "missing-message-authenticator");
  t.equal(verifyResponse(accept, "wrong", d.value.authenticator, false), "bad-authenticator");
  const r = decodePacket(accept);
  t.ok(r.ok);
  if (!r.ok) {
    t.end();
    return;
  }
  const resigned = signResponse({ code: Code.AccessAccept, identifier: 0, attributes: r.value.attributes, secret, requestAuthenticator: d.value.authenticator, messageAuthenticator: false });
  t.same(resigned, accept, "signResponse reproduces the RFC's Response Authenticator");
  t.end();
});

const random16 = hex("00112233445566778899aabbccddeeff");

void t.test("requests: signed, Message-Authenticator first, verified as a server would", (t) => {
  for (const code of [Code.AccessRequest, Code.AccountingRequest, Code.DisconnectRequest, Code.CoaRequest]) {
    const pkt = signRequest({ code, identifier: 7, attributes: [textAttr(Attr.UserName, "bob")], secret: "s3cret", randomAuthenticator: random16 });
    const d = decodePacket(pkt);
    t.ok(d.ok, codeName(code));
    if (!d.ok) continue;
    t.equal(d.value.attributes[0]?.type, Attr.MessageAuthenticator, `${codeName(code)}: Message-Authenticator first`);
    t.equal(verifyRequest(pkt, "s3cret", true), "ok", `${codeName(code)} verifies`);
    t.not(verifyRequest(pkt, "other", false), "ok", `${codeName(code)}: wrong secret fails`);
    const tampered = Buffer.from(pkt);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
    t.not(verifyRequest(tampered, "s3cret", false), "ok", `${codeName(code)}: tampered fails`);
    if (code === Code.AccessRequest) t.same(d.value.authenticator, random16);
  }
  const plain = signRequest({ code: Code.AccountingRequest, identifier: 1, attributes: [], secret: "s", messageAuthenticator: false });
  t.equal(verifyRequest(plain, "s", false), "ok");
  t.equal(verifyRequest(plain, "s", true), "missing-message-authenticator");
  t.throws(() => signRequest({ code: Code.AccessRequest, identifier: 1, attributes: [], secret: "s" }), RangeError, "an Access-Request needs its random authenticator");
  t.end();
});

void t.test("responses: Response Authenticator and Message-Authenticator checks", (t) => {
  const reqAuth = random16;
  const good = signResponse({ code: Code.AccessAccept, identifier: 3, attributes: [integerAttr(Attr.SessionTimeout, 60)], secret: "k", requestAuthenticator: reqAuth });
  t.equal(verifyResponse(good, "k", reqAuth, true), "ok");
  t.equal(verifyResponse(good, "k", Buffer.alloc(16), true), "bad-authenticator", "another request's authenticator");
  // Padding past Length is ignored (RFC 2865 3).
  t.equal(verifyResponse(Buffer.concat([good, Buffer.from([1, 2, 3])]), "k", reqAuth, true), "ok");
  const noMa = signResponse({ code: Code.AccessAccept, identifier: 3, attributes: [], secret: "k", requestAuthenticator: reqAuth, messageAuthenticator: false });
  t.equal(verifyResponse(noMa, "k", reqAuth, true), "missing-message-authenticator");
  t.equal(verifyResponse(noMa, "k", reqAuth, false), "ok");
  const ma = { type: Attr.MessageAuthenticator, value: Buffer.alloc(16, 9) };
  const badMa = signResponse({ code: Code.AccessAccept, identifier: 3, attributes: [ma], secret: "k", requestAuthenticator: reqAuth, messageAuthenticator: false });
  t.equal(verifyResponse(badMa, "k", reqAuth, true), "bad-message-authenticator");
  const twoMa = signResponse({ code: Code.AccessAccept, identifier: 3, attributes: [ma], secret: "k", requestAuthenticator: reqAuth });
  t.equal(verifyResponse(twoMa, "k", reqAuth, true), "bad-message-authenticator", "two Message-Authenticators");
  const shortMa = signResponse({ code: Code.AccessAccept, identifier: 3, attributes: [{ type: Attr.MessageAuthenticator, value: Buffer.alloc(4) }], secret: "k", requestAuthenticator: reqAuth, messageAuthenticator: false });
  t.equal(verifyResponse(shortMa, "k", reqAuth, true), "bad-message-authenticator", "a 4-octet Message-Authenticator");
  t.end();
});

void t.test("decodePacket refuses what RFC 2865 3 and 5 say to discard", (t) => {
  const header = (code: number, length: number, body = ""): Buffer => Buffer.concat([Buffer.from([code, 1, length >> 8, length & 0xff]), Buffer.alloc(16), hex(body)]);
  const cases: [string, Buffer, string][] = [
    ["empty", Buffer.alloc(0), "truncated"],
    ["19 octets", Buffer.alloc(19), "truncated"],
    ["Length 19", header(2, 19), "bad-length"],
    ["Length 4097", header(2, 4097), "bad-length"],
    ["Length past the datagram", header(2, 30), "truncated"],
    ["code 0", header(0, 20), "unknown-code"],
    ["code 99", header(99, 20), "unknown-code"],
    ["attribute Length 0", header(2, 22, "0100"), "bad-attribute-length"],
    ["attribute Length 1", header(2, 22, "0101"), "bad-attribute-length"],
    ["attribute runs past Length", header(2, 23, "01050000"), "bad-attribute-length"],
    ["half an attribute header", header(2, 21, "01"), "bad-attribute-length"],
    ["attribute flood", header(2, 20 + 2 * 300, "0102".repeat(300)), "too-many-attributes"],
  ];
  for (const [name, buf, code] of cases) {
    const d = decodePacket(buf);
    t.equal(d.ok ? "ok" : d.error.code, code, name);
  }
  const padded = Buffer.concat([header(2, 24, "01046162"), hex("ffff")]);
  const d = decodePacket(padded);
  t.ok(d.ok, "octets past Length are padding");
  if (d.ok) t.same(d.value.attributes, [{ type: 1, value: Buffer.from("ab") }]);
  t.end();
});

void t.test("Vendor-Specific", (t) => {
  const v = vendorAttr(Vendor.Cisco, VendorAttr.CiscoAvPair, Buffer.from("throttle=yes"));
  const s = splitVendorSpecific(v.value);
  t.same(s.ok ? s.value : s.error, [{ vendorId: 9, type: 1, value: Buffer.from("throttle=yes") }]);
  const two = Buffer.concat([hex("00000137"), hex("1c06 01020304"), hex("1d06 05060708")]);
  const s2 = splitVendorSpecific(two);
  t.equal(s2.ok && s2.value.length, 2);
  for (const [name, bad] of [
    ["short", hex("000009")],
    ["first octet set", hex("01000009 0103")],
    ["sub-length 1", hex("00000009 0101")],
    ["sub-length past the end", hex("00000009 0109 41")],
    ["half a header", hex("00000009 01")],
  ] as const) {
    t.notOk(splitVendorSpecific(bad).ok, name);
  }
  t.end();
});

void t.test("parseAuthReply: every attribute the LNS uses", (t) => {
  const a = (type: number, value: Buffer): RadiusAttribute => ({ type, value });
  const v4 = (s: string): Buffer => Buffer.from(s.split(".").map(Number));
  const prefix = (p: string, len: number): Buffer => encodeIpv6Prefix({ prefix: p, length: len }) ?? Buffer.alloc(0);
  const attrs: RadiusAttribute[] = [
    a(Attr.FramedIpAddress, v4("10.1.2.3")),
    a(Attr.FramedIpNetmask, v4("255.255.255.255")),
    textAttr(Attr.FramedRoute, "192.168.10.0/24 10.1.2.3 5"),
    textAttr(Attr.FramedRoute, "172.16.0.0 0.0.0.0 1 2 -3"),
    textAttr(Attr.FramedRoute, "not a route"),
    a(Attr.FramedIpv6Prefix, prefix("2001:db8:1::", 64)),
    textAttr(Attr.FramedIpv6Route, "2001:db8:2::/48 :: 3"),
    a(Attr.DelegatedIpv6Prefix, prefix("2001:db8:100::", 56)),
    a(Attr.FramedInterfaceId, hex("0011223344556677")),
    integerAttr(Attr.SessionTimeout, 3600),
    integerAttr(Attr.IdleTimeout, 600),
    integerAttr(Attr.AcctInterimInterval, 300),
    a(Attr.Class, Buffer.from("class-1")),
    a(Attr.Class, Buffer.from("class-2")),
    textAttr(Attr.FilterId, "std"),
    vendorAttr(Vendor.Ascend, VendorAttr.AscendClientPrimaryDns, v4("1.1.1.1")),
    vendorAttr(Vendor.Ascend, VendorAttr.AscendClientSecondaryDns, v4("8.8.8.8")),
    vendorAttr(Vendor.Microsoft, VendorAttr.MsPrimaryDnsServer, v4("9.9.9.9")),
    vendorAttr(Vendor.Cisco, VendorAttr.CiscoAvPair, Buffer.from("throttle=yes")),
    vendorAttr(Vendor.Cisco, VendorAttr.CiscoAvPair, Buffer.from("intercept=no")),
    vendorAttr(Vendor.Cisco, 2, Buffer.from("unknown vendor attribute: ignored")),
    textAttr(Attr.ReplyMessage, "hello"),
    a(Attr.SessionTimeout, hex("0102")),
    a(Attr.VendorSpecific, hex("0000")),
    a(Attr.FramedIpAddress, v4("10.9.9.9")),
    a(200, Buffer.from("unknown attribute: kept raw")),
  ];
  const r = parseAuthReply(attrs);
  t.equal(r.framedIpAddress, "10.1.2.3");
  t.equal(r.framedIpNetmask, "255.255.255.255");
  t.same(r.framedRoutes, [
    { prefix: "192.168.10.0", length: 24, gateway: "10.1.2.3", metric: 5, text: "192.168.10.0/24 10.1.2.3 5" },
    { prefix: "172.16.0.0", length: 16, metric: 1, text: "172.16.0.0 0.0.0.0 1 2 -3" },
  ]);
  t.same(r.framedIpv6Prefixes, [{ prefix: "2001:db8:1::", length: 64 }]);
  t.same(r.framedIpv6Routes, [{ prefix: "2001:db8:2::", length: 48, metric: 3, text: "2001:db8:2::/48 :: 3" }]);
  t.same(r.delegatedIpv6Prefixes, [{ prefix: "2001:db8:100::", length: 56 }]);
  t.same(r.framedInterfaceId, hex("0011223344556677"));
  t.equal(r.sessionTimeoutSec, 3600);
  t.equal(r.idleTimeoutSec, 600);
  t.equal(r.acctInterimIntervalSec, 300);
  t.same(r.classes, [Buffer.from("class-1"), Buffer.from("class-2")]);
  t.same(r.filterIds, ["std"]);
  t.equal(r.ascendPrimaryDns, "1.1.1.1");
  t.equal(r.ascendSecondaryDns, "8.8.8.8");
  t.equal(r.msPrimaryDns, "9.9.9.9");
  t.equal(r.primaryDns, "9.9.9.9", "Microsoft's wins");
  t.equal(r.secondaryDns, "8.8.8.8", "Ascend's when Microsoft gives none");
  t.same(r.ciscoAvPairs, ["throttle=yes", "intercept=no"]);
  t.same(r.replyMessages, ["hello"]);
  t.equal(r.attributes.length, attrs.length, "every attribute kept raw");
  t.equal(r.problems.length, 4, r.problems.join("; "));
  const legacy = parseAuthReply([a(Attr.LegacyAscendClientPrimaryDns, v4("4.4.4.4")), a(Attr.LegacyAscendClientSecondaryDns, v4("4.4.4.5"))]);
  t.equal(legacy.primaryDns, "4.4.4.4", "old non-vendor Ascend DNS");
  t.equal(legacy.secondaryDns, "4.4.4.5");
  t.end();
});

void t.test("Framed-Route and Framed-IPv6-Route parsing", (t) => {
  const cases: [string, unknown][] = [
    ["10.0.0.0/8", { prefix: "10.0.0.0", length: 8 }],
    ["192.168.1.77/24 10.0.0.1", { prefix: "192.168.1.0", length: 24, gateway: "10.0.0.1" }],
    ["192.168.1.0 192.168.1.1 1 2 -3 4", { prefix: "192.168.1.0", length: 24, gateway: "192.168.1.1", metric: 1 }],
    ["10.0.0.0", { prefix: "10.0.0.0", length: 8 }],
    ["10.1.2.3", { prefix: "10.1.2.3", length: 32 }],
    ["150.1.0.0", { prefix: "150.1.0.0", length: 16 }],
    ["0.0.0.0/0 1.2.3.4 10", { prefix: "0.0.0.0", length: 0, gateway: "1.2.3.4", metric: 10 }],
    ["  10.0.0.0/8   0.0.0.0  ", { prefix: "10.0.0.0", length: 8 }],
    ["10.0.0.0/33", undefined],
    ["10.0.0/8", undefined],
    ["10.0.0.0/8 gateway", undefined],
    ["10.0.0.0/8 1.2.3.4 x", undefined],
    ["", undefined],
  ];
  for (const [text, want] of cases) {
    const r = parseFramedRoute(text);
    if (want === undefined) t.equal(r, undefined, JSON.stringify(text));
    else t.match(r, want, JSON.stringify(text));
  }
  t.match(parseFramedIpv6Route("2001:db8::/32 2001:db8::1 4"), { prefix: "2001:db8::", length: 32, gateway: "2001:db8::1", metric: 4 });
  t.match(parseFramedIpv6Route("2001:DB8:0:0:1::/80"), { prefix: "2001:db8:0:0:1::", length: 80 });
  t.match(parseFramedIpv6Route("2001:DB8:0:0:1::/64"), { prefix: "2001:db8::", length: 64 }, "host bits cleared");
  t.equal(parseFramedIpv6Route("2001:db8::"), undefined, "no length");
  t.equal(parseFramedIpv6Route("2001:db8::/129"), undefined);
  t.end();
});

void t.test("IPv6 helpers", (t) => {
  const samples: [string, string][] = [
    ["::", "::"],
    ["::1", "::1"],
    ["2001:db8::", "2001:db8::"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"],
    ["::ffff:192.0.2.1", "::ffff:c000:201"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["1:0:3:4:5:6:7:8", "1:0:3:4:5:6:7:8"],
  ];
  for (const [text, canon] of samples) {
    const b = ipv6ToBuffer(text);
    t.ok(b, text);
    if (b !== undefined) t.equal(bufferToIpv6(b), canon, text);
  }
  for (const bad of ["", "1::2::3", "12345::", "1.2.3.4", "::g", "fe80::1%eth0"]) t.equal(ipv6ToBuffer(bad), undefined, bad);
  t.same(decodeIpv6Prefix(hex("0040 20010db8000000010000000000000000")), { prefix: "2001:db8:0:1::", length: 64 });
  t.same(decodeIpv6Prefix(hex("0030 20010db8ffff")), { prefix: "2001:db8:ffff::", length: 48 }, "short form");
  t.same(decodeIpv6Prefix(hex("0020 20010db8ffff")), { prefix: "2001:db8::", length: 32 }, "bits past the length cleared");
  t.equal(decodeIpv6Prefix(hex("0081 00")), undefined, "length 129");
  t.equal(decodeIpv6Prefix(hex("0040 2001")), undefined, "fewer octets than the length needs");
  t.equal(decodeIpv6Prefix(hex("00")), undefined);
  t.same(parseIpv6PrefixText("2001:db8::1/64"), { prefix: "2001:db8::", length: 64 });
  t.end();
});

const nas = { ipAddress: "192.0.2.1", identifier: "lns1" };

void t.test("Access-Request attributes", (t) => {
  const call = { userName: "alice", nasPort: 42, acctSessionId: "5f3e0001", callingStationId: "0123456789", calledStationId: "lns", connectInfo: "100000000/20000000" };
  const pap = accessRequestAttributes({ ...call, auth: { kind: "pap", password: Buffer.from("secret") } }, nas, "k", random16);
  t.ok(pap.ok);
  if (pap.ok) {
    const types = pap.attributes.map((a) => a.type);
    for (const ty of [Attr.UserName, Attr.UserPassword, Attr.NasIpAddress, Attr.NasIdentifier, Attr.NasPort, Attr.NasPortType, Attr.ServiceType, Attr.FramedProtocol, Attr.CallingStationId, Attr.CalledStationId, Attr.ConnectInfo, Attr.AcctSessionId]) {
      t.ok(types.includes(ty), `has attribute ${ty}`);
    }
    const pw = pap.attributes.find((a) => a.type === Attr.UserPassword);
    t.equal(pw && revealPassword(pw.value, "k", random16)?.toString(), "secret");
  }
  const chap = accessRequestAttributes({ ...call, auth: { kind: "chap", identifier: 9, challenge: Buffer.alloc(16, 1), response: Buffer.alloc(16, 2) } }, nas, "k", random16);
  t.ok(chap.ok);
  if (chap.ok) {
    t.same(chap.attributes.find((a) => a.type === Attr.ChapPassword)?.value, Buffer.concat([Buffer.from([9]), Buffer.alloc(16, 2)]));
    t.same(chap.attributes.find((a) => a.type === Attr.ChapChallenge)?.value, Buffer.alloc(16, 1));
  }
  const long = accessRequestAttributes({ ...call, userName: "x".repeat(255), auth: { kind: "pap", password: Buffer.from("p") } }, nas, "k", random16);
  t.notOk(long.ok, "a 255-octet PAP peer id is refused, not thrown");
  t.notOk(accessRequestAttributes({ ...call, auth: { kind: "pap", password: Buffer.alloc(129) } }, nas, "k", random16).ok, "password over 128");
  t.notOk(accessRequestAttributes({ ...call, auth: { kind: "chap", identifier: 1, challenge: Buffer.alloc(16), response: Buffer.alloc(15) } }, nas, "k", random16).ok, "CHAP response not 16");
  const flood = accessRequestAttributes({ ...call, auth: { kind: "pap", password: Buffer.from("p") }, extra: new Array(20).fill(textAttr(Attr.ReplyMessage, "y".repeat(250))) }, nas, "k", random16);
  t.notOk(flood.ok, "over 4096 octets");
  t.end();
});

void t.test("Accounting-Request attributes", (t) => {
  const session = { userName: "alice", nasPort: 42, acctSessionId: "5f3e0001", framedIpAddress: "10.1.2.3", classes: [Buffer.from("c1"), Buffer.from("c2")], delegatedIpv6Prefix: { prefix: "2001:db8:100::", length: 56 } };
  const counters = { inputOctets: 5 * 2 ** 32 + 7, outputOctets: 123, inputPackets: 10, outputPackets: 20, sessionTimeSec: 99 };
  const stop = accountingAttributes({ status: "stop", session, counters, terminateCause: AcctTerminateCause.LostCarrier }, nas, 3, 1_700_000_000);
  t.ok(stop.ok);
  if (!stop.ok) {
    t.end();
    return;
  }
  const get = (type: number): number | undefined => stop.attributes.find((a) => a.type === type)?.value.readUInt32BE(0);
  t.equal(get(Attr.AcctStatusType), 2);
  t.equal(get(Attr.AcctInputOctets), 7);
  t.equal(get(Attr.AcctInputGigawords), 5);
  t.equal(get(Attr.AcctOutputOctets), 123);
  t.equal(get(Attr.AcctOutputGigawords), 0);
  t.equal(get(Attr.AcctInputPackets), 10);
  t.equal(get(Attr.AcctOutputPackets), 20);
  t.equal(get(Attr.AcctSessionTime), 99);
  t.equal(get(Attr.AcctTerminateCause), AcctTerminateCause.LostCarrier);
  t.equal(get(Attr.AcctDelayTime), 3);
  t.equal(get(Attr.EventTimestamp), 1_700_000_000);
  t.equal(get(Attr.FramedIpAddress), 0x0a010203);
  t.same(
    stop.attributes.filter((a) => a.type === Attr.Class).map((a) => a.value.toString()),
    ["c1", "c2"],
    "every Class echoed in order",
  );
  const start = accountingAttributes({ status: "start", session }, nas, 0, 0);
  t.ok(start.ok && !start.attributes.some((a) => a.type === Attr.AcctInputOctets || a.type === Attr.AcctTerminateCause), "Start has no counters");
  const off = accountingAttributes({ status: "off", acctSessionId: "boot", terminateCause: AcctTerminateCause.AdminReboot }, nas, 0, 0);
  t.ok(off.ok && off.attributes.some((a) => a.type === Attr.AcctStatusType && a.value.readUInt32BE(0) === 8));
  t.notOk(accountingAttributes({ status: "start", session: { ...session, framedIpAddress: "300.1.1.1" } }, nas, 0, 0).ok, "bad address refused");
  t.end();
});

void t.test("interim interval: the reply's, at least 60, else the configured one", (t) => {
  const reply = (n?: number): ReturnType<typeof parseAuthReply> => parseAuthReply(n === undefined ? [] : [integerAttr(Attr.AcctInterimInterval, n)]);
  t.equal(interimIntervalSec(reply(300), 600), 300);
  t.equal(interimIntervalSec(reply(10), 600), 60);
  t.equal(interimIntervalSec(reply(), 600), 600);
  t.equal(interimIntervalSec(reply(0), 30), 30);
  t.equal(interimIntervalSec(undefined, 0), 0);
  t.end();
});

void t.test("code names", (t) => {
  t.equal(codeName(Code.AccessAccept), "Access-Accept");
  t.equal(codeName(Code.CoaNak), "CoA-Nak");
  t.equal(codeName(77), "code 77");
  t.end();
});
