// Fuzz harness for the RADIUS decoders: random and mutated inputs (fast-check); the contract is
// that a decoder returns (or handles) every input without throwing. Inputs that ever broke one are
// kept in test/vectors/fuzz-regressions/<name>/ as hex and replayed first on every run.
import * as fc from "fast-check";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
// Compiled to dist/test/lib; the vectors live in the source tree.
const regressionsDir = join(here, "..", "..", "..", "test", "vectors", "fuzz-regressions");

function saveRegression(name: string, input: Buffer): void {
  const dir = join(regressionsDir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${input.toString("hex").slice(0, 40) || "empty"}-${input.length}.hex`), input.toString("hex") + "\n");
}

function regressionInputs(name: string): Buffer[] {
  const dir = join(regressionsDir, name);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".hex"))
    .sort()
    .map((f) => Buffer.from(readFileSync(join(dir, f), "utf8").trim(), "hex"));
}

export interface FuzzOptions {
  /** Inputs, random and mutated together: 100,000 per decoder by default. */
  readonly runs?: number;
  /** Valid encodings to mutate: bit flips, byte overwrites, truncations, extensions. */
  readonly seeds: readonly Buffer[];
  readonly maxLength?: number;
}

/**
 * Runs `check` on every input; it returns a failure description or undefined, and any throw is a
 * failure too. Returns the failures (empty when the code held); failing inputs are saved.
 */
export function fuzz(name: string, check: (input: Buffer) => string | undefined, opts: FuzzOptions): string[] {
  const failures: string[] = [];
  const run = (input: Buffer): void => {
    let why: string | undefined;
    try {
      why = check(input);
    } catch (e) {
      why = `threw ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
    }
    if (why === undefined) return;
    if (failures.length < 10) failures.push(`${name}: ${why} on ${input.toString("hex")}`);
    saveRegression(name, input);
  };
  for (const input of regressionInputs(name)) run(input);
  const seeds = opts.seeds.length > 0 ? opts.seeds : [Buffer.alloc(0)];
  const random = fc.uint8Array({ maxLength: opts.maxLength ?? 128 }).map((a) => Buffer.from(a));
  const mutation = fc.oneof(
    fc.record({ op: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ op: fc.constant("set" as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ op: fc.constant("cut" as const), at: fc.nat() }),
    fc.record({ op: fc.constant("grow" as const), bytes: fc.uint8Array({ maxLength: 16 }) }),
  );
  const mutated = fc.tuple(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([seed, ops]) => {
    let b = Buffer.from(seed);
    for (const o of ops) {
      if (o.op === "grow") {
        b = Buffer.concat([b, o.bytes]);
        continue;
      }
      if (b.length === 0) continue;
      const at = o.at % b.length;
      if (o.op === "flip") b[at] = (b[at] ?? 0) ^ (1 << o.bit);
      else if (o.op === "set") b[at] = o.byte;
      else b = b.subarray(0, at);
    }
    return b;
  });
  fc.assert(
    fc.property(fc.oneof({ arbitrary: random, weight: 1 }, { arbitrary: mutated, weight: 3 }), (input) => {
      run(input);
      return true;
    }),
    { numRuns: opts.runs ?? 100_000 },
  );
  return failures;
}
