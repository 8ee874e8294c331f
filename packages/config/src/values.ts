// Reading and writing one variable's value, driven by its table row. Shared by the startup-config
// parser and writer (and later by the CLI's "set" command), so the three can never disagree.
import { parseIpv4 } from "@lnsd/wire";
import { canonicalIpv6, formatIpv6, parseIpv6 } from "./ip.js";
import { quoteAlways } from "./lexer.js";
import { findVariable, type SettingValue, type StringFormat, type VariableSpec } from "./variables.js";

export type ValueResult =
  | { readonly ok: true; readonly value: SettingValue; readonly warning?: string }
  | { readonly ok: false; readonly error: string };

const INT_MAX = 2 ** 31 - 1;

/** syslog(3) facility names, as accepted after "syslog:" in log_file. */
export const SYSLOG_FACILITIES: readonly string[] = [
  "auth", "authpriv", "cron", "daemon", "ftp", "kern", "lpr", "mail", "mark", "news", "security", "syslog",
  "user", "uucp", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
];

const fail = (error: string): ValueResult => ({ ok: false, error });
const done = (value: SettingValue, warning?: string): ValueResult =>
  warning === undefined ? { ok: true, value } : { ok: true, value, warning };

function checkText(text: string): string | undefined {
  if (text.includes("#")) return "'#' cannot be stored: it starts a comment in the config file";
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(text)) return "control characters are not allowed";
  return undefined;
}

function checkFormat(format: StringFormat, text: string): string | undefined {
  if (text === "") return undefined;
  switch (format) {
    case "absolute-path":
      return text.startsWith("/") ? undefined : `'${text}' is not an absolute path`;
    case "log-target": {
      if (!text.startsWith("syslog:")) return undefined;
      const facility = text.slice("syslog:".length);
      return SYSLOG_FACILITIES.includes(facility)
        ? undefined
        : `'${facility}' is not a syslog facility (${SYSLOG_FACILITIES.join(", ")})`;
    }
    case "interface":
      if (new TextEncoder().encode(text).length > 15) return `'${text}' is too long for an interface name (15 characters at most)`;
      if (/[/:\s]/.test(text) || text === "." || text === "..") return `'${text}' is not a valid interface name`;
      return undefined;
    default: {
      const never: never = format;
      return never;
    }
  }
}

type Whole = { ok: true; value: number; warning?: string } | { ok: false; error: string };

/**
 * A number as l2tpns reads it (cli.c cmd_set: atoi, atol): blanks, an optional sign, decimal digits;
 * what follows the digits is ignored and a word with no digits is 0. lnsd reads the same value but
 * warns unless the text is a plain number, and checks the range, which l2tpns does not.
 */
function parseWhole(text: string, min: number, max: number): Whole {
  const m = /^[ \t]*([+-]?)([0-9]*)/.exec(text);
  const sign = m?.[1] ?? "";
  const digits = m?.[2] ?? "";
  const value = digits === "" ? 0 : Number(`${sign}${digits}`);
  const rest = text.slice(m?.[0].length ?? 0);
  const range = `(${min} to ${max})`;
  if (digits === "") {
    const error = `'${text}' is not a number`;
    return value < min || value > max ? { ok: false, error: `${error}, and 0 is out of range ${range}` } : { ok: true, value, warning: `${error}: read as 0, as l2tpns reads it` };
  }
  if (value < min || value > max) return { ok: false, error: `'${text}' is out of range ${range}` };
  return rest === "" ? { ok: true, value } : { ok: true, value, warning: `'${text}' is read as ${value}, as l2tpns reads it (what follows the number is ignored)` };
}

/** A boolean as l2tpns reads it (cli.c cmd_set): yes, true or 1 in any case is yes, any other word no. */
function parseBoolean(text: string): ValueResult {
  const word = text.toLowerCase();
  if (word === "yes" || word === "true" || word === "1") return done(true);
  if (word === "no" || word === "false" || word === "0") return done(false);
  return done(false, `'${text}' is read as no, as l2tpns reads it (only yes, true and 1 mean yes)`);
}

function splitList(text: string): string[] {
  return text.trim() === "" ? [] : text.split(",").map((s) => s.trim());
}

/** Parses the text of "set NAME VALUE" for one variable. Errors name the value, not the variable. */
export function parseSpecValue(spec: VariableSpec, text: string): ValueResult {
  switch (spec.kind) {
    case "string": {
      const bad = checkText(text) ?? (spec.format === undefined ? undefined : checkFormat(spec.format, text));
      if (bad !== undefined) return fail(bad);
      return done(text === "" && spec.emptyIsDefault === true ? spec.default : text);
    }
    case "int": {
      const r = parseWhole(text, spec.min ?? 0, spec.max ?? INT_MAX);
      if (!r.ok) return r;
      return done(r.value === 0 && spec.zeroIsDefault === true ? spec.default : r.value, r.warning);
    }
    case "port": {
      const r = parseWhole(text, 0, 65535);
      if (!r.ok) return r;
      return done(r.value === 0 && spec.zeroIsDefault === true ? spec.default : r.value, r.warning);
    }
    case "bool":
      return parseBoolean(text);
    case "ipv4":
      return parseIpv4(text, { syntax: "strict" }) === undefined ? fail(`'${text}' is not an IPv4 address`) : done(text);
    case "ipv6": {
      const canonical = canonicalIpv6(text);
      return canonical === undefined ? fail(`'${text}' is not an IPv6 address`) : done(canonical);
    }
    case "ipv6-prefix": {
      const slash = text.indexOf("/");
      const address = slash < 0 ? text : text.slice(0, slash);
      if (slash >= 0 && text.slice(slash + 1) !== "64") {
        return fail(`'${text}': only a /64 is accepted (the other 64 bits come from the subscriber's IPv4 address)`);
      }
      const groups = parseIpv6(address);
      if (groups === undefined) return fail(`'${text}' is not an IPv6 address`);
      const prefix = [...groups.slice(0, 4), 0, 0, 0, 0];
      const value = formatIpv6(prefix);
      return groups.slice(4).some((g) => g !== 0)
        ? done(value, `'${text}' has bits set after the first 64; only ${value}/64 is used`)
        : done(value);
    }
    case "ipv4-list": {
      const items = splitList(text);
      const out: string[] = [];
      for (const item of items) {
        if (parseIpv4(item, { syntax: "strict" }) === undefined) return fail(`'${item}' is not an IPv4 address`);
        if (out.includes(item)) return fail(`${item} is listed twice`);
        out.push(item);
      }
      return done(out);
    }
    case "enum-list": {
      const items = splitList(text).map((s) => s.toLowerCase());
      if (items.length === 0) {
        return spec.emptyIsDefault === true ? done(spec.default) : fail("the list is empty");
      }
      const out: string[] = [];
      for (const item of items) {
        if (!spec.values.includes(item)) return fail(`'${item}' is not one of ${spec.values.join(", ")}`);
        if (out.includes(item)) return fail(`${item} is listed twice`);
        out.push(item);
      }
      return done(out);
    }
    default: {
      const never: never = spec;
      return never;
    }
  }
}

/** Parses a value for the variable NAME; an unknown name is an error. */
export function parseSettingValue(name: string, text: string): ValueResult {
  const spec = findVariable(name);
  return spec === undefined ? fail(`unknown variable '${name}'`) : parseSpecValue(spec, text);
}

/** The text that follows "set NAME " for a value of this variable (strings quoted, as l2tpns writes them). */
export function formatSpecValue(spec: VariableSpec, value: SettingValue): string {
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "number") return String(value);
  if (typeof value !== "string") return quoteAlways(value.join(spec.kind === "ipv4-list" ? ", " : ","));
  return spec.kind === "string" ? quoteAlways(value) : value;
}

/** Whether two values of one variable are equal (lists element by element). */
export function sameValue(a: SettingValue, b: SettingValue): boolean {
  if (typeof a !== "object" || typeof b !== "object") return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
