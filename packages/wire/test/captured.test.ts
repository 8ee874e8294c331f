// Captured vectors (test/vectors/captured): real packets between xl2tpd 1.3.18 + pppd 2.4.9 and
// l2tpns 2.4.1. Checks the pcap writer, the tshark harness (it must still dissect every captured
// packet as recorded), and that our L2TP and PPP codecs read each packet as tshark does.
import t, { type Test } from "tap";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  AvpType,
  ChapCode,
  IPCP_OPTIONS,
  IPV6CP_OPTIONS,
  L2tpMessageType,
  LCP_OPTIONS,
  PapCode,
  PppCode,
  decodeChap,
  decodeControlMessage,
  decodeIpcp,
  decodeIpv6cp,
  decodeL2tpHeader,
  decodeLcp,
  decodePap,
  decodePppFrame,
  getAvp,
  tunnelChallengeResponse,
  type ConfigOption,
  type ControlPacket,
  type L2tpControlMessage,
  type OptionTable,
  type Result,
  type WireError,
} from "../src/index.js";
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_RAW, PCAP_DEFAULT_SNAPLEN, buildIpv4Udp, encodePcap } from "../src/pcap.js";
import { capturedDir, loadCaptured, type CapturedFile } from "./lib/captured.js";
import {
  bytesField,
  dissect,
  dissectFile,
  fieldNumber,
  fieldValue,
  l2tpAvps,
  layer,
  layersNamed,
  pppOptions,
  summarize,
  tsharkAvailable,
  type Frame,
  type JsonObject,
} from "./lib/tshark.js";

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");
const hasTshark = await tsharkAvailable();
const NO_TSHARK = "tshark is required for this test: apt-get install tshark (or set TSHARK=/path/to/tshark)";
const captures = loadCaptured();

/** RFC 1071 check: the ones'-complement sum over a block that includes its checksum is 0xffff. */
function onesSum(...blocks: Uint8Array[]): number {
  let sum = 0;
  for (const b of blocks) {
    for (let i = 0; i < b.length; i += 2) sum += ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** Records of a classic pcap file, either byte order (the oracle for encodePcap is tshark). */
function readPcap(buf: Buffer): { linktype: number; records: Buffer[] } {
  const le = buf.readUInt32LE(0) === 0xa1b2c3d4;
  const u32 = (at: number): number => (le ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
  const records: Buffer[] = [];
  for (let off = 24; off + 16 <= buf.length; ) {
    const len = u32(off + 8);
    records.push(buf.subarray(off + 16, off + 16 + len));
    off += 16 + len;
  }
  return { linktype: u32(20), records };
}

void t.test("encodePcap writes a classic libpcap file", (t) => {
  const empty = encodePcap([]);
  t.same(empty, hex("a1b2c3d4 0002 0004 00000000 00000000 00040000 00000065"), "global header, big-endian, LINKTYPE_RAW");
  t.equal(empty.readUInt32BE(16), PCAP_DEFAULT_SNAPLEN);
  t.equal(empty.readUInt32BE(20), LINKTYPE_RAW);

  const two = encodePcap(
    [
      { data: hex("45"), timestampUs: 1_700_000_000_123_456 },
      { data: hex("aabbcc"), originalLength: 9 },
    ],
    { linktype: LINKTYPE_ETHERNET, snaplen: 100 },
  );
  t.equal(two.length, 24 + 16 + 1 + 16 + 3);
  t.equal(two.readUInt32BE(16), 100, "snaplen");
  t.equal(two.readUInt32BE(20), LINKTYPE_ETHERNET, "linktype");
  t.same(two.subarray(24, 41), hex("6553f100 0001e240 00000001 00000001 45"), "record 0: ts_sec, ts_usec, incl_len, orig_len, data");
  t.same(two.subarray(41), hex("00000000 000003e8 00000003 00000009 aabbcc"), "record 1: default timestamp index*1000 us");

  t.throws(() => encodePcap([{ data: hex("00"), timestampUs: -1 }]), RangeError);
  t.throws(() => encodePcap([{ data: Buffer.alloc(11) }], { snaplen: 10 }), RangeError);
  t.throws(() => encodePcap([{ data: hex("0000"), originalLength: 1 }]), RangeError);
  t.end();
});

void t.test("buildIpv4Udp builds IPv4 + UDP with both checksums", (t) => {
  const payload = hex("c802000c000100000000 0000");
  const pkt = buildIpv4Udp({ src: "192.0.2.1", srcPort: 1701, dst: "198.51.100.7", dstPort: 1701, payload, id: 0x1234, ttl: 63 });
  t.equal(pkt.length, 20 + 8 + payload.length);
  t.same(pkt.subarray(0, 10), hex("4500 0028 1234 4000 3f 11"), "version/IHL, total length, id, DF, ttl, protocol");
  t.same(pkt.subarray(12, 20), hex("c0000201 c6336407"), "addresses");
  t.equal(onesSum(pkt.subarray(0, 20)), 0xffff, "IPv4 header checksum verifies");
  const udp = pkt.subarray(20);
  t.same(udp.subarray(0, 6), hex("06a5 06a5 0014"), "ports, UDP length");
  t.same(udp.subarray(8), payload);
  const pseudo = Buffer.concat([pkt.subarray(12, 20), hex("0011 0014")]);
  t.equal(onesSum(pseudo, udp), 0xffff, "UDP checksum verifies over the pseudo-header");

  // RFC 768: a computed checksum of zero is sent as all ones. A payload word equal to the
  // checksum of the zero payload makes the sum 0xffff, i.e. a computed checksum of 0.
  const base = buildIpv4Udp({ src: "10.0.0.1", srcPort: 1, dst: "10.0.0.2", dstPort: 2, payload: hex("0000") });
  const zeroing = buildIpv4Udp({ src: "10.0.0.1", srcPort: 1, dst: "10.0.0.2", dstPort: 2, payload: base.subarray(26, 28) });
  t.equal(zeroing.readUInt16BE(26), 0xffff, "checksum 0 sent as 0xffff");

  t.equal(buildIpv4Udp({ src: "10.0.0.1", srcPort: 1, dst: "10.0.0.2", dstPort: 2, payload: hex("00"), dontFragment: false }).readUInt16BE(6), 0);
  t.throws(() => buildIpv4Udp({ src: "10.0.0.256", srcPort: 1, dst: "10.0.0.2", dstPort: 2, payload }), RangeError);
  t.throws(() => buildIpv4Udp({ src: "10.0.0.01", srcPort: 1, dst: "10.0.0.2", dstPort: 2, payload }), RangeError);
  t.throws(() => buildIpv4Udp({ src: "10.0.0.1", srcPort: 65536, dst: "10.0.0.2", dstPort: 2, payload }), RangeError);
  t.throws(() => buildIpv4Udp({ src: "10.0.0.1", srcPort: 1, dst: "10.0.0.2", dstPort: 2, payload: Buffer.alloc(65508) }), RangeError);
  t.end();
});

void t.test("buildIpv4Udp matches the IPv4 headers the Linux kernel sent in the captures", (t) => {
  for (const cap of captures) {
    const { linktype, records } = readPcap(readFileSync(join(capturedDir, cap.pcap)));
    t.equal(linktype, LINKTYPE_LINUX_SLL, `${cap.name}: captured with dumpcap -i any`);
    records.forEach((rec, i) => {
      const ip = rec.subarray(16); // Linux cooked header
      const packet = cap.packets[i];
      if (packet === undefined || ip[0] !== 0x45) return;
      const built = buildIpv4Udp({
        src: packet.from.addr,
        srcPort: packet.from.port,
        dst: packet.to.addr,
        dstPort: packet.to.port,
        payload: hex(packet.udpPayloadHex),
        id: ip.readUInt16BE(4),
        ttl: ip[8] ?? 0,
        dontFragment: (ip[6] ?? 0) === 0x40,
      });
      // The UDP checksum is not comparable: the LAC sends 0 (no checksum) and the LNS's packets
      // were captured before checksum offload filled theirs in.
      t.same(built.subarray(0, 26), ip.subarray(0, 26), `${cap.name} frame ${packet.frame}: IPv4 header and UDP ports/length`);
    });
  }
  t.end();
});

void t.test("tshark harness: our pcap round-trips through tshark", async (t) => {
  if (!hasTshark) {
    t.fail(NO_TSHARK);
    return;
  }
  const frames = await dissect([
    // ZLB: T L S, Ver 2, Length 12, tunnel 0x1234, session 0, Ns 5, Nr 7
    { udpPayload: hex("c802000c 1234 0000 0005 0007"), from: { addr: "203.0.113.9", port: 40000 }, timestampUs: 1_700_000_000_123_456 },
    // data message with an LCP Echo-Request (magic a1b2c3d4)
    { udpPayload: hex("0002 1234 5678 ff03 c021 09 01 0008 a1b2c3d4") },
    // control message cut after 13 of its 20 octets
    { udpPayload: hex("c8020014 0002 0000 0001 0001 80") },
    // an AVP whose Length (3) is below the 6-octet AVP header
    { udpPayload: hex("c8020014 0002 0000 0001 0001 8003 0000 0000 000c") },
  ], ["-o", "udp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE"]);
  t.equal(frames.length, 4);
  const [zlb, echo, cut, badAvp] = frames;
  if (zlb === undefined || echo === undefined || cut === undefined || badAvp === undefined) return;

  t.same(zlb.protocols, ["raw", "ip", "udp", "l2tp"]);
  t.equal(fieldValue(zlb, "ip.src"), "203.0.113.9");
  t.equal(fieldValue(zlb, "ip.dst"), "192.0.2.2");
  t.equal(fieldValue(zlb, "udp.srcport"), "40000");
  t.equal(fieldValue(zlb, "ip.checksum.status"), "1", "tshark: IPv4 header checksum good");
  t.equal(fieldValue(zlb, "udp.checksum.status"), "1", "tshark: UDP checksum good");
  t.equal(fieldValue(zlb, "frame.time_epoch"), "1700000000.123456000");
  t.equal(fieldNumber(zlb, "l2tp.tunnel"), 0x1234);
  t.equal(fieldNumber(zlb, "l2tp.Ns"), 5);
  t.equal(fieldNumber(zlb, "l2tp.Nr"), 7);
  t.not(fieldValue(zlb, "l2tp.zero_length_body_message"), undefined);
  t.same(zlb.malformed, []);

  t.same(echo.protocols.slice(3), ["l2tp", "ppp", "lcp"]);
  t.same(summarize(echo), {
    protocols: "l2tp:ppp:lcp",
    malformed: [],
    l2tp: {
      header: {
        "l2tp.flags": "0x0002",
        "l2tp.type": "0",
        "l2tp.length_bit": "0",
        "l2tp.seq_bit": "0",
        "l2tp.offset_bit": "0",
        "l2tp.priority": "0",
        "l2tp.version": "2",
        "l2tp.tunnel": "4660",
        "l2tp.session": "22136",
      },
      avps: [],
    },
    ppp: { "ppp.address": "0xff", "ppp.control": "0x03", "ppp.protocol": "0xc021" },
    control: { layer: "lcp", fields: { "ppp.code": "9", "ppp.identifier": "1", "ppp.length": "8", "lcp.magic_number": "0xa1b2c3d4" }, options: [] },
  });

  t.ok(cut.malformed.includes("Malformed Packet"), `truncated message flagged: ${JSON.stringify(cut.malformed)}`);
  t.ok(
    badAvp.malformed.some((m) => m.startsWith("error: AVP length must be >= 6") && m.endsWith("[l2tp.avp_length.bad]")),
    `short AVP flagged: ${JSON.stringify(badAvp.malformed)}`,
  );
  t.ok(badAvp.experts.some((e) => e.severity === "error" && e.field === "l2tp.avp_length.bad"));
});

void t.test("captured vectors still dissect in tshark as recorded", async (t) => {
  if (!hasTshark) {
    t.fail(NO_TSHARK);
    return;
  }
  t.ok(captures.length >= 4, `captures found in ${capturedDir}`);
  for (const cap of captures) {
    const pcapPath = join(capturedDir, cap.pcap);
    t.ok(existsSync(pcapPath), `${cap.pcap} exists`);
    // The JSON's payloads are the pcap's payloads.
    const fromPcap = await dissectFile(pcapPath);
    t.equal(fromPcap.length, cap.packets.length, `${cap.name}: packet count`);
    fromPcap.forEach((f, i) => {
      t.equal(bytesField(fieldValue(f, "udp.payload") ?? "").toString("hex"), cap.packets[i]?.udpPayloadHex, `${cap.name} frame ${f.number}: payload as in the pcap`);
    });
    // Rebuilt with pcap.ts and dissected again, each packet decodes as recorded.
    const frames = await dissect(cap.packets.map((p) => ({ udpPayload: hex(p.udpPayloadHex), from: p.from, to: p.to })));
    frames.forEach((f, i) => {
      const p = cap.packets[i];
      t.same(summarize(f), p?.tshark, `${cap.name} frame ${p?.frame}: tshark fields as recorded`);
      t.same(f.malformed, [], `${cap.name} frame ${p?.frame}: no malformed/expert warnings`);
    });
  }
});

void t.test("tunnel authentication in the captures (RFC 2661 4.2, 5.1.1)", async (t) => {
  if (!hasTshark) {
    t.fail(NO_TSHARK);
    return;
  }
  for (const name of ["secret-chap", "secret-mismatch"]) {
    const cap = captures.find((c) => c.name === name);
    if (cap === undefined || cap.tunnelSecret === null) {
      t.fail(`${name}: capture with a tunnel secret missing`);
      continue;
    }
    const [sccrq, sccrp] = await dissect(cap.packets.slice(0, 2).map((p) => ({ udpPayload: hex(p.udpPayloadHex) })));
    const challenge = bytesField((sccrq && fieldValue(sccrq, "l2tp.avp.chap_challenge")) ?? "");
    const response = bytesField((sccrp && fieldValue(sccrp, "l2tp.avp.chap_challenge_response")) ?? "");
    t.equal(challenge.length, 16, `${name}: xl2tpd sends a 16-octet Challenge in SCCRQ`);
    // Response = MD5(Message Type of the reply (2, SCCRP) || secret || challenge).
    const md5 = createHash("md5").update(Uint8Array.of(2)).update(cap.tunnelSecret).update(challenge).digest();
    t.same(response, md5, `${name}: l2tpns's SCCRP Challenge Response is MD5(2 || "${cap.tunnelSecret}" || challenge)`);
    t.same(tunnelChallengeResponse(L2tpMessageType.SCCRP, cap.tunnelSecret, challenge), md5, `${name}: our tunnelChallengeResponse agrees`);
  }
  const mismatch = captures.find((c) => c.name === "secret-mismatch");
  const stop = mismatch?.packets.find((p) => p.direction === "lac->lns" && hex(p.udpPayloadHex).length > 12);
  t.ok(stop !== undefined, "secret-mismatch: the LAC answers with a StopCCN");
});

// ---------------------------------------------------------------------------------------------
// Our codecs against tshark, packet by packet

function num(node: JsonObject | Frame | undefined, field: string): number | undefined {
  return node === undefined ? undefined : fieldNumber(node, field);
}

function optionTypes<T extends OptionTable>(table: T, options: readonly ConfigOption<T>[]): (number | undefined)[] {
  const byName: OptionTable = table;
  return options.map((o) => ("type" in o ? o.type : byName[o.name]?.type));
}

function tsharkOptionTypes(frame: Frame, proto: string): (number | undefined)[] {
  return pppOptions(frame, proto).map((o) => fieldNumber(o, `${proto}.opt.type`));
}

function latin1(b: Uint8Array): string {
  return Buffer.from(b).toString("latin1");
}

function compareAvpValues(t: Test, msg: L2tpControlMessage, frame: Frame, at: string): void {
  for (const avp of l2tpAvps(frame)) {
    const type = num(avp, "l2tp.avp.type");
    const v = (field: string): string | undefined => fieldValue(avp, field);
    const n = (field: string): number | undefined => num(avp, field);
    switch (type) {
      case AvpType.ResultCode: {
        const rc = getAvp(msg, AvpType.ResultCode);
        t.equal(rc?.resultCode, n("l2tp.result_code"), `${at}: Result Code`);
        t.equal(rc?.errorCode, n("l2tp.avp.error_code"), `${at}: Error Code`);
        t.equal(rc?.errorMessage, v("l2tp.avp.error_message"), `${at}: Error Message`);
        break;
      }
      case AvpType.ProtocolVersion:
        t.same(getAvp(msg, AvpType.ProtocolVersion), { version: n("l2tp.avp.protocol_version"), revision: n("l2tp.avp.protocol_revision") }, `${at}: Protocol Version`);
        break;
      case AvpType.FramingCapabilities:
        t.equal(getAvp(msg, AvpType.FramingCapabilities), (n("l2tp.avp.async_framing_supported") ?? 0) * 2 + (n("l2tp.avp.sync_framing_supported") ?? 0), `${at}: Framing Capabilities`);
        break;
      case AvpType.BearerCapabilities:
        t.equal(getAvp(msg, AvpType.BearerCapabilities), (n("l2tp.avp.analog_access_supported") ?? 0) * 2 + (n("l2tp.avp.digital_access_supported") ?? 0), `${at}: Bearer Capabilities`);
        break;
      case AvpType.FramingType:
        t.equal(getAvp(msg, AvpType.FramingType), (n("l2tp.avp.async_framing_type") ?? 0) * 2 + (n("l2tp.avp.sync_framing_type") ?? 0), `${at}: Framing Type`);
        break;
      case AvpType.BearerType:
        t.equal(getAvp(msg, AvpType.BearerType), (n("l2tp.avp.analog_bearer_type") ?? 0) * 2 + (n("l2tp.avp.digital_bearer_type") ?? 0), `${at}: Bearer Type`);
        break;
      case AvpType.FirmwareRevision:
        t.equal(getAvp(msg, AvpType.FirmwareRevision), n("l2tp.avp.firmware_revision"), `${at}: Firmware Revision`);
        break;
      case AvpType.HostName:
        t.equal(getAvp(msg, AvpType.HostName), v("l2tp.avp.host_name"), `${at}: Host Name`);
        break;
      case AvpType.VendorName:
        t.equal(getAvp(msg, AvpType.VendorName), v("l2tp.avp.vendor_name"), `${at}: Vendor Name`);
        break;
      case AvpType.AssignedTunnelId:
        t.equal(getAvp(msg, AvpType.AssignedTunnelId), n("l2tp.avp.assigned_tunnel_id"), `${at}: Assigned Tunnel ID`);
        break;
      case AvpType.ReceiveWindowSize:
        t.equal(getAvp(msg, AvpType.ReceiveWindowSize), n("l2tp.avp.receive_window_size"), `${at}: Receive Window Size`);
        break;
      case AvpType.Challenge:
        t.same(getAvp(msg, AvpType.Challenge), bytesField(v("l2tp.avp.chap_challenge") ?? ""), `${at}: Challenge`);
        break;
      case AvpType.ChallengeResponse:
        t.same(getAvp(msg, AvpType.ChallengeResponse), bytesField(v("l2tp.avp.chap_challenge_response") ?? ""), `${at}: Challenge Response`);
        break;
      case AvpType.AssignedSessionId:
        t.equal(getAvp(msg, AvpType.AssignedSessionId), n("l2tp.avp.assigned_session_id"), `${at}: Assigned Session ID`);
        break;
      case AvpType.CallSerialNumber:
        t.equal(getAvp(msg, AvpType.CallSerialNumber), n("l2tp.avp.call_serial_number"), `${at}: Call Serial Number`);
        break;
      case AvpType.TxConnectSpeed:
        t.equal(getAvp(msg, AvpType.TxConnectSpeed), n("l2tp.avp.connect_speed"), `${at}: (Tx) Connect Speed`);
        break;
      case AvpType.RxConnectSpeed:
        t.equal(getAvp(msg, AvpType.RxConnectSpeed), n("l2tp.avp.rx_connect_speed"), `${at}: Rx Connect Speed`);
        break;
      default:
        break; // Message Type is checked by the caller; no other AVP occurs in the captures
    }
  }
}

function compareL2tpControl(t: Test, payload: Buffer, frame: Frame, cap: CapturedFile, at: string): void {
  const decoded = decodeControlMessage(payload, cap.tunnelSecret === null ? {} : { secret: cap.tunnelSecret });
  if (!decoded.ok) {
    t.fail(`${at}: decodeControlMessage: ${decoded.error.code} ${decoded.error.reason}`);
    return;
  }
  const msg = decoded.value;
  t.equal(msg.ns, num(frame, "l2tp.Ns"), `${at}: Ns`);
  t.equal(msg.nr, num(frame, "l2tp.Nr"), `${at}: Nr`);
  if (msg.messageType === "ZLB") {
    t.not(fieldValue(frame, "l2tp.zero_length_body_message"), undefined, `${at}: ZLB in tshark too`);
    return;
  }
  const avps = l2tpAvps(frame);
  t.equal(msg.messageType, num(avps[0], "l2tp.avp.message_type"), `${at}: Message Type`);
  const wire = avps.map((a) => ({
    type: num(a, "l2tp.avp.type"),
    mandatory: fieldValue(a, "l2tp.avp.mandatory") === "1",
    hidden: fieldValue(a, "l2tp.avp.hidden") === "1",
  }));
  t.same(
    msg.received.map((r) => ({ type: r.type, mandatory: r.mandatory, hidden: r.hidden })),
    wire,
    `${at}: AVP types and M/H bits in wire order`,
  );
  t.same(msg.unknown, [], `${at}: no unknown AVPs`);
  compareAvpValues(t, msg, frame, at);
}

/** LCP and the NCPs: Code, Identifier, option types in order, Echo magic, Terminate data. */
function checkControl<T extends OptionTable>(t: Test, name: string, table: T, decoded: Result<ControlPacket<T>, WireError>, frame: Frame, at: string): void {
  if (!decoded.ok) {
    t.fail(`${at}: decode ${name}: ${decoded.error.code} ${decoded.error.reason}`);
    return;
  }
  const pkt = decoded.value;
  const control = layer(frame, name);
  t.equal(PppCode[pkt.kind], num(control, "ppp.code"), `${at}: ${name} Code`);
  t.equal(pkt.identifier, num(control, "ppp.identifier"), `${at}: ${name} Identifier`);
  switch (pkt.kind) {
    case "ConfReq":
    case "ConfAck":
    case "ConfNak":
    case "ConfRej":
      t.same(optionTypes(table, pkt.options), tsharkOptionTypes(frame, name), `${at}: ${name} option types in order`);
      break;
    case "EchoReq":
    case "EchoReply":
    case "DiscardReq":
      t.equal(pkt.magic, num(control, "lcp.magic_number"), `${at}: Magic-Number`);
      break;
    case "TermReq":
    case "TermAck":
      t.same(Buffer.from(pkt.data), bytesField((control && fieldValue(control, "ppp.data")) ?? ""), `${at}: Terminate data`);
      break;
    default:
      t.fail(`${at}: ${name} ${pkt.kind} not expected in the captures`);
  }
}

function comparePpp(t: Test, info: Buffer, frame: Frame, at: string): void {
  const decoded = decodePppFrame(info);
  if (!decoded.ok) {
    t.fail(`${at}: decodePppFrame: ${decoded.error.code} ${decoded.error.reason}`);
    return;
  }
  const ppp = decoded.value;
  const pppLayer = layer(frame, "ppp");
  t.equal(ppp.protocol, num(pppLayer, "ppp.protocol"), `${at}: PPP protocol`);
  t.equal(ppp.addressControl, fieldValue(frame, "ppp.address") === "0xff", `${at}: address/control present`);
  const body = Buffer.from(ppp.info);
  switch (ppp.protocol) {
    case 0xc021:
      checkControl(t, "lcp", LCP_OPTIONS, decodeLcp(body), frame, at);
      return;
    case 0x8021:
      checkControl(t, "ipcp", IPCP_OPTIONS, decodeIpcp(body), frame, at);
      return;
    case 0x8057:
      checkControl(t, "ipv6cp", IPV6CP_OPTIONS, decodeIpv6cp(body), frame, at);
      return;
    case 0xc023: {
      const r = decodePap(body);
      const pap = layer(frame, "pap");
      if (!r.ok) {
        t.fail(`${at}: decodePap: ${r.error.code} ${r.error.reason}`);
        return;
      }
      t.equal(PapCode[r.value.kind], num(pap, "pap.code"), `${at}: PAP Code`);
      t.equal(r.value.identifier, num(pap, "pap.identifier"), `${at}: PAP Identifier`);
      if (r.value.kind === "AuthReq") {
        t.equal(latin1(r.value.peerId), pap && fieldValue(pap, "pap.peer_id"), `${at}: Peer-ID`);
        t.equal(latin1(r.value.password), pap && fieldValue(pap, "pap.password"), `${at}: Password`);
      } else {
        t.equal(latin1(r.value.message), pap && fieldValue(pap, "pap.message"), `${at}: PAP Message`);
      }
      return;
    }
    case 0xc223: {
      const r = decodeChap(body);
      const chap = layer(frame, "chap");
      if (!r.ok) {
        t.fail(`${at}: decodeChap: ${r.error.code} ${r.error.reason}`);
        return;
      }
      t.equal(ChapCode[r.value.kind], num(chap, "chap.code"), `${at}: CHAP Code`);
      t.equal(r.value.identifier, num(chap, "chap.identifier"), `${at}: CHAP Identifier`);
      if (r.value.kind === "Challenge" || r.value.kind === "Response") {
        t.same(Buffer.from(r.value.value), bytesField((chap && fieldValue(chap, "chap.value")) ?? ""), `${at}: CHAP Value`);
        t.equal(latin1(r.value.name), chap && fieldValue(chap, "chap.name"), `${at}: CHAP Name`);
      }
      return;
    }
    case 0x0021:
    case 0x0057: {
      // IPv4 / IPv6 inside PPP: the version nibble matches the protocol tshark dissected.
      const inner = ppp.protocol === 0x0021 ? "ip" : "ipv6";
      t.equal(layersNamed(frame, inner).length, inner === "ip" ? 2 : 1, `${at}: ${inner} inside PPP`);
      t.equal((body[0] ?? 0) >> 4, inner === "ip" ? 4 : 6, `${at}: IP version`);
      return;
    }
    default:
      t.fail(`${at}: PPP protocol 0x${ppp.protocol.toString(16)} not expected in the captures`);
  }
}

void t.test("our L2TP and PPP codecs read every captured packet as tshark does", async (t) => {
  if (!hasTshark) {
    t.fail(NO_TSHARK);
    return;
  }
  for (const cap of captures) {
    const frames = await dissect(cap.packets.map((p) => ({ udpPayload: hex(p.udpPayloadHex), from: p.from, to: p.to })));
    cap.packets.forEach((p, i) => {
      const frame = frames[i];
      if (frame === undefined) return;
      const at = `${cap.name} frame ${p.frame}`;
      const payload = hex(p.udpPayloadHex);
      const header = decodeL2tpHeader(payload);
      if (!header.ok) {
        t.fail(`${at}: decodeL2tpHeader: ${header.error.code} ${header.error.reason}`);
        return;
      }
      const h = header.value;
      t.equal(h.kind, fieldValue(frame, "l2tp.type") === "1" ? "control" : "data", `${at}: T bit`);
      t.equal(h.tunnelId, num(frame, "l2tp.tunnel"), `${at}: Tunnel ID`);
      t.equal(h.sessionId, num(frame, "l2tp.session"), `${at}: Session ID`);
      if (h.kind === "control") {
        t.equal(h.length, num(frame, "l2tp.length"), `${at}: Length`);
        compareL2tpControl(t, payload, frame, cap, at);
      } else {
        t.equal(h.withLength, fieldValue(frame, "l2tp.length_bit") === "1", `${at}: L bit`);
        t.equal(h.ns, num(frame, "l2tp.Ns"), `${at}: data Ns (absent in these captures)`);
        comparePpp(t, payload.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength), frame, at);
      }
    });
  }
});
