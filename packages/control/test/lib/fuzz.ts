// A small fuzz harness for the nsctl decoder (the style of wire's): random bytes and mutations of
// valid datagrams; the contract is that the decoder returns a result and never throws.
import * as fc from "fast-check";

export interface FuzzOptions {
  readonly runs: number;
  readonly seeds: readonly Buffer[];
  readonly maxLength: number;
  readonly seed?: number;
}

/** Valid datagrams changed a little: a byte overwritten, cut short, grown, a bit flipped. */
function mutated(seeds: readonly Buffer[], maxLength: number): fc.Arbitrary<Buffer> {
  return fc
    .tuple(fc.constantFrom(...seeds), fc.nat(), fc.nat(255), fc.integer({ min: 0, max: 3 }), fc.uint8Array({ maxLength: 64 }))
    .map(([seed, at, value, how, extra]) => {
      const b = Buffer.from(seed);
      const i = b.length === 0 ? 0 : at % b.length;
      switch (how) {
        case 0:
          if (b.length > 0) b[i] = value;
          return b;
        case 1:
          return b.subarray(0, i);
        case 2:
          return Buffer.concat([b, extra]).subarray(0, maxLength);
        default:
          if (b.length > 0) b[i] = (b[i] ?? 0) ^ (1 << (value % 8));
          return b;
      }
    });
}

/** Runs `check` on every input; it returns a failure description or undefined. The first failure is thrown with its input in hex. */
export function fuzz(check: (input: Buffer) => string | undefined, o: FuzzOptions): void {
  const random = fc.uint8Array({ maxLength: o.maxLength }).map((a) => Buffer.from(a));
  fc.assert(
    fc.property(fc.oneof(random, mutated(o.seeds, o.maxLength)), (input) => {
      const failure = check(input);
      if (failure !== undefined) throw new Error(`${failure}: input ${input.toString("hex")}`);
    }),
    { numRuns: o.runs, ...(o.seed === undefined ? {} : { seed: o.seed }) },
  );
}
