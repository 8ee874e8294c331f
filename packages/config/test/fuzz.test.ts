// The config parsers read operator input: whatever a file holds, they answer with errors naming
// file and line, never with an exception. 100,000 mutated files each.
import t from "tap";
import * as fc from "fast-check";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseIpPool, parseStartupConfig, parseUsers, type ConfigResult } from "../src/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const fixture = readFileSync(join(here, "..", "..", "test", "fixtures", "l2tpns-2.4.1-running-config"), "utf8");
const etc = readFileSync(join(here, "..", "..", "..", "..", "etc", "startup-config"), "utf8");

/** Mutations at the line and character level of a real file: the shapes operators get wrong. */
function mutated(seed: string): fc.Arbitrary<string> {
  const lines = seed.split("\n");
  return fc
    .array(
      fc.oneof(
        fc.record({ op: fc.constant("drop" as const), at: fc.nat() }),
        fc.record({ op: fc.constant("dup" as const), at: fc.nat() }),
        fc.record({ op: fc.constant("char" as const), at: fc.nat(), pos: fc.nat(), ch: fc.string({ minLength: 1, maxLength: 3, unit: "binary" }) }),
        fc.record({ op: fc.constant("cut" as const), at: fc.nat(), pos: fc.nat() }),
        fc.record({ op: fc.constant("line" as const), at: fc.nat(), text: fc.string({ maxLength: 60, unit: "binary" }) }),
      ),
      { minLength: 1, maxLength: 5 },
    )
    .map((ops) => {
      const ls = [...lines];
      for (const o of ops) {
        const i = ls.length === 0 ? 0 : o.at % ls.length;
        const l = ls[i] ?? "";
        if (o.op === "drop") ls.splice(i, 1);
        else if (o.op === "dup") ls.splice(i, 0, l);
        else if (o.op === "char") ls[i] = l.slice(0, o.pos % (l.length + 1)) + o.ch + l.slice(o.pos % (l.length + 1));
        else if (o.op === "cut") ls[i] = l.slice(0, o.pos % (l.length + 1));
        else ls.splice(i, 0, o.text);
      }
      return ls.join("\n");
    });
}

function total(parse: (text: string) => ConfigResult<unknown>, text: string): boolean {
  const r = parse(text);
  if (r.ok) return true;
  // Every error names a file and a line (0 only for whole-file errors) and says something.
  return r.errors.length > 0 && r.errors.every((e) => e.file.length > 0 && e.line >= 0 && e.message.length > 0);
}

void t.test("parseStartupConfig: 100,000 mutated files, no throw, every error located", (t) => {
  fc.assert(fc.property(fc.oneof(mutated(fixture), mutated(etc)), (text) => total((x) => parseStartupConfig(x), text)), { numRuns: 100_000, seed: 7 });
  t.pass("held");
  t.end();
});

void t.test("parseIpPool and parseUsers: 100,000 mutated files each", (t) => {
  const pool = "10.0.0.0/24\n192.0.2.1\n198.51.100.10-198.51.100.20\n# comment\n127.0.0.1:10.1.0.0/30\n";
  const users = "admin:secret\nbob:$1$abcdefgh$2YyxIbIRzCqSEb6ePvuz10\nold:{crypt}abJnggxhB/yWI\nenable:letmein\n";
  fc.assert(fc.property(mutated(pool), (text) => total((x) => parseIpPool(x), text)), { numRuns: 100_000, seed: 8 });
  fc.assert(fc.property(mutated(users), (text) => total((x) => parseUsers(x), text)), { numRuns: 100_000, seed: 9 });
  t.pass("held");
  t.end();
});
