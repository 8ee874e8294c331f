// Proxy LCP and proxy authentication (RFC 2661 4.4.5, 18): what the LAC negotiated with the peer
// before the call reached us, as the ICCN AVPs carry it. Pure helpers; the server session decides.
import { CHAP_MD5_VALUE_SIZE, LCP, type LcpOption, decodeLcp, decodeOptions } from "@lnsd/wire";
import type { AuthRequest } from "./auth.js";

/**
 * The ICCN proxy AVPs as the L2TP layer keeps them (field for field the `ProxyInfo` of
 * @lnsd/l2tp, so one can be passed as the other). The three CONFREQ values are raw octets.
 */
export interface PppProxyInfo {
  readonly initialReceivedLcpConfreq?: Uint8Array;
  readonly lastSentLcpConfreq?: Uint8Array;
  readonly lastReceivedLcpConfreq?: Uint8Array;
  readonly authenType?: number;
  readonly authenName?: string;
  readonly authenChallenge?: Uint8Array;
  readonly authenId?: number;
  readonly authenResponse?: Uint8Array;
}

/** RFC 2661 4.4.5 Proxy Authen Type. */
export const ProxyAuthenType = {
  Reserved: 0,
  /** Textual username/password exchange: handled as PAP. */
  Textual: 1,
  Chap: 2,
  Pap: 3,
  None: 4,
  MsChapV1: 5,
} as const;

/**
 * The options of a proxied LCP CONFREQ. RFC 2661 4.4.5 carries the Configure-Request from its
 * first option on; some LACs send the whole packet with its Code, Identifier and Length, which is
 * recognised (Code 1 and a Length equal to the size) and accepted too. Undefined when malformed.
 */
export function proxyLcpOptions(bytes: Uint8Array): LcpOption[] | undefined {
  if (bytes.length >= 4 && bytes[0] === 1 && (((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0)) === bytes.length) {
    const whole = decodeLcp(bytes);
    if (whole.ok && whole.value.kind === "ConfReq") return [...whole.value.options];
  }
  const options = decodeOptions(LCP.optionCodec, bytes, 0, bytes.length);
  return options.ok ? options.value : undefined;
}

/** The proxied credentials as a request for the authenticate callback, with the Identifier to answer. */
export function proxyAuthRequest(p: PppProxyInfo): { readonly request: AuthRequest; readonly identifier: number } | undefined {
  const name = p.authenName;
  if (name === undefined) return undefined;
  const peerId = Buffer.from(name, "utf8");
  const identifier = (p.authenId ?? 0) & 0xff;
  switch (p.authenType) {
    case ProxyAuthenType.Chap: {
      const challenge = p.authenChallenge;
      const response = p.authenResponse;
      if (challenge === undefined || challenge.length === 0 || response?.length !== CHAP_MD5_VALUE_SIZE || p.authenId === undefined) return undefined;
      return { request: { kind: "chap", username: name, peerId, identifier, challenge, response, proxied: true }, identifier };
    }
    case ProxyAuthenType.Pap:
    case ProxyAuthenType.Textual: {
      const password = p.authenResponse;
      if (password === undefined) return undefined;
      return { request: { kind: "pap", username: name, peerId, password, proxied: true }, identifier };
    }
    default:
      return undefined;
  }
}
