// Keys from a telnet client's byte stream, and the line being edited with what the terminal must
// be sent to show each change (libcli's editing keys: Ctrl-A/E/K/U/W, Ctrl-B/F/P/N, arrows,
// backspace, delete). Pure.

export type KeyKind =
  | "enter" | "backspace" | "delete" | "left" | "right" | "up" | "down" | "home" | "end"
  | "kill-to-end" | "kill-line" | "kill-word" | "tab" | "help" | "interrupt" | "eof" | "redraw" | "exit-mode";

/** "char" carries one or more plain characters, as typed or pasted. */
export type Key = { readonly kind: "char"; readonly ch: string } | { readonly kind: KeyKind };

const CTRL: Readonly<Record<number, KeyKind>> = {
  0x01: "home", // Ctrl-A
  0x02: "left", // Ctrl-B
  0x03: "interrupt", // Ctrl-C
  0x04: "eof", // Ctrl-D
  0x05: "end", // Ctrl-E
  0x06: "right", // Ctrl-F
  0x08: "backspace", // Ctrl-H
  0x09: "tab",
  0x0b: "kill-to-end", // Ctrl-K
  0x0c: "redraw", // Ctrl-L
  0x0e: "down", // Ctrl-N
  0x10: "up", // Ctrl-P
  0x15: "kill-line", // Ctrl-U
  0x17: "kill-word", // Ctrl-W
  0x1a: "exit-mode", // Ctrl-Z
  0x7f: "backspace",
};

/** ESC [ or ESC O followed by this: VT100 / xterm cursor keys. */
const ESCAPES: Readonly<Record<string, KeyKind>> = {
  A: "up", B: "down", C: "right", D: "left", H: "home", F: "end",
  "1~": "home", "7~": "home", "4~": "end", "8~": "end", "3~": "delete",
};

/** Splits what the client typed into keys; an escape sequence may span two reads. */
export class KeyDecoder {
  private pending = "";
  /** Enter arrives as CR LF or CR NUL from telnet: the byte after a CR is dropped. */
  private afterCr = false;

  /** Keys in `text`; a run of plain characters is one "char" key (a paste costs one key, not one per byte). */
  decode(text: string): Key[] {
    const keys: Key[] = [];
    const s = this.pending + text;
    this.pending = "";
    let i = 0;
    while (i < s.length) {
      const ch = s.charAt(i);
      const code = s.charCodeAt(i);
      if (this.afterCr) {
        this.afterCr = false;
        if (ch === "\n" || ch === "\0") {
          i++;
          continue;
        }
      }
      if (ch === "\x1b") {
        const rest = s.slice(i, i + 16);
        const m = /^.[[O]([0-9;]*[A-Za-z~])/.exec(rest);
        if (m === null) {
          // Wait for the rest of a sequence cut by the read; a lone ESC followed by more is dropped.
          if (i + rest.length === s.length && /^.([[O][0-9;]*)?$/.test(rest)) {
            this.pending = rest;
            return keys;
          }
          i++;
          continue;
        }
        const kind = ESCAPES[m[1] ?? ""];
        if (kind !== undefined) keys.push({ kind });
        i += m[0].length;
        continue;
      }
      if (ch === "\r" || ch === "\n") {
        keys.push({ kind: "enter" });
        this.afterCr = ch === "\r";
        i++;
      } else if (ch === "?") {
        keys.push({ kind: "help" });
        i++;
      } else if (code < 0x20 || code === 0x7f) {
        const kind = CTRL[code];
        if (kind !== undefined) keys.push({ kind });
        i++;
      } else {
        let j = i + 1;
        while (j < s.length && isPlain(s.charCodeAt(j))) j++;
        keys.push({ kind: "char", ch: s.slice(i, j) });
        i = j;
      }
    }
    return keys;
  }
}

/** A character typed as itself: not a control, not ESC, not the help key. */
function isPlain(code: number): boolean {
  return code >= 0x20 && code !== 0x7f && code !== 0x3f;
}

export const MAX_LINE = 4096;

/** The line and the cursor; each change returns the bytes that show it (none when not echoing). */
export class LineEditor {
  line = "";
  cursor = 0;

  constructor(public echo = true) {}

  /** Moves from (old line, old cursor) to the new ones with backspaces and rewrites only the changed tail. */
  private change(line: string, cursor: number): string {
    const before = this.line;
    const from = this.cursor;
    this.line = line;
    this.cursor = cursor;
    if (!this.echo) return "";
    let d = 0;
    while (d < before.length && d < line.length && before[d] === line[d]) d++;
    let out = "";
    let pos = from;
    if (pos > d) {
      out += "\b".repeat(pos - d);
      pos = d;
    } else if (pos < d) {
      out += line.slice(pos, d);
      pos = d;
    }
    out += line.slice(d);
    pos = line.length;
    if (before.length > line.length) {
      out += " ".repeat(before.length - line.length);
      pos = before.length;
    }
    out += "\b".repeat(pos - cursor);
    return out;
  }

  insert(text: string): string {
    if (this.line.length + text.length > MAX_LINE) return "\x07";
    if (this.cursor === this.line.length) {
      // Typing at the end of the line, the common case: no diff of the whole line per key.
      this.line += text;
      this.cursor = this.line.length;
      return this.echo ? text : "";
    }
    return this.change(this.line.slice(0, this.cursor) + text + this.line.slice(this.cursor), this.cursor + text.length);
  }

  /** Replaces the whole line (history), the cursor at its end. */
  replace(line: string): string {
    return this.change(line, line.length);
  }

  /** The line is done (Enter): returns it and starts an empty one. */
  take(): string {
    const line = this.line;
    this.line = "";
    this.cursor = 0;
    return line;
  }

  /** An editing key; undefined if it is not one. */
  edit(kind: Key["kind"]): string | undefined {
    const { line, cursor } = this;
    switch (kind) {
      case "backspace":
        return cursor === 0 ? "" : this.change(line.slice(0, cursor - 1) + line.slice(cursor), cursor - 1);
      case "delete":
        return cursor === line.length ? "" : this.change(line.slice(0, cursor) + line.slice(cursor + 1), cursor);
      case "left":
        return cursor === 0 ? "" : this.change(line, cursor - 1);
      case "right":
        return cursor === line.length ? "" : this.change(line, cursor + 1);
      case "home":
        return this.change(line, 0);
      case "end":
        return this.change(line, line.length);
      case "kill-to-end":
        return this.change(line.slice(0, cursor), cursor);
      case "kill-line":
        return this.change("", 0);
      case "kill-word": {
        let start = cursor;
        while (start > 0 && line[start - 1] === " ") start--;
        while (start > 0 && line[start - 1] !== " ") start--;
        return this.change(line.slice(0, start) + line.slice(cursor), start);
      }
      default:
        return undefined;
    }
  }
}
