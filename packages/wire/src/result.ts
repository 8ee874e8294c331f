// Result type for total decoders: every decoder in @lnsd/wire returns one of these and never throws
// on bytes from the network (STYLE.md: "Decoders are pure and total").
export type Result<T, E> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

export function err<E>(error: E): { readonly ok: false; readonly error: E } {
  return { ok: false, error };
}
