// 16-bit sequence number arithmetic for Ns/Nr (RFC 2661 5.8: "sequence numbers wrap; comparison
// is modulo 65536", as in serial number arithmetic, RFC 1982).

/** a - b as a signed distance in (-32768, 32767]. */
export function seqDiff(a: number, b: number): number {
  const d = (a - b) & 0xffff;
  return d > 0x8000 ? d - 0x10000 : d;
}

/** a is before b (modulo 65536). */
export function seqLt(a: number, b: number): boolean {
  return seqDiff(a, b) < 0;
}

export function seqInc(a: number): number {
  return (a + 1) & 0xffff;
}
