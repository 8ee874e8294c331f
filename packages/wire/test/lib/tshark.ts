// Test harness around Wireshark's tshark: writes UDP/1701 payloads into a temporary pcap (with
// src/pcap.ts), runs `tshark -r FILE -T json`, and returns each frame's dissection tree plus any
// malformed/expert markers, so tests can hold our L2TP/PPP codecs against an independent decoder.
// Runs in the test process (spawns tshark; the TSHARK environment variable overrides the path).
//
// Field names relied on (tshark 4.0, `tshark -G fields`):
//   frame.number, frame.protocols ("raw:ip:udp:l2tp:ppp:lcp", "sll:ethertype:ip:udp:l2tp")
//   udp.payload (bytes as "c8:02:...")
//   l2tp.flags + l2tp.flags_tree {l2tp.type, l2tp.length_bit, l2tp.seq_bit, l2tp.offset_bit,
//     l2tp.priority, l2tp.version}, l2tp.length, l2tp.tunnel, l2tp.session, l2tp.Ns, l2tp.Nr,
//     l2tp.offset, l2tp.zero_length_body_message (ZLB)
//   one object per AVP, keyed by a label such as "Control Message AVP", holding l2tp.avp.mandatory,
//     l2tp.avp.hidden, l2tp.avp.length, l2tp.avp.vendor_id, l2tp.avp.type and the value fields
//     (a hidden AVP holds only mandatory, hidden and length: its label is the one sign of its type):
//     l2tp.avp.message_type, l2tp.avp.protocol_version/_revision, l2tp.avp.host_name,
//     l2tp.avp.assigned_tunnel_id, l2tp.avp.assigned_session_id, l2tp.avp.chap_challenge,
//     l2tp.avp.chap_challenge_response, l2tp.result_code (sic, no ".avp"), l2tp.avp.error_code,
//     l2tp.avp.error_message, l2tp.avp.call_serial_number, l2tp.avp.connect_speed,
//     l2tp.avp.rx_connect_speed, l2tp.avp.receive_window_size, l2tp.avp.random_vector, ...
//   ppp.address, ppp.control, ppp.protocol ("0xc021"), ppp.direction (from the link layer; ignored)
//   LCP/IPCP/IPV6CP/CCP carry their header as ppp.code, ppp.identifier, ppp.length; each option
//     is "<p>.opt.<name>" (raw option bytes) + "<p>.opt.<name>_tree" {<p>.opt.type,
//     <p>.opt.length, value fields: lcp.opt.mru, lcp.opt.auth_protocol, lcp.opt.algorithm,
//     lcp.opt.magic_number, lcp.opt.asyncmap, lcp.opt.mrru, lcp.opt.ep_disc_class,
//     ipcp.opt.ip_address, ipcp.opt.pri_dns_address, ipv6cp.interface_identifier ...}; IPV6CP
//     option 2 comes with IPCP's names (ipcp.opt.type, ipcp.opt.compress_proto, ipcp.data)
//   lcp.magic_number, lcp.data (Echo, Discard), lcp.rej_proto (Protocol-Reject, the rejected
//     packet nested as its protocol's layer), ppp.data (Terminate, Code-Reject)
//   chap.code, chap.identifier, chap.length, chap.data {chap.value_size, chap.value, chap.name},
//     chap.message; pap.code, pap.identifier, pap.length, pap.data {pap.peer_id.length,
//     pap.peer_id, pap.password.length, pap.password} / {pap.message.length, pap.message}
//   <proto>.checksum.status ("1" good, "0" bad, "2" unverified): ip/tcp/udp only when the caller
//     passes -o ip.check_checksum:TRUE (tcp., udp. likewise); icmp and icmpv6 always
//   _ws.malformed, _ws.expert {<field>, _ws.expert.message, _ws.expert.severity, _ws.expert.group}
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildIpv4Udp, encodePcap, LINKTYPE_RAW } from "../../src/pcap.js";
import { isJsonArray, isJsonObject, member, parseOrderedJson } from "./ordered-json.js";
import type { JsonEntry, JsonObject, JsonValue } from "./ordered-json.js";

export type { JsonEntry, JsonObject, JsonValue } from "./ordered-json.js";

const TSHARK = process.env.TSHARK ?? "tshark";

export interface Endpoint {
  readonly addr: string;
  readonly port: number;
}

/** Defaults for dissect(): TEST-NET-1 addresses, both ends on the L2TP port. */
export const DEFAULT_FROM: Endpoint = { addr: "192.0.2.1", port: 1701 };
export const DEFAULT_TO: Endpoint = { addr: "192.0.2.2", port: 1701 };

export interface DissectInput {
  readonly udpPayload: Uint8Array;
  readonly from?: Endpoint;
  readonly to?: Endpoint;
  readonly timestampUs?: number;
}

export type ExpertSeverity = "comment" | "chat" | "note" | "warning" | "error" | "unknown";

export interface Expert {
  readonly severity: ExpertSeverity;
  readonly message: string;
  /** The field that carries the expert item, e.g. "l2tp.avp_length.bad", when tshark names one. */
  readonly field?: string;
}

export interface Frame {
  readonly number: number;
  /** frame.protocols split on ":", e.g. ["raw", "ip", "udp", "l2tp", "ppp", "lcp"]. */
  readonly protocols: readonly string[];
  /** _source.layers: one entry per protocol layer, in order, duplicates kept (outer/inner "ip"). */
  readonly layers: JsonObject;
  readonly experts: readonly Expert[];
  /**
   * Every sign of a bad packet found anywhere in the tree: "error: <message> [field]" and
   * "warning: ..." expert items, and "Malformed Packet" when tshark flagged the frame so.
   * Empty for a clean dissection.
   */
  readonly malformed: readonly string[];
}

function run(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(TSHARK, args, { maxBuffer: 512 * 1024 * 1024, encoding: "utf8" }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${TSHARK} ${args.join(" ")} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** tshark's version line ("TShark (Wireshark) 4.0.17 ..."), or undefined when it cannot run. */
export async function tsharkVersion(): Promise<string | undefined> {
  try {
    const out = await run(["--version"]);
    return out.split("\n")[0]?.trim();
  } catch {
    return undefined;
  }
}

/** Whether tshark can be run; tests should fail with "install tshark" when it is not. */
export async function tsharkAvailable(): Promise<boolean> {
  return (await tsharkVersion()) !== undefined;
}

/** Dissects a capture file (any link type tshark reads). */
export async function dissectFile(path: string, extraArgs: readonly string[] = []): Promise<Frame[]> {
  // -n: no name resolution, so addresses print as numbers whatever the host's resolver says.
  const out = await run(["-n", "-r", path, "-T", "json", ...extraArgs]);
  return framesFromTsharkJson(out);
}

/**
 * Writes each payload as an IPv4/UDP packet (default 192.0.2.1:1701 -> 192.0.2.2:1701, which
 * tshark decodes as L2TP) into a LINKTYPE_RAW pcap and dissects it: one Frame per input, in order.
 */
export async function dissect(packets: readonly DissectInput[], extraArgs: readonly string[] = []): Promise<Frame[]> {
  const records = packets.map((p, i) => {
    const from = p.from ?? DEFAULT_FROM;
    const to = p.to ?? DEFAULT_TO;
    const data = buildIpv4Udp({ src: from.addr, srcPort: from.port, dst: to.addr, dstPort: to.port, payload: p.udpPayload, id: i & 0xffff });
    return p.timestampUs === undefined ? { data } : { data, timestampUs: p.timestampUs };
  });
  const dir = await mkdtemp(join(tmpdir(), "lnsd-tshark-"));
  try {
    const file = join(dir, "packets.pcap");
    await writeFile(file, encodePcap(records, { linktype: LINKTYPE_RAW }));
    const frames = await dissectFile(file, extraArgs);
    if (frames.length !== packets.length) throw new Error(`tshark returned ${frames.length} frames for ${packets.length} packets`);
    return frames;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Reading the tree

function severityName(v: string | undefined): ExpertSeverity {
  // epan/proto.h PI_COMMENT..PI_ERROR, printed as decimal.
  switch (Number(v)) {
    case 0x00100000:
      return "comment";
    case 0x00200000:
      return "chat";
    case 0x00400000:
      return "note";
    case 0x00600000:
      return "warning";
    case 0x00800000:
      return "error";
    default:
      return "unknown";
  }
}

function leafText(v: JsonValue | undefined): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}

/** Every entry under `v`, depth first, in document order (arrays from merged keys included). */
function* walk(v: JsonValue, key = ""): Generator<JsonEntry> {
  if (isJsonObject(v)) {
    for (const e of v.entries) {
      yield e;
      yield* walk(e.value, e.key);
    }
  } else if (isJsonArray(v)) {
    for (const item of v.items) {
      yield { key, value: item };
      yield* walk(item, key);
    }
  }
}

function collectExperts(layers: JsonObject): { experts: Expert[]; malformed: string[] } {
  const experts: Expert[] = [];
  let malformedFlag = false;
  for (const e of walk(layers)) {
    if (e.key === "_ws.malformed" || e.key.includes("Malformed Packet") || leafText(e.value)?.includes("Malformed Packet") === true) {
      malformedFlag = true;
    }
    if (e.key === "_ws.expert" && isJsonObject(e.value)) {
      const message = leafText(member(e.value, "_ws.expert.message")) ?? "";
      const severity = severityName(leafText(member(e.value, "_ws.expert.severity")));
      const field = e.value.entries.find((x) => !x.key.startsWith("_ws."))?.key;
      experts.push(field === undefined ? { severity, message } : { severity, message, field });
    }
  }
  const malformed = experts
    .filter((x) => x.severity === "error" || x.severity === "warning")
    .map((x) => `${x.severity}: ${x.message}${x.field === undefined ? "" : ` [${x.field}]`}`);
  if (malformedFlag) malformed.push("Malformed Packet");
  return { experts, malformed };
}

/** Parses `tshark -T json` output into frames. */
export function framesFromTsharkJson(text: string): Frame[] {
  const doc = parseOrderedJson(text);
  if (!isJsonArray(doc)) throw new Error("tshark -T json: expected an array of packets");
  return doc.items.map((pkt, i) => {
    const source = isJsonObject(pkt) ? member(pkt, "_source") : undefined;
    const layers = isJsonObject(source) ? member(source, "layers") : undefined;
    if (!isJsonObject(layers)) throw new Error(`tshark -T json: packet ${i} has no _source.layers`);
    const frameLayer = member(layers, "frame");
    const number = Number((isJsonObject(frameLayer) ? leafText(member(frameLayer, "frame.number")) : undefined) ?? i + 1);
    const protocols = (isJsonObject(frameLayer) ? leafText(member(frameLayer, "frame.protocols")) : undefined) ?? "";
    return { number, protocols: protocols === "" ? [] : protocols.split(":"), layers, ...collectExperts(layers) };
  });
}

/** Every layer object named `name` ("ip" twice for IP in PPP in L2TP over IP), in order. */
export function layersNamed(frame: Frame, name: string): JsonObject[] {
  return frame.layers.entries.filter((e) => e.key === name).map((e) => e.value).filter(isJsonObject);
}

/** The first layer named `name`. */
export function layer(frame: Frame, name: string): JsonObject | undefined {
  return layersNamed(frame, name)[0];
}

/** Every value of field `name` anywhere under `node` (a layer, an AVP, or the whole frame), in order. */
export function fieldValues(node: Frame | JsonObject, name: string): string[] {
  const root = "layers" in node ? node.layers : node;
  const out: string[] = [];
  for (const e of walk(root)) {
    if (e.key !== name) continue;
    const t = leafText(e.value);
    if (t !== undefined) out.push(t);
  }
  return out;
}

/** The first value of field `name` under `node`. */
export function fieldValue(node: Frame | JsonObject, name: string): string | undefined {
  return fieldValues(node, name)[0];
}

/** A numeric field ("1701", "0xc021") as a number; undefined when absent or not numeric. */
export function fieldNumber(node: Frame | JsonObject, name: string): number | undefined {
  const t = fieldValue(node, name);
  if (t === undefined || !/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(t)) return undefined;
  return Number(t);
}

/** Bytes printed as "c8:02:00" (or "" for none) back to a Buffer. */
export function bytesField(text: string): Buffer {
  return Buffer.from(text.replace(/:/g, ""), "hex");
}

function directChildHas(obj: JsonObject, key: string): boolean {
  return obj.entries.some((e) => e.key === key);
}

/** A group of fields found under the member `key` of its parent object. */
interface KeyedGroup {
  readonly key: string;
  readonly parent: JsonObject;
  readonly group: JsonObject;
}

/** Objects under `root` with a direct member that `holds`, in order (not descending into a match). */
function keyedGroups(root: JsonObject, holds: (key: string) => boolean): KeyedGroup[] {
  const out: KeyedGroup[] = [];
  const visit = (parent: JsonObject, key: string, v: JsonValue): void => {
    if (isJsonArray(v)) {
      for (const item of v.items) visit(parent, key, item);
      return;
    }
    if (!isJsonObject(v)) return;
    if (v !== root && v.entries.some((e) => holds(e.key))) {
      out.push({ key, parent, group: v });
      return;
    }
    for (const e of v.entries) visit(v, e.key, e.value);
  };
  visit(root, "", root);
  return out;
}

/** Objects under `root` that directly hold field `key`, in order (not descending into a match). */
function groupsHolding(root: JsonObject, key: string): JsonObject[] {
  return keyedGroups(root, (k) => k === key).map((g) => g.group);
}

/** An AVP as tshark shows it: the member it sits under ("Host Name AVP") and its fields. */
export interface TsharkAvp {
  readonly label: string;
  readonly fields: JsonObject;
}

/**
 * The AVPs of the (first) L2TP layer in wire order, hidden ones included. tshark 4.0 gives a
 * hidden AVP only l2tp.avp.mandatory, l2tp.avp.hidden and l2tp.avp.length, no l2tp.avp.type: its
 * type shows in the label alone.
 */
export function l2tpAvpEntries(frame: Frame): TsharkAvp[] {
  const l2tp = layer(frame, "l2tp");
  return l2tp === undefined ? [] : keyedGroups(l2tp, (k) => k === "l2tp.avp.hidden").map((g) => ({ label: g.key, fields: g.group }));
}

/** The AVPs of the (first) L2TP layer, each the object holding its flags, type and value fields. */
export function l2tpAvps(frame: Frame): JsonObject[] {
  return l2tpAvpEntries(frame).map((a) => a.fields);
}

/**
 * Configuration options of a PPP control layer ("lcp", "ipcp", "ipv6cp", "ccp"): one object per
 * option, holding "<proto>.opt.type", "<proto>.opt.length" and the option's value fields.
 */
export function pppOptions(frame: Frame, proto: string): JsonObject[] {
  const l = layer(frame, proto);
  return l === undefined ? [] : groupsHolding(l, `${proto}.opt.type`);
}

/** A configuration option as tshark shows it: its raw bytes ("01:04:05:dc") and its fields. */
export interface TsharkOption {
  readonly raw?: string;
  readonly fields: JsonObject;
}

/**
 * The configuration options under `node` (a PPP control layer, or the packet an LCP
 * Protocol-Reject carries), in order. An option is the object holding any "*.opt.type": tshark
 * 4.0 dissects IPV6CP option 2 with IPCP's fields ("ipcp.opt.type" inside the ipv6cp layer).
 * The raw bytes are the sibling "<field>" of the "<field>_tree" the option's fields sit in.
 */
export function pppOptionEntries(node: JsonObject): TsharkOption[] {
  return keyedGroups(node, (k) => k.endsWith(".opt.type")).map((g) => {
    const raw = g.key.endsWith("_tree") ? leafText(member(g.parent, g.key.slice(0, -"_tree".length))) : undefined;
    return raw === undefined ? { fields: g.group } : { raw, fields: g.group };
  });
}

/**
 * The top-level layer named `name` that comes after the first layer named `after`: the IP packet
 * inside PPP is layerAfter(frame, "ppp", "ip"), not the outer IP that carried the UDP datagram.
 */
export function layerAfter(frame: Frame, after: string, name: string): JsonObject | undefined {
  const from = frame.layers.entries.findIndex((e) => e.key === after);
  if (from < 0) return undefined;
  const found = frame.layers.entries.slice(from + 1).find((e) => e.key === name)?.value;
  return isJsonObject(found) ? found : undefined;
}

// ---------------------------------------------------------------------------------------------
// A stable summary of what tshark decoded, stored beside captured packets and compared on replay

/** Field name -> value; a field that occurs more than once keeps all its values in order. */
export type FieldMap = Record<string, string | string[]>;

export interface TsharkSummary {
  /** frame.protocols after the outer UDP, e.g. "l2tp:ppp:lcp" or "l2tp:ppp:ip:icmp:data". */
  readonly protocols: string;
  readonly l2tp?: { readonly header: FieldMap; readonly avps: FieldMap[] };
  /** ppp.address, ppp.control, ppp.protocol. */
  readonly ppp?: FieldMap;
  /** The PPP control protocol layer (lcp, pap, chap, ipcp, ipv6cp, ccp): header fields and options. */
  readonly control?: { readonly layer: string; readonly fields: FieldMap; readonly options: FieldMap[] };
  /** The first IPv4/IPv6 packet inside PPP. */
  readonly inner?: { readonly layer: string; readonly src?: string; readonly dst?: string };
  readonly malformed: readonly string[];
}

const CONTROL_LAYERS = ["lcp", "pap", "chap", "ipcp", "ipv6cp", "ccp"];
// Depends on the capture's link layer (Linux SLL packet type), not on the bytes we test.
const IGNORED_FIELDS = new Set(["ppp.direction"]);

function addField(map: FieldMap, key: string, value: string): void {
  const prev = Object.hasOwn(map, key) ? map[key] : undefined;
  if (prev === undefined) map[key] = value;
  else if (typeof prev === "string") map[key] = [prev, value];
  else prev.push(value);
}

/**
 * Leaf fields under `obj`, skipping _ws.* (reported as malformed/experts), the `skip` groups
 * (AVPs, options: summarized on their own) and the `skipKeys` fields.
 */
function flatten(obj: JsonObject, skip: ReadonlySet<JsonObject> = new Set(), skipKeys: ReadonlySet<string> = new Set()): FieldMap {
  const into: FieldMap = {};
  const visit = (key: string, v: JsonValue): void => {
    if (key.startsWith("_ws.") || IGNORED_FIELDS.has(key) || skipKeys.has(key)) return;
    if (isJsonObject(v)) {
      if (!skip.has(v)) for (const e of v.entries) visit(e.key, e.value);
    } else if (isJsonArray(v)) {
      for (const item of v.items) visit(key, item);
    } else {
      const t = leafText(v);
      if (t !== undefined) addField(into, key, t);
    }
  };
  for (const e of obj.entries) visit(e.key, e.value);
  return into;
}

/**
 * A PPP control layer: its header and other fields, and its options. tshark puts each option as
 * "<p>.opt.<name>": raw bytes, beside "<p>.opt.<name>_tree": {<p>.opt.type, ...}; the option map
 * holds both.
 */
function controlSummary(control: JsonObject, typeKey: string): { fields: FieldMap; options: FieldMap[] } {
  const groups = new Set<JsonObject>();
  const rawKeys = new Set<string>();
  const options: FieldMap[] = [];
  const visit = (obj: JsonObject): void => {
    for (const e of obj.entries) {
      if (!isJsonObject(e.value)) continue;
      if (!directChildHas(e.value, typeKey)) {
        visit(e.value);
        continue;
      }
      groups.add(e.value);
      const rawKey = e.key.endsWith("_tree") ? e.key.slice(0, -"_tree".length) : undefined;
      const raw = rawKey === undefined ? undefined : leafText(member(obj, rawKey));
      const option: FieldMap = {};
      if (rawKey !== undefined && raw !== undefined) {
        rawKeys.add(rawKey);
        option[rawKey] = raw;
      }
      options.push(Object.assign(option, flatten(e.value)));
    }
  };
  visit(control);
  return { fields: flatten(control, groups, rawKeys), options };
}

export function summarize(frame: Frame): TsharkSummary {
  const udpAt = frame.protocols.indexOf("udp");
  const upper = udpAt < 0 ? [] : frame.protocols.slice(udpAt + 1);
  const summary: {
    protocols: string;
    l2tp?: { header: FieldMap; avps: FieldMap[] };
    ppp?: FieldMap;
    control?: { layer: string; fields: FieldMap; options: FieldMap[] };
    inner?: { layer: string; src?: string; dst?: string };
    malformed: readonly string[];
  } = { protocols: upper.join(":"), malformed: frame.malformed };

  const l2tp = layer(frame, "l2tp");
  if (l2tp !== undefined) {
    const avps = groupsHolding(l2tp, "l2tp.avp.type");
    summary.l2tp = { header: flatten(l2tp, new Set(avps)), avps: avps.map((a) => flatten(a)) };
  }
  const ppp = layer(frame, "ppp");
  if (ppp !== undefined) summary.ppp = flatten(ppp);

  const controlName = upper.find((p) => CONTROL_LAYERS.includes(p));
  const control = controlName === undefined ? undefined : layer(frame, controlName);
  if (controlName !== undefined && control !== undefined) {
    summary.control = { layer: controlName, ...controlSummary(control, `${controlName}.opt.type`) };
  }

  // The first IP layer after PPP: skip the outer ip that carried the UDP datagram.
  const pppAt = upper.indexOf("ppp");
  const innerName = pppAt < 0 ? undefined : upper.slice(pppAt + 1).find((p) => p === "ip" || p === "ipv6");
  if (innerName !== undefined) {
    const outerCount = frame.protocols.slice(0, udpAt).filter((p) => p === innerName).length;
    const inner = layersNamed(frame, innerName)[outerCount];
    if (inner !== undefined) {
      const src = fieldValue(inner, `${innerName}.src`);
      const dst = fieldValue(inner, `${innerName}.dst`);
      summary.inner = { layer: innerName, ...(src === undefined ? {} : { src }), ...(dst === undefined ? {} : { dst }) };
    }
  }
  return summary;
}
