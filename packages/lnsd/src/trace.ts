// One-line descriptions of L2TP packets (control messages with their AVPs, data messages with
// the PPP frame inside), for the l2tp-trace tool, the demo and debug level 5 packet logging.
import {
  avpName,
  decodeCcp,
  decodeChap,
  decodeControlMessage,
  decodeIpcp,
  decodeIpv6cp,
  decodeL2tpHeader,
  decodeLcp,
  decodePap,
  decodePppFrame,
  decodeIpv4Header,
  formatIpv4,
  isKnownAvpType,
  l2tpMessageTypeName,
  PppProtocol,
  pppProtocolName,
  type L2tpAvpMessage,
} from "@lnsd/wire";

function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "bigint") return `0x${v.toString(16)}`;
  if (v instanceof Uint8Array) return `<${Buffer.from(v).toString("hex")}>`;
  if (Array.isArray(v)) return `[${v.map(show).join(", ")}]`;
  if (typeof v === "object" && v !== null) {
    return `{${Object.entries(v)
      .map(([k, x]) => `${k}: ${show(x)}`)
      .join(", ")}}`;
  }
  return String(v);
}

/** A PPP option as name=value (ipv4-valued options are kept as numbers by the codec). */
function showOption(o: unknown): string {
  if (typeof o !== "object" || o === null || !("name" in o)) return show(o);
  const name = String(o.name);
  if (!("value" in o)) return name;
  const v = o.value;
  if (typeof v === "number" && /address|dns|nbns/i.test(name)) return `${name}=${formatIpv4(v)}`;
  return `${name}=${show(v)}`;
}

function describeAvps(m: L2tpAvpMessage): string {
  const parts: string[] = [];
  for (const r of m.received) {
    if (!isKnownAvpType(r.type) || r.type === 0) continue;
    parts.push(`${avpName(r.type)}${r.hidden ? " (hidden)" : ""}=${show(m.avps[r.type])}`);
  }
  for (const u of m.unknown) parts.push(`vendor ${u.vendorId} type ${u.attributeType}${u.mandatory ? " M" : ""}=<${Buffer.from(u.value).toString("hex")}>`);
  return parts.join(", ");
}

/** A PPP frame (from FF 03 or the protocol field) in one line. */
export function describePpp(frame: Uint8Array): string {
  const f = decodePppFrame(frame);
  if (!f.ok) return `PPP malformed: ${f.error.reason}`;
  const { protocol, info } = f.value;
  const name = pppProtocolName(protocol);
  const control = (r: { ok: true; value: { kind: string; identifier: number } } | { ok: false; error: { reason: string } }): string => {
    if (!r.ok) return `${name} malformed: ${r.error.reason}`;
    const p = r.value;
    const opts = "options" in p && Array.isArray(p.options) ? ` ${(p.options as unknown[]).map(showOption).join(" ")}` : "";
    return `${name} ${p.kind} id ${p.identifier}${opts}`;
  };
  switch (protocol) {
    case PppProtocol.LCP:
      return control(decodeLcp(info));
    case PppProtocol.IPCP:
      return control(decodeIpcp(info));
    case PppProtocol.IPV6CP:
      return control(decodeIpv6cp(info));
    case PppProtocol.CCP:
      return control(decodeCcp(info));
    case PppProtocol.PAP: {
      const p = decodePap(info);
      return p.ok ? `PAP ${show(p.value)}` : `PAP malformed: ${p.error.reason}`;
    }
    case PppProtocol.CHAP: {
      const c = decodeChap(info);
      return c.ok ? `CHAP ${show(c.value)}` : `CHAP malformed: ${c.error.reason}`;
    }
    case PppProtocol.IPv4: {
      const ip = decodeIpv4Header(info);
      return ip.ok ? `IPv4 ${formatIpv4(ip.value.src)} > ${formatIpv4(ip.value.dst)} proto ${ip.value.protocol} len ${ip.value.totalLength}` : `IPv4 malformed: ${ip.error.reason}`;
    }
    default:
      return `${name} ${info.length} octets`;
  }
}

/** An L2TP packet (a UDP payload) in one line. */
export function describeL2tp(packet: Uint8Array, secret?: string): string {
  const h = decodeL2tpHeader(packet);
  if (!h.ok) return `malformed L2TP: ${h.error.reason}`;
  const hd = h.value;
  if (hd.kind === "data") {
    const seq = hd.ns === undefined ? "" : ` Ns ${hd.ns}`;
    return `data tunnel ${hd.tunnelId} session ${hd.sessionId}${seq}: ${describePpp(packet.subarray(hd.payloadOffset, hd.payloadOffset + hd.payloadLength))}`;
  }
  const m = decodeControlMessage(packet, secret === undefined ? {} : { secret });
  const where = `tunnel ${hd.tunnelId} session ${hd.sessionId} Ns ${hd.ns} Nr ${hd.nr}`;
  if (!m.ok) return `control ${where}: malformed: ${m.error.reason}`;
  if (m.value.messageType === "ZLB") return `ZLB ${where}`;
  return `${l2tpMessageTypeName(m.value.messageType)} ${where}: ${describeAvps(m.value)}`;
}
