// Settings of the PPP layer, named after l2tpns's startup-config(5) where it has them, with the
// MRU arithmetic for PPP inside L2TP. Pure data and helpers.
import { parseIpv4 } from "@lnsd/wire";

/** RFC 1661 6.1: the default (and, for lnsd, the largest) MRU. */
export const DEFAULT_MRU = 1500;
/** The smallest MRU accepted from a peer: the IPv4 minimum MTU (RFC 791). */
export const MIN_MRU = 68;

/**
 * Bytes between the L2TP path MTU and the PPP Information field of a frame from the LAC:
 *   IPv4 header 20 + UDP 8
 *   + L2TP data header 6 (flags/version, Tunnel ID, Session ID: no Length, Ns/Nr or Offset,
 *     which is what l2tpns and the Linux kernel LAC send; RFC 2661 3.1)
 *   + PPP Address and Control 2 (FF 03, RFC 1662 3.1) + Protocol 2 (RFC 1661 2).
 * The MRU counts only the Information field (RFC 1661 2, 6.1), hence 1500 - 38 = 1462.
 */
export const L2TP_PPP_OVERHEAD = 20 + 8 + 6 + 2 + 2;

/**
 * The MRU to offer for an L2TP path of `l2tpMtu` (l2tp_mtu). Capped at 1500, the default MRU that
 * the rest of the Internet path carries anyway, and reached when the LAC-LNS path allows it
 * (l2tp_mtu >= 1538: RFC 4638 makes the same point for PPPoE); never a fixed 1492.
 */
export function mruForL2tpMtu(l2tpMtu: number): number {
  if (!Number.isFinite(l2tpMtu) || l2tpMtu <= 0) return DEFAULT_MRU - L2TP_PPP_OVERHEAD;
  return Math.max(MIN_MRU, Math.min(DEFAULT_MRU, Math.floor(l2tpMtu) - L2TP_PPP_OVERHEAD));
}

/** Timers and counters shared by both roles (RFC 1661 4.6, l2tpns keepalive settings). */
export interface PppCommonConfig {
  /** ppp_restart_time, in ms (default 3 s). */
  readonly restartTimeMs: number;
  /** ppp_max_configure (default 10). */
  readonly maxConfigure: number;
  /** Max-Terminate (RFC 1661 4.6, default 2). */
  readonly maxTerminate: number;
  /** ppp_max_failure (default 5). */
  readonly maxFailure: number;
  /**
   * echo_timeout, in ms (default 10 s; 0 disables Echo-Requests and the idle drop). With
   * echoOnlyWhenIdle an Echo-Request goes out when nothing was received for this long, then
   * every echoIntervalMs while the silence lasts.
   */
  readonly echoIntervalMs: number;
  /** idle_echo_timeout, in ms (default 240 s; 0 never drops): nothing received for this long ends the session. */
  readonly idleEchoTimeoutMs: number;
  /** ppp_keepalive (default true): Echo only on a silent link; false sends one every echoIntervalMs. */
  readonly echoOnlyWhenIdle: boolean;
  /** Authentication must complete within this (default Max-Configure Restart periods: 30 s). */
  readonly authTimeoutMs: number;
  /**
   * Told of each LCP Echo-Request's fate (line quality: metrics). A callback rather than data,
   * so that whoever builds the config can observe every session's keepalive without a hook per link.
   */
  readonly onEcho?: (sample: EchoSample) => void;
}

/** An Echo-Reply to one of our Echo-Requests, with its round trip; or a request that got none. */
export type EchoSample = { readonly kind: "reply"; readonly rttMs: number } | { readonly kind: "lost" };

export type AuthProtocolName = "pap" | "chap";

export interface PppServerConfig extends PppCommonConfig {
  /** l2tp_mtu (default 1500): the MRU offered is mruForL2tpMtu(l2tpMtu). */
  readonly l2tpMtu: number;
  /** radius_authtypes: protocols to ask the peer for, most preferred first (default pap). */
  readonly authProtocols: readonly AuthProtocolName[];
  /** Name in our CHAP Challenges (l2tpns: the hostname). */
  readonly hostName: string;
  /** Our IP-Address in IPCP (l2tpns: peer_address, else its own address); none when unset. */
  readonly localAddress?: string;
  /** primary_dns / secondary_dns, used when the authentication result gives none; 0.0.0.0 = none. */
  readonly primaryDns?: string;
  readonly secondaryDns?: string;
  /** Run IPV6CP (l2tpns: ipv6_prefix is set); else IPV6CP is Protocol-Rejected. */
  readonly ipv6: boolean;
  /** Our IPV6CP Interface-Identifier (8 octets; default ::1, as l2tpns). */
  readonly localInterfaceId: Uint8Array;
}

export interface PppClientConfig extends PppCommonConfig {
  readonly username: string;
  readonly password: string;
  /** Authentication protocols we agree to, most preferred first (what we Nak with). */
  readonly authProtocols: readonly AuthProtocolName[];
  /** An MRU to ask for; none (the 1500 default) when unset. */
  readonly mru?: number;
  /** Ask for DNS servers (RFC 1877 129/131) in IPCP. */
  readonly requestDns: boolean;
  /** Run IPV6CP. */
  readonly ipv6: boolean;
}

export const DEFAULT_COMMON_CONFIG: PppCommonConfig = {
  restartTimeMs: 3_000,
  maxConfigure: 10,
  maxTerminate: 2,
  maxFailure: 5,
  echoIntervalMs: 10_000,
  idleEchoTimeoutMs: 240_000,
  echoOnlyWhenIdle: true,
  authTimeoutMs: 30_000,
};

export const DEFAULT_SERVER_CONFIG: PppServerConfig = {
  ...DEFAULT_COMMON_CONFIG,
  l2tpMtu: 1500,
  authProtocols: ["pap"],
  hostName: "lnsd",
  ipv6: false,
  localInterfaceId: Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 1]),
};

export const DEFAULT_CLIENT_CONFIG: PppClientConfig = {
  ...DEFAULT_COMMON_CONFIG,
  // A client answers Echo-Requests; it sends none unless asked to.
  echoIntervalMs: 0,
  idleEchoTimeoutMs: 0,
  username: "",
  password: "",
  authProtocols: ["chap", "pap"],
  requestDns: true,
  ipv6: false,
};

/**
 * Defaults filled in, with the authentication timeout following the Restart timer and
 * Max-Configure unless it was given.
 */
export function withDefaults<C extends PppCommonConfig>(defaults: C, partial: Partial<C> | undefined): C {
  const merged: C = { ...defaults, ...partial };
  return partial?.authTimeoutMs === undefined ? { ...merged, authTimeoutMs: merged.restartTimeMs * merged.maxConfigure } : merged;
}

/** A configured address, 0.0.0.0 meaning "none" (l2tpns convention). */
export function optionalIpv4(text: string | undefined): number | undefined {
  const n = text === undefined ? undefined : parseIpv4(text);
  return n === undefined || n === 0 ? undefined : n;
}

/** Random bytes (crypto in the daemon, seeded in tests). */
export type RandomSource = (n: number) => Uint8Array;

/** A non-zero 32-bit Magic-Number (RFC 1661 6.4: zero is illegal). */
export function randomMagic(random: RandomSource): number {
  for (let i = 0; i < 8; i++) {
    const b = random(4);
    const v = (((b[0] ?? 0) << 24) | ((b[1] ?? 0) << 16) | ((b[2] ?? 0) << 8) | (b[3] ?? 0)) >>> 0;
    if (v !== 0) return v;
  }
  return 0x4c4e5344; // "LNSD": only reached with a broken random source
}
