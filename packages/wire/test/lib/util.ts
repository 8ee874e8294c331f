// Small helpers shared by the wire tests.
import type { Result, WireError } from "../../src/index.js";

/** Hex with spaces or newlines for readability, to bytes. */
export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");

/** The value of a Result that must be ok; throws (fails the test) with the error otherwise. */
export function unwrap<T>(r: Result<T, WireError>): T {
  if (!r.ok) throw new Error(`unexpected error: ${r.error.code} ${r.error.reason}`);
  return r.value;
}

/** The error of a Result that must have failed. */
export function failure<T>(r: Result<T, WireError>): WireError {
  if (r.ok) throw new Error("expected an error");
  return r.error;
}
