// A small JSON parser that keeps every object member in document order, duplicates included.
// tshark's `-T json` repeats keys within one object (a PPP frame carrying IPv4 has two "ip"
// layers; two AVPs of one kind give two "Random Vector AVP" members), which JSON.parse would
// collapse to the last one. Used by tshark.ts; runs in the test process only.

export type JsonValue = string | number | boolean | null | JsonObject | JsonArray;
export interface JsonEntry {
  readonly key: string;
  readonly value: JsonValue;
}
export interface JsonObject {
  readonly kind: "object";
  readonly entries: readonly JsonEntry[];
}
export interface JsonArray {
  readonly kind: "array";
  readonly items: readonly JsonValue[];
}

export function isJsonObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && v.kind === "object";
}

export function isJsonArray(v: JsonValue | undefined): v is JsonArray {
  return typeof v === "object" && v !== null && v.kind === "array";
}

/** The first member named `key`, if any. */
export function member(obj: JsonObject, key: string): JsonValue | undefined {
  return obj.entries.find((e) => e.key === key)?.value;
}

/** Every member named `key`, in order. */
export function members(obj: JsonObject, key: string): JsonValue[] {
  return obj.entries.filter((e) => e.key === key).map((e) => e.value);
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const ESCAPES: Readonly<Record<string, string>> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

class Parser {
  private pos = 0;
  constructor(private readonly text: string) {}

  parseDocument(): JsonValue {
    const v = this.value();
    this.skipWs();
    if (this.pos !== this.text.length) this.fail("trailing characters");
    return v;
  }

  private fail(what: string): never {
    throw new SyntaxError(`JSON: ${what} at offset ${this.pos}`);
  }

  private skipWs(): void {
    while (this.pos < this.text.length && WS.has(this.text.charCodeAt(this.pos))) this.pos++;
  }

  private expect(ch: string): void {
    if (this.text[this.pos] !== ch) this.fail(`expected '${ch}'`);
    this.pos++;
  }

  private value(): JsonValue {
    this.skipWs();
    const ch = this.text[this.pos];
    switch (ch) {
      case "{":
        return this.object();
      case "[":
        return this.array();
      case '"':
        return this.string();
      case "t":
        return this.literal("true", true);
      case "f":
        return this.literal("false", false);
      case "n":
        return this.literal("null", null);
      default:
        return this.number();
    }
  }

  private literal<T>(word: string, v: T): T {
    if (!this.text.startsWith(word, this.pos)) this.fail(`expected ${word}`);
    this.pos += word.length;
    return v;
  }

  private number(): number {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.text.slice(this.pos, this.pos + 64));
    if (m === null) this.fail("expected a value");
    this.pos += m[0].length;
    return Number(m[0]);
  }

  private string(): string {
    this.expect('"');
    let out = "";
    for (;;) {
      const i = this.text.indexOf('"', this.pos);
      const j = this.text.indexOf("\\", this.pos);
      if (i < 0) this.fail("unterminated string");
      if (j < 0 || i < j) {
        out += this.text.slice(this.pos, i);
        this.pos = i + 1;
        return out;
      }
      out += this.text.slice(this.pos, j);
      const esc = this.text[j + 1] ?? "";
      if (esc === "u") {
        const hex = this.text.slice(j + 2, j + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("bad \\u escape");
        out += String.fromCharCode(parseInt(hex, 16)); // surrogate pairs join up in the string
        this.pos = j + 6;
      } else {
        const rep = ESCAPES[esc];
        if (rep === undefined) this.fail("bad escape");
        out += rep;
        this.pos = j + 2;
      }
    }
  }

  private object(): JsonObject {
    this.expect("{");
    const entries: JsonEntry[] = [];
    this.skipWs();
    if (this.text[this.pos] === "}") {
      this.pos++;
      return { kind: "object", entries };
    }
    for (;;) {
      this.skipWs();
      const key = this.string();
      this.skipWs();
      this.expect(":");
      entries.push({ key, value: this.value() });
      this.skipWs();
      if (this.text[this.pos] === ",") {
        this.pos++;
        continue;
      }
      this.expect("}");
      return { kind: "object", entries };
    }
  }

  private array(): JsonArray {
    this.expect("[");
    const items: JsonValue[] = [];
    this.skipWs();
    if (this.text[this.pos] === "]") {
      this.pos++;
      return { kind: "array", items };
    }
    for (;;) {
      items.push(this.value());
      this.skipWs();
      if (this.text[this.pos] === ",") {
        this.pos++;
        continue;
      }
      this.expect("]");
      return { kind: "array", items };
    }
  }
}

/** Parses JSON text; throws SyntaxError on invalid JSON (the input is tshark's, not the network's). */
export function parseOrderedJson(text: string): JsonValue {
  return new Parser(text).parseDocument();
}

/** Converts to plain JS values (later duplicate keys win, as with JSON.parse). */
export function toPlain(v: JsonValue): unknown {
  if (isJsonArray(v)) return v.items.map(toPlain);
  if (isJsonObject(v)) return Object.fromEntries(v.entries.map((e) => [e.key, toPlain(e.value)]));
  return v;
}
