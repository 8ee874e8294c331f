// Settings of the L2TP control plane, named after l2tpns's startup-config(5) where it has them.
import { DEFAULT_RELIABLE_CONFIG, type ReliableConfig } from "./reliable.js";

export interface L2tpConfig {
  /** Host Name AVP we send (RFC 2661 4.4.3); l2tpns: hostname. */
  readonly hostName: string;
  readonly vendorName: string;
  readonly firmwareRevision: number;
  /** l2tp_secret: tunnel authentication and hidden AVPs (RFC 2661 4.3, 5.1.1). */
  readonly secret?: string;
  /**
   * l2tp_require_auth (lnsd): challenge every LAC and refuse one that does not answer correctly
   * (StopCCN result 4). Without it, as l2tpns, only a LAC that sent a Challenge is challenged in
   * return (RFC 2661 5.1.1: mutual authentication); a LAC without a secret gets in. Needs a secret:
   * without one every tunnel is refused.
   */
  readonly requireTunnelAuth: boolean;
  /**
   * With a secret: send the AVPs in HIDDEN_WHEN_SECRET hidden (RFC 2661 4.3), to a peer that
   * answered our Challenge or hid AVPs itself. Hidden AVPs from the peer are read whenever we
   * have the secret.
   */
  readonly hideAvps: boolean;
  readonly reliable: ReliableConfig;
  /** RFC 2661 6.5: a HELLO after this long without a message from the peer. */
  readonly helloIntervalMs: number;
  /** l2tpns: disable_sending_hello. */
  readonly disableSendingHello: boolean;
  /** RFC 2661 5.7: state kept after StopCCN to acknowledge its retransmissions (31 s). */
  readonly stopCcnHoldMs: number;
  /** Admission: tunnels, sessions, and sessions between ICRQ and ICCN (reconnect storms). */
  readonly maxTunnels: number;
  readonly maxSessions: number;
  readonly maxSessionsInSetup: number;
  /** A session that does not reach established in this time is cleared with CDN result 10. */
  readonly sessionSetupTimeoutMs: number;
}

export const DEFAULT_L2TP_CONFIG: L2tpConfig = {
  hostName: "lnsd",
  vendorName: "lnsd",
  firmwareRevision: 0x0100,
  requireTunnelAuth: false,
  hideAvps: true,
  reliable: DEFAULT_RELIABLE_CONFIG,
  helloIntervalMs: 60_000,
  disableSendingHello: false,
  stopCcnHoldMs: 31_000,
  maxTunnels: 65_534,
  maxSessions: 250_000,
  maxSessionsInSetup: 5_000,
  sessionSetupTimeoutMs: 30_000,
};

/**
 * What makes a configuration unusable, for the daemon to refuse at start and on reload: a
 * requirement to authenticate every LAC with no secret to do it with (RFC 2661 5.1.1).
 */
export function l2tpConfigProblem(c: { readonly secret?: string; readonly requireTunnelAuth?: boolean }): string | undefined {
  if (c.requireTunnelAuth === true && (c.secret === undefined || c.secret === "")) {
    return "l2tp_require_auth is set but l2tp_secret is not: there is no secret to challenge the LACs with";
  }
  return undefined;
}
