// Why a PPP session ended, as data: each reason with its RFC 3145 PPP Disconnect Cause Code (for
// the CDN the L2TP layer sends) and its RFC 2866 5.10 Acct-Terminate-Cause (for RADIUS
// accounting). Pure data and one builder; no state.
import { AcctTerminateCause, PppProtocol, type PppDisconnectCauseValue } from "@lnsd/wire";

/** RFC 3145 3.1-3.4 Disconnect Code values. */
export const PppDisconnectCode = {
  NoInformation: 0,
  AdministrativeDisconnect: 1,
  LcpRenegotiationDisabled: 2,
  NormalDisconnect: 3,
  CompulsoryEncryptionRefused: 4,
  LcpFsmTimeout: 5,
  NoRecognizableLcp: 6,
  MagicNumberError: 7,
  KeepaliveFailure: 8,
  AuthFsmTimeout: 13,
  AuthProtocolUnacceptable: 15,
  AuthFailed: 16,
  NcpFsmTimeout: 17,
  NoNcpAvailable: 18,
  NoAcceptableAddress: 19,
} as const;

/** RFC 3145 3: Direction. */
export const PppDisconnectDirection = { Global: 0, AtPeer: 1, AtLocal: 2 } as const;

export type DisconnectReason =
  /** The peer sent LCP Terminate-Request (the user hung up). */
  | "user-request"
  /** The lower layer went away: CDN, StopCCN, tunnel lost (stop()). */
  | "lost-carrier"
  /** No answer to LCP Echo-Requests for idle_echo_timeout. */
  | "echo-timeout"
  /** Asked by the caller: no traffic for the idle timeout. */
  | "idle-timeout"
  /** Asked by the caller: Session-Timeout reached. */
  | "session-timeout"
  /** Asked by the caller: an operator dropped the session (CLI, nsctl, RADIUS Disconnect). */
  | "admin-reset"
  /** Asked by the caller for any other reason of its own. */
  | "nas-request"
  /** Something on our side broke (a callback threw...). */
  | "nas-error"
  /** The peer's credentials were refused (PAP Authenticate-Nak / CHAP Failure sent). */
  | "auth-failed"
  /** The authenticator could not answer (RADIUS unreachable, callback failed). */
  | "auth-error"
  /** No authentication completed in time. */
  | "auth-timeout"
  /** No authentication protocol both sides accept. */
  | "auth-protocol-refused"
  /** The peer refused our authentication (client role: PAP Nak / CHAP Failure received). */
  | "auth-refused-by-peer"
  /** LCP did not converge (Max-Configure, endless Naks). */
  | "lcp-timeout"
  /** No LCP packet ever came from the peer. */
  | "lcp-silent"
  /** Magic-Number loop detection fired (RFC 1661 6.4). */
  | "loopback"
  /** The peer renegotiated LCP on an established session; lnsd ends the session instead. */
  | "lcp-renegotiation"
  /** The peer Code-Rejected an essential LCP Code or Protocol-Rejected LCP (RXJ-). */
  | "peer-rejected-lcp"
  /** An NCP did not converge and no other NCP is open. */
  | "ncp-timeout"
  /** Every NCP was rejected or finished: nothing left to carry. */
  | "no-ncp"
  /** IPCP could not agree on the peer's address. */
  | "no-address";

interface ReasonSpec {
  readonly code: number;
  readonly protocol: number;
  readonly acct: AcctTerminateCause;
  readonly text: string;
}

const L = PppProtocol.LCP;
const D = PppDisconnectCode;
const A = AcctTerminateCause;

/** The reason table. Control protocol 0 means "none in particular" (RFC 3145 3). */
export const DISCONNECT_REASONS: { readonly [R in DisconnectReason]: ReasonSpec } = {
  "user-request": { code: D.NormalDisconnect, protocol: L, acct: A.UserRequest, text: "User request" },
  "lost-carrier": { code: D.NoInformation, protocol: 0, acct: A.LostCarrier, text: "Lower layer down" },
  "echo-timeout": { code: D.KeepaliveFailure, protocol: L, acct: A.LostCarrier, text: "No response to LCP Echo-Request" },
  "idle-timeout": { code: D.NormalDisconnect, protocol: L, acct: A.IdleTimeout, text: "Idle timeout" },
  "session-timeout": { code: D.NormalDisconnect, protocol: L, acct: A.SessionTimeout, text: "Session timeout" },
  "admin-reset": { code: D.AdministrativeDisconnect, protocol: L, acct: A.AdminReset, text: "Administrative disconnect" },
  "nas-request": { code: D.NormalDisconnect, protocol: L, acct: A.NasRequest, text: "Disconnected by the LNS" },
  "nas-error": { code: D.NoInformation, protocol: 0, acct: A.NasError, text: "Internal error" },
  "auth-failed": { code: D.AuthFailed, protocol: 0, acct: A.UserError, text: "Authentication failed" },
  "auth-error": { code: D.NoInformation, protocol: 0, acct: A.NasError, text: "Authentication unavailable" },
  "auth-timeout": { code: D.AuthFsmTimeout, protocol: 0, acct: A.UserError, text: "Authentication timed out" },
  "auth-protocol-refused": { code: D.AuthProtocolUnacceptable, protocol: L, acct: A.UserError, text: "No acceptable authentication protocol" },
  "auth-refused-by-peer": { code: D.AuthFailed, protocol: 0, acct: A.UserError, text: "Authentication refused by the peer" },
  "lcp-timeout": { code: D.LcpFsmTimeout, protocol: L, acct: A.UserError, text: "LCP negotiation failed" },
  "lcp-silent": { code: D.NoRecognizableLcp, protocol: L, acct: A.LostCarrier, text: "No LCP packet received" },
  loopback: { code: D.MagicNumberError, protocol: L, acct: A.PortError, text: "Link looped back (Magic-Number)" },
  "lcp-renegotiation": { code: D.NoInformation, protocol: L, acct: A.NasRequest, text: "Peer renegotiated LCP" },
  "peer-rejected-lcp": { code: D.NoInformation, protocol: L, acct: A.UserError, text: "Peer rejected an essential LCP packet" },
  "ncp-timeout": { code: D.NcpFsmTimeout, protocol: PppProtocol.IPCP, acct: A.UserError, text: "NCP negotiation failed" },
  "no-ncp": { code: D.NoNcpAvailable, protocol: 0, acct: A.UserError, text: "No network protocol left" },
  "no-address": { code: D.NoAcceptableAddress, protocol: PppProtocol.IPCP, acct: A.UserError, text: "No acceptable IP address" },
};

export type DisconnectSide = "peer" | "local" | "lower-layer";

export interface DisconnectCause {
  readonly reason: DisconnectReason;
  /** Who ended it: the peer (it terminated or failed), we, or the L2TP layer under us. */
  readonly by: DisconnectSide;
  /** One line for the log and `show session`. */
  readonly message: string;
  /** RFC 3145: ready for the PPP Disconnect Cause Code AVP of the CDN. */
  readonly ppp: PppDisconnectCauseValue;
  /** RFC 2866 5.10 Acct-Terminate-Cause for the Accounting-Stop. */
  readonly acctTerminateCause: AcctTerminateCause;
  /** The Data of the Terminate-Request we sent or received, as text, when there was one. */
  readonly terminateMessage?: string;
}

export function disconnectCause(
  reason: DisconnectReason,
  by: DisconnectSide,
  detail?: string,
  terminateMessage?: string,
  protocol?: number,
): DisconnectCause {
  const spec = DISCONNECT_REASONS[reason];
  const message = detail === undefined || detail === "" ? spec.text : `${spec.text}: ${detail}`;
  const direction = by === "peer" ? PppDisconnectDirection.AtPeer : by === "local" ? PppDisconnectDirection.AtLocal : PppDisconnectDirection.Global;
  const ppp: PppDisconnectCauseValue = { disconnectCode: spec.code, controlProtocol: protocol ?? spec.protocol, direction, message: spec.text };
  const cause = { reason, by, message, ppp, acctTerminateCause: spec.acct };
  return terminateMessage === undefined ? cause : { ...cause, terminateMessage };
}
