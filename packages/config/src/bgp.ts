// The "router bgp AS" block of the startup-config: the local AS and the neighbours, with the
// defaults and limits l2tpns 2.4.1 applies (timers 60/180 s; keepalive 1-65535 s, hold 3-65535 s).
import { parseIpv4 } from "@lnsd/wire";

export const BGP_DEFAULT_KEEPALIVE_SECONDS = 60;
export const BGP_DEFAULT_HOLD_TIME_SECONDS = 180;

export interface BgpNeighbour {
  /** An IPv4 address or a host name, as written. */
  readonly peer: string;
  readonly remoteAs: number;
  readonly keepaliveSeconds: number;
  readonly holdTimeSeconds: number;
  /** Local address for the BGP session. */
  readonly updateSource?: string;
}

export interface BgpConfig {
  readonly as: number;
  readonly neighbours: readonly BgpNeighbour[];
}

/** l2tpns takes 2-byte AS numbers only (1-65535); lnsd also takes 4-byte ones (RFC 6793). */
export function parseAsNumber(text: string): number | string {
  if (!/^[0-9]+$/.test(text) || Number(text) < 1 || Number(text) > 4294967295) {
    return `'${text}' is not an AS number (1 to 4294967295)`;
  }
  return Number(text);
}

const LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
const HOST_NAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);

/** A neighbour is named by an IPv4 address or a DNS host name (startup-config(5)). */
export function checkPeer(peer: string): string | undefined {
  if (parseIpv4(peer, { syntax: "strict" }) !== undefined) return undefined;
  if (/^[0-9.]+$/.test(peer) || !HOST_NAME.test(peer) || peer.length > 253) {
    return `'${peer}' is not an IPv4 address or a host name`;
  }
  return undefined;
}

export function parseSeconds(text: string, min: number, what: string): number | string {
  if (!/^[0-9]+$/.test(text) || Number(text) < min || Number(text) > 65535) {
    return `'${text}' is not a valid ${what} (${min} to 65535 seconds)`;
  }
  return Number(text);
}
