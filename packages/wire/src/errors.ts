// Typed decode errors. Each carries what the receiver should send back (STYLE.md: "Decode errors
// say what to send back"), a short reason and the offending value for one rate-limited log line.

/** What the caller should do about a bad input. */
export type WireAction =
  /** Silently discard (counted). RFC 2661 3.1 / 5.x: malformed headers are dropped. */
  | { readonly kind: "drop" }
  /** Tear the tunnel down: StopCCN with this Result Code / Error Code (RFC 2661 4.4.2). */
  | { readonly kind: "stopccn"; readonly resultCode: number; readonly errorCode?: number }
  /** Tear the session down: CDN with this Result Code / Error Code (RFC 2661 4.4.2). */
  | { readonly kind: "cdn"; readonly resultCode: number; readonly errorCode?: number }
  /** PPP: answer with LCP Code-Reject (RFC 1661 5.6). */
  | { readonly kind: "code-reject" }
  /** PPP: answer with LCP Protocol-Reject (RFC 1661 5.7). */
  | { readonly kind: "protocol-reject"; readonly protocol: number };

export type WireErrorCode =
  | "truncated" // fewer bytes than a field or a length needs
  | "bad-length" // a length field that lies (too short, too long, inconsistent)
  | "bad-version" // L2TP version other than 2 (e.g. L2TPv3)
  | "bad-header" // reserved bits or a flag combination the RFC forbids
  | "bad-value" // a field holding a value the RFC does not allow
  | "unknown-mandatory-avp" // RFC 2661 4.1: unknown AVP with M set
  | "missing-avp" // RFC 2661 6.x: a required AVP is absent
  | "unexpected-avp" // an AVP not allowed in this message (with M set)
  | "hidden-no-secret" // a hidden AVP but no shared secret to reveal it
  | "unknown-message-type" // RFC 2661 4.4.1: Message Type value not defined (M set: clear the tunnel; else ignore)
  | "unknown-code"; // PPP control code we do not know

export interface WireError {
  readonly code: WireErrorCode;
  /** Short human reason for a log line, e.g. "AVP length 3 below the 6-byte header". */
  readonly reason: string;
  /** The offending value (a length, an AVP type, a code), when there is one. */
  readonly value?: number;
  readonly action: WireAction;
}

export const DROP: WireAction = { kind: "drop" };

export function wireError(code: WireErrorCode, reason: string, action: WireAction = DROP, value?: number): WireError {
  return value === undefined ? { code, reason, action } : { code, reason, action, value };
}
