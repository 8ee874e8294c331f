// Output filters after `|`, as libcli has them: include, exclude, begin, between, count, grep,
// egrep. Each stage maps a stream of lines to a stream of lines, so a filtered `show session`
// still streams.
import { FILTERS, type Lines } from "./tree.js";

export type LineFilter = (input: AsyncIterable<string>) => AsyncIterable<string>;

export type FilterResult = { readonly ok: true; readonly filter: LineFilter } | { readonly ok: false; readonly error: string };

function pass(keep: (line: string) => boolean): LineFilter {
  return async function* (input) {
    for await (const line of input) if (keep(line)) yield line;
  };
}

function regex(source: string, flags: string): RegExp | string {
  try {
    return new RegExp(source, flags);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** One `| NAME ARGS` stage; the name may be abbreviated. */
export function makeFilter(stage: readonly string[]): FilterResult {
  const [name, ...args] = stage;
  if (name === undefined) return { ok: false, error: "Missing filter" };
  const found = FILTERS.filter((f) => f.word.startsWith(name.toLowerCase()));
  const exact = found.find((f) => f.word === name.toLowerCase());
  const which = exact ?? (found.length === 1 ? found[0] : undefined);
  if (which === undefined) return { ok: false, error: `Invalid filter "${name}"` };
  const text = args.join(" ");
  switch (which.word) {
    case "include":
    case "exclude": {
      if (text === "") return { ok: false, error: `Missing argument to ${which.word}` };
      const want = which.word === "include";
      return { ok: true, filter: pass((l) => l.includes(text) === want) };
    }
    case "begin": {
      if (text === "") return { ok: false, error: "Missing argument to begin" };
      return {
        ok: true,
        filter: async function* (input) {
          let on = false;
          for await (const line of input) {
            on ||= line.includes(text);
            if (on) yield line;
          }
        },
      };
    }
    case "between": {
      const [from, to] = args;
      if (from === undefined || to === undefined) return { ok: false, error: "Between filter requires 2 arguments" };
      return {
        ok: true,
        filter: async function* (input) {
          let on = false;
          for await (const line of input) {
            if (!on && line.includes(from)) on = true;
            if (on) yield line;
            if (on && line.includes(to)) on = false;
          }
        },
      };
    }
    case "count":
      return {
        ok: true,
        filter: async function* (input) {
          let n = 0;
          // libcli counts the lines that are not blank.
          for await (const line of input) if (line.trim() !== "") n++;
          yield String(n);
        },
      };
    case "grep":
    case "egrep": {
      let invert = false;
      let flags = "";
      const rest = [...args];
      while (which.word === "grep" && rest[0]?.startsWith("-") === true && rest[0].length > 1) {
        const opt = rest.shift() ?? "";
        if (opt === "-e") break;
        for (const o of opt.slice(1)) {
          if (o === "v") invert = true;
          else if (o === "i") flags = "i";
          else return { ok: false, error: `Invalid option -${o} to grep` };
        }
      }
      const pattern = rest.join(" ");
      if (pattern === "") return { ok: false, error: `Missing argument to ${which.word}` };
      const re = regex(pattern, flags);
      if (typeof re === "string") return { ok: false, error: `Invalid pattern "${pattern}": ${re}` };
      return { ok: true, filter: pass((l) => re.test(l) !== invert) };
    }
    default:
      return { ok: false, error: `Invalid filter "${name}"` };
  }
}

/** Any source of lines as an async stream. */
export async function* asAsync(lines: Lines): AsyncIterable<string> {
  if (Symbol.asyncIterator in lines) {
    yield* lines;
    return;
  }
  yield* lines;
}
