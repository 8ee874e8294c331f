// Small helpers that l2tpns's plugins share: reading nsctl arguments the way l2tpns's C does
// (atoi, inet_addr, "a number is a session id, else a user"), answering a control command, and
// building a Cisco-AVPair attribute for radius_account. Plugins import them from here, their only
// dependency.
import { formatIpv4, parseIpv4 } from "@lnsd/wire";
import { PLUGIN_RET_STOP, type ControlParams, type PluginApi, type RadiusAttributeOut, type SessionView } from "./contract.js";

/** C's INADDR_NONE: what inetAddr answers for text that is no address. */
export const INADDR_NONE = 0xffffffff;

/** RFC 2865 5.26 Vendor-Specific; Cisco's vendor id and its AVPair attribute. */
const VENDOR_SPECIFIC = 26;
const VENDOR_CISCO = 9;
const CISCO_AVPAIR = 1;

/** C's atoi: leading blanks, a sign, digits; 0 when there are none. */
export function atoi(s: string): number {
  const m = /^\s*([+-]?\d+)/.exec(s);
  return m?.[1] === undefined ? 0 : Number.parseInt(m[1], 10);
}

/** C's inet_addr: a, a.b, a.b.c or a.b.c.d, each part decimal, 0x hex or 0 octal; INADDR_NONE when not. */
export function inetAddr(text: string): number {
  return parseIpv4(text, { syntax: "inet_addr" }) ?? INADDR_NONE;
}

/** An IPv4 address (a number) as a dotted quad. */
export const dotted: (a: number) => string = formatIpv4;

/** l2tpns: an argument that is a number (strtol, base 10, all of it) other than 0 is a session id; else 0. */
export function sessionIdArg(arg: string): number {
  return /^\s*[+-]?\d+$/.test(arg) ? Number.parseInt(arg, 10) : 0;
}

/** The session an nsctl argument names: by id when it is a number, else the user's. */
export function findTarget(api: PluginApi, arg: string): SessionView | undefined {
  const id = sessionIdArg(arg);
  return id !== 0 ? api.findSession(id) : api.findSessionByUser(arg);
}

/** A control hook's answer: the response, the lines nsctl prints, and STOP (handled). */
export function controlAnswer(p: ControlParams, response: "ok" | "error", additional?: string | readonly string[]): typeof PLUGIN_RET_STOP {
  p.response = response;
  p.additional = additional;
  return PLUGIN_RET_STOP;
}

/** A Cisco-AVPair Vendor-Specific attribute (at most 247 octets of text), for radius_account. */
export function ciscoAvPair(text: string): RadiusAttributeOut {
  const s = Buffer.from(text, "utf8").subarray(0, 247);
  const value = Buffer.alloc(6 + s.length);
  value.writeUInt32BE(VENDOR_CISCO, 0);
  value[4] = CISCO_AVPAIR;
  value[5] = 2 + s.length;
  s.copy(value, 6);
  return { type: VENDOR_SPECIFIC, value };
}
