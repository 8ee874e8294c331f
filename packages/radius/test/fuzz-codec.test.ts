// 100,000 random and mutated inputs for each pure decoder of the codec: none may throw, and
// their results must keep their invariants.
import t from "tap";
import {
  Attr,
  Code,
  decodeIpv6Prefix,
  decodePacket,
  encodeIpv6Prefix,
  integerAttr,
  ipv6ToBuffer,
  MAX_ATTRIBUTES,
  parseAuthReply,
  parseFramedIpv6Route,
  parseFramedRoute,
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
import { fuzz } from "./lib/fuzz.js";

const reqAuth = Buffer.alloc(16, 3);

const replyAttrs: RadiusAttribute[] = [
  { type: Attr.FramedIpAddress, value: Buffer.from([10, 1, 2, 3]) },
  textAttr(Attr.FramedRoute, "192.168.0.0/24 10.1.2.3 1"),
  textAttr(Attr.FramedIpv6Route, "2001:db8::/48 :: 1"),
  { type: Attr.FramedIpv6Prefix, value: encodeIpv6Prefix({ prefix: "2001:db8:1::", length: 64 }) ?? Buffer.alloc(0) },
  { type: Attr.DelegatedIpv6Prefix, value: encodeIpv6Prefix({ prefix: "2001:db8:100::", length: 56 }) ?? Buffer.alloc(0) },
  integerAttr(Attr.SessionTimeout, 3600),
  { type: Attr.Class, value: Buffer.from("class") },
  vendorAttr(Vendor.Cisco, VendorAttr.CiscoAvPair, Buffer.from("throttle=yes")),
  vendorAttr(Vendor.Ascend, VendorAttr.AscendClientPrimaryDns, Buffer.from([1, 1, 1, 1])),
  vendorAttr(Vendor.Microsoft, VendorAttr.MsSecondaryDnsServer, Buffer.from([8, 8, 8, 8])),
];

const seeds = [
  signResponse({ code: Code.AccessAccept, identifier: 1, attributes: replyAttrs, secret: "s", requestAuthenticator: reqAuth }),
  signResponse({ code: Code.AccessReject, identifier: 2, attributes: [textAttr(Attr.ReplyMessage, "no")], secret: "s", requestAuthenticator: reqAuth }),
  signRequest({ code: Code.AccountingRequest, identifier: 3, attributes: [textAttr(Attr.UserName, "bob"), integerAttr(Attr.AcctStatusType, 1)], secret: "s" }),
  signRequest({ code: Code.DisconnectRequest, identifier: 4, attributes: [textAttr(Attr.UserName, "bob")], secret: "s" }),
];

void t.test("decodePacket", (t) => {
  const failures = fuzz(
    "decodePacket",
    (input) => {
      const d = decodePacket(input);
      if (!d.ok) return typeof d.error.reason === "string" ? undefined : "error without a reason";
      if (d.value.authenticator.length !== 16) return "authenticator not 16 octets";
      if (d.value.attributes.length > MAX_ATTRIBUTES) return "attribute flood accepted";
      if (d.value.attributes.some((a) => a.value.length > 253)) return "attribute longer than 253";
      return undefined;
    },
    { seeds, maxLength: 300 },
  );
  t.same(failures, []);
  t.end();
});

void t.test("verifyResponse and verifyRequest on every packet that decodes", (t) => {
  const failures = fuzz(
    "verify",
    (input) => {
      if (!decodePacket(input).ok) return undefined;
      const a = verifyResponse(input, "s", reqAuth, true);
      const b = verifyRequest(input, "s", false);
      return typeof a === "string" && typeof b === "string" ? undefined : "not a verdict";
    },
    { seeds, maxLength: 300 },
  );
  t.same(failures, []);
  t.end();
});

void t.test("parseAuthReply on attribute lists", (t) => {
  // The input is taken as the attribute section, so that most inputs reach the parser.
  const body = (b: Buffer): Buffer => b.subarray(20);
  const failures = fuzz(
    "parseAuthReply",
    (input) => {
      const len = Math.min(4096, 20 + input.length);
      const pkt = Buffer.concat([Buffer.from([2, 0, len >> 8, len & 0xff]), reqAuth, input]);
      const d = decodePacket(pkt);
      if (!d.ok) return undefined;
      const r = parseAuthReply(d.value.attributes);
      if (r.attributes.length !== d.value.attributes.length) return "attributes lost";
      for (const route of r.framedRoutes) if (route.length < 0 || route.length > 32) return "bad route length";
      for (const p of [...r.framedIpv6Prefixes, ...r.delegatedIpv6Prefixes]) if (p.length > 128) return "bad prefix";
      return undefined;
    },
    { seeds: seeds.map(body), maxLength: 300 },
  );
  t.same(failures, []);
  t.end();
});

void t.test("splitVendorSpecific", (t) => {
  const failures = fuzz(
    "splitVendorSpecific",
    (input) => {
      const s = splitVendorSpecific(input);
      if (s.ok && s.value.some((v) => v.value.length > input.length)) return "value longer than the input";
      return undefined;
    },
    { seeds: replyAttrs.filter((a) => a.type === Attr.VendorSpecific).map((a) => a.value), maxLength: 64 },
  );
  t.same(failures, []);
  t.end();
});

void t.test("Framed-Route, Framed-IPv6-Route, IPv6 prefixes and addresses", (t) => {
  const text = ["10.0.0.0/8 1.2.3.4 5", "192.168.1.0 0.0.0.0 1 2 -3", "2001:db8::/32 2001:db8::1 4", "::ffff:1.2.3.4", "2001:db8:0:1::1/64 :: 1"].map((s) => Buffer.from(s));
  const failures = fuzz(
    "routes",
    (input) => {
      const s = input.toString("latin1");
      const r = parseFramedRoute(s);
      if (r !== undefined && (r.length > 32 || (r.metric !== undefined && r.metric < 0))) return "bad route";
      const r6 = parseFramedIpv6Route(s);
      if (r6 !== undefined && r6.length > 128) return "bad IPv6 route";
      const a = ipv6ToBuffer(s.trim());
      if (a !== undefined && a.length !== 16) return "address not 16 octets";
      const p = decodeIpv6Prefix(input);
      if (p !== undefined && p.length > 128) return "bad prefix";
      return undefined;
    },
    { seeds: [...text, Buffer.from("0040200100000000000000000000000000000000", "hex")], maxLength: 64 },
  );
  t.same(failures, []);
  t.end();
});
