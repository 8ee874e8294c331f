// Shared fuzz harness for the wire decoders: random and mutated inputs (fast-check), the contract
// being that a decoder returns a Result and never throws, and that every error is a WireError.
// Any input that ever broke a decoder is kept in test/vectors/fuzz-regressions/<name>/ as hex
// and replayed on every run before the random inputs.
import * as fc from "fast-check";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Result, WireError } from "../../src/index.js";

const here = dirname(fileURLToPath(import.meta.url));
// Compiled to dist/test/lib; the vectors live in the source tree.
export const vectorsDir = join(here, "..", "..", "..", "test", "vectors");
const regressionsDir = join(vectorsDir, "fuzz-regressions");

const ERROR_CODES = new Set([
  "truncated",
  "bad-length",
  "bad-version",
  "bad-header",
  "bad-value",
  "unknown-mandatory-avp",
  "missing-avp",
  "unexpected-avp",
  "hidden-no-secret",
  "unknown-message-type",
  "unknown-code",
]);

export function isWireError(e: unknown): e is WireError {
  if (typeof e !== "object" || e === null) return false;
  const rec = e as Record<string, unknown>;
  const action = rec.action as Record<string, unknown> | undefined;
  return (
    typeof rec.code === "string" &&
    ERROR_CODES.has(rec.code) &&
    typeof rec.reason === "string" &&
    typeof action === "object" &&
    typeof action.kind === "string"
  );
}

/** Checks one input; returns a description of the failure or undefined. */
function check(decode: (b: Buffer) => Result<unknown, WireError>, input: Buffer): string | undefined {
  let r: Result<unknown, WireError>;
  try {
    r = decode(input);
  } catch (e) {
    return `threw ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
  }
  const shape: unknown = r;
  if (typeof shape !== "object" || shape === null || typeof (shape as { ok?: unknown }).ok !== "boolean") return "returned a non-Result";
  if (!r.ok && !isWireError(r.error)) return `error is not a WireError: ${JSON.stringify(r.error)}`;
  return undefined;
}

function saveRegression(name: string, input: Buffer): void {
  const dir = join(regressionsDir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${input.toString("hex").slice(0, 40) || "empty"}-${input.length}.hex`), input.toString("hex") + "\n");
}

export function regressionInputs(name: string): Buffer[] {
  const dir = join(regressionsDir, name);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".hex"))
    .sort()
    .map((f) => Buffer.from(readFileSync(join(dir, f), "utf8").trim(), "hex"));
}

export interface FuzzOptions {
  /** Total inputs, random and mutated together. At least 100,000 per decoder (issue 2). */
  readonly runs?: number;
  /** Valid encodings to mutate: bit flips, truncations, extensions, byte overwrites. */
  readonly seeds: readonly Buffer[];
  readonly maxLength?: number;
  readonly seed?: number;
}

/**
 * Fuzzes one decoder. Returns the list of failures (empty when the decoder held). Failing inputs
 * are written to the regression folder so that they are replayed forever after.
 */
export function fuzzDecoder(name: string, decode: (b: Buffer) => Result<unknown, WireError>, opts: FuzzOptions): string[] {
  const failures: string[] = [];
  const fail = (input: Buffer, why: string): void => {
    if (failures.length < 10) failures.push(`${name}: ${why} on ${input.toString("hex")}`);
    saveRegression(name, input);
  };
  for (const input of regressionInputs(name)) {
    const why = check(decode, input);
    if (why !== undefined) fail(input, why);
  }
  const runs = opts.runs ?? 100_000;
  const maxLength = opts.maxLength ?? 256;
  const seeds = opts.seeds.length > 0 ? opts.seeds : [Buffer.alloc(0)];
  const random = fc.uint8Array({ maxLength }).map((a) => Buffer.from(a));
  const mutated = fc
    .tuple(
      fc.constantFrom(...seeds),
      fc.array(
        fc.oneof(
          fc.record({ op: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
          fc.record({ op: fc.constant("set" as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
          fc.record({ op: fc.constant("cut" as const), at: fc.nat() }),
          fc.record({ op: fc.constant("grow" as const), bytes: fc.uint8Array({ maxLength: 16 }) }),
        ),
        { minLength: 1, maxLength: 4 },
      ),
    )
    .map(([seedBuf, ops]) => {
      let b = Buffer.from(seedBuf);
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
      const why = check(decode, input);
      if (why !== undefined) fail(input, why);
      return true;
    }),
    { numRuns: runs, ...(opts.seed === undefined ? {} : { seed: opts.seed }) },
  );
  return failures;
}
