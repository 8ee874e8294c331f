// Results of the RADIUS decoders (STYLE.md: decoders are pure and total). A RADIUS decode error
// never asks for an answer on the wire: RFC 2865 3 and RFC 5176 2.3 say a malformed or
// unauthenticated packet is silently discarded, so every error here means "drop, count, log once".

export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: RadiusDecodeError };

export type RadiusDecodeErrorCode =
  | "truncated"
  | "bad-length"
  | "bad-attribute-length"
  | "too-many-attributes"
  | "bad-value"
  | "unknown-code";

export interface RadiusDecodeError {
  readonly code: RadiusDecodeErrorCode;
  /** A short reason for one rate-limited log line. */
  readonly reason: string;
  /** The offending value, when there is one. */
  readonly value?: number | string;
}

export function ok<T>(value: T): Decoded<T> {
  return { ok: true, value };
}

export function fail<T>(code: RadiusDecodeErrorCode, reason: string, value?: number | string): Decoded<T> {
  return { ok: false, error: value === undefined ? { code, reason } : { code, reason, value } };
}
