// The command tree and the libcli rules for reading a line against it: words match commands by
// case-insensitive prefix, the first word that matches no sub-command starts the arguments of the
// command before it, `?` lists what may come next, Tab completes a word. Pure: no sockets.
import type { CliBackend } from "./backend.js";

/** What a command prints: lines without line ends, produced lazily (a generator) for long lists. */
export type Lines = Iterable<string> | AsyncIterable<string>;

/** "exec" and "config" are libcli's modes; "any" commands work in every mode. */
export type CommandMode = "exec" | "config" | "any";

/** What a command may see and change of the CLI session that runs it. */
export interface CommandContext {
  readonly backend: CliBackend;
  readonly mode: Exclude<CommandMode, "any">;
  readonly privileged: boolean;
  setMode(mode: Exclude<CommandMode, "any">): void;
  /** `enable`: asks the enable password when there is one. */
  enable(): void;
  disable(): void;
  quit(): void;
  history(): readonly string[];
  readonly debug: Set<string>;
  /** The lines of `help` for the current mode and privilege. */
  helpLines(): string[];
}

/** One item that `?` lists after a command: a keyword (completed by Tab) or a placeholder. */
export interface ArgItem {
  readonly word: string;
  /** Printed after the word, padded; absent: the word alone (as l2tpns's `debug ?`). */
  readonly help?: string;
}

/** What may follow the arguments typed so far: items, and whether Enter runs the command (<cr>). */
export interface ArgHelp {
  readonly items: readonly ArgItem[];
  readonly cr: boolean;
}

export interface CommandSpec {
  readonly name: string;
  /** "" lists the command with a blank help column in `?` and leaves it out of `help`. */
  readonly help: string;
  readonly mode: CommandMode;
  readonly privileged: boolean;
  readonly run?: (ctx: CommandContext, args: readonly string[]) => Lines;
  /** `?` after the command and `args`: l2tpns's commands answer it themselves. */
  readonly args?: (args: readonly string[], ctx: CommandContext) => ArgHelp;
  readonly children: readonly CommandSpec[];
}

export interface Visibility {
  readonly mode: Exclude<CommandMode, "any">;
  readonly privileged: boolean;
}

function visible(c: CommandSpec, v: Visibility): boolean {
  if (c.privileged && !v.privileged) return false;
  if (c.mode !== "any" && c.mode !== v.mode) return false;
  // A word that only leads to other words is there when one of them is.
  return c.run !== undefined || c.children.some((k) => visible(k, v));
}

export function visibleCommands(list: readonly CommandSpec[], v: Visibility): CommandSpec[] {
  return list.filter((c) => visible(c, v));
}

/** A line split into words (double or single quotes group blanks) and its `|` filter stages. */
export interface ParsedLine {
  readonly words: readonly string[];
  readonly filters: readonly (readonly string[])[];
  /** The line ends in blanks (or is empty): `?` and Tab look at the next word, not the last. */
  readonly trailingSpace: boolean;
}

export function parseLine(line: string): ParsedLine {
  const stages: string[][] = [[]];
  let word: string | undefined;
  let quote: string | undefined;
  const endWord = (): void => {
    if (word !== undefined) stages[stages.length - 1]?.push(word);
    word = undefined;
  };
  for (const ch of line) {
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      else word = (word ?? "") + ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      word ??= "";
    } else if (ch === " " || ch === "\t") {
      endWord();
    } else if (ch === "|") {
      endWord();
      stages.push([]);
    } else {
      word = (word ?? "") + ch;
    }
  }
  const trailingSpace = word === undefined && quote === undefined;
  endWord();
  return { words: stages[0] ?? [], filters: stages.slice(1), trailingSpace };
}

export type Resolution =
  | { readonly ok: true; readonly command: CommandSpec | undefined; readonly path: readonly CommandSpec[]; readonly args: readonly string[] }
  | { readonly ok: false; readonly error: string };

function matches(list: readonly CommandSpec[], word: string): CommandSpec[] {
  const w = word.toLowerCase();
  const exact = list.find((c) => c.name.toLowerCase() === w);
  return exact !== undefined ? [exact] : list.filter((c) => c.name.toLowerCase().startsWith(w));
}

/**
 * Walks the words down the tree. A word that matches no sub-command of a command that runs is the
 * first of its arguments; elsewhere it is an error, worded as libcli words it.
 */
export function resolve(roots: readonly CommandSpec[], words: readonly string[], v: Visibility): Resolution {
  let list = visibleCommands(roots, v);
  const path: CommandSpec[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? "";
    const found = matches(list, word);
    const current = path[path.length - 1];
    if (found.length === 1 && found[0] !== undefined) {
      path.push(found[0]);
      list = visibleCommands(found[0].children, v);
      continue;
    }
    if (current?.run !== undefined) return { ok: true, command: current, path, args: words.slice(i) };
    const what = current === undefined ? "command" : "argument";
    if (found.length > 1) return { ok: false, error: `Ambiguous ${what} "${word}"` };
    return { ok: false, error: `Invalid ${what} "${word}"` };
  }
  return { ok: true, command: path[path.length - 1], path, args: [] };
}

export function formatHelpItem(word: string, help: string | undefined): string {
  return help === undefined ? `  ${word}` : `  ${word.padEnd(20)} ${help}`;
}

/** A placeholder (<1-499>, USER, NAME) is shown by `?` but never completed by Tab. */
function isPlaceholder(word: string): boolean {
  return word.startsWith("<") || word.startsWith("A.B.") || /^[A-Z]+$/.test(word);
}

export const FILTERS: readonly ArgItem[] = [
  { word: "begin", help: "Begin with lines that match" },
  { word: "between", help: "Between lines that match" },
  { word: "count", help: "Count of lines" },
  { word: "exclude", help: "Exclude lines that match" },
  { word: "include", help: "Include lines that match" },
  { word: "grep", help: "Include lines that match regex (options: -v, -i, -e)" },
  { word: "egrep", help: "Include lines that match extended regex" },
];

/** What `?` and Tab offer at the end of `line`. */
export interface Offer {
  /** Lines for `?` (an error line when the words so far are wrong). */
  readonly help: readonly string[];
  /** The words Tab may complete the last word to; `partial` is that word as typed. */
  readonly completions: readonly string[];
  readonly partial: string;
}

function argHelpFor(cmd: CommandSpec, args: readonly string[], ctx: CommandContext): ArgHelp {
  if (cmd.args !== undefined) return cmd.args(args, ctx);
  return { items: [], cr: cmd.run !== undefined && args.length === 0 };
}

export function offer(roots: readonly CommandSpec[], line: string, ctx: CommandContext): Offer {
  const v: Visibility = { mode: ctx.mode, privileged: ctx.privileged };
  const parsed = parseLine(line);
  const partial = parsed.trailingSpace ? "" : (parsed.filters.length > 0 ? parsed.filters[parsed.filters.length - 1]?.at(-1) : parsed.words.at(-1)) ?? "";
  const lower = partial.toLowerCase();
  if (parsed.filters.length > 0) {
    const stage = parsed.filters[parsed.filters.length - 1] ?? [];
    // Only the filter's name is completed; its argument is free text.
    if (stage.length > 1 || (stage.length === 1 && parsed.trailingSpace)) return { help: [], completions: [], partial };
    const items = FILTERS.filter((f) => f.word.startsWith(lower));
    return { help: items.map((f) => formatHelpItem(f.word, f.help)), completions: items.map((f) => f.word), partial };
  }
  const before = parsed.trailingSpace ? parsed.words : parsed.words.slice(0, -1);
  const r = resolve(roots, before, v);
  if (!r.ok) return { help: [r.error], completions: [], partial };
  const help: string[] = [];
  const completions: string[] = [];
  if (r.args.length === 0) {
    const children = r.command === undefined ? visibleCommands(roots, v) : visibleCommands(r.command.children, v);
    for (const c of children) {
      if (!c.name.toLowerCase().startsWith(lower)) continue;
      help.push(formatHelpItem(c.name, c.help));
      completions.push(c.name);
    }
  }
  if (r.command !== undefined) {
    const a = argHelpFor(r.command, r.args, ctx);
    for (const item of a.items) {
      if (partial !== "" && (isPlaceholder(item.word) || !item.word.toLowerCase().startsWith(lower))) continue;
      help.push(formatHelpItem(item.word, item.help));
      if (!isPlaceholder(item.word)) completions.push(item.word);
    }
    if (partial === "" && a.cr) help.push("  <cr>");
  }
  return { help, completions, partial };
}

/** The lines of `help`: every command of this mode with a help text, by its full name. */
export function helpLines(roots: readonly CommandSpec[], v: Visibility): string[] {
  const out: string[] = ["", "Commands available:"];
  const walk = (list: readonly CommandSpec[], prefix: string): void => {
    for (const c of visibleCommands(list, v)) {
      const name = `${prefix}${c.name}`;
      if (c.help !== "") out.push(formatHelpItem(name, c.help));
      walk(c.children, `${name} `);
    }
  };
  walk(roots, "");
  return out;
}

/** The longest prefix that every word shares (case-insensitively), as the first word spells it. */
export function commonPrefix(words: readonly string[]): string {
  const first = words[0] ?? "";
  let n = first.length;
  for (const w of words) {
    let i = 0;
    while (i < n && i < w.length && w[i]?.toLowerCase() === first[i]?.toLowerCase()) i++;
    n = i;
  }
  return first.slice(0, n);
}
