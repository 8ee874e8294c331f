// Named access lists ("ip access-list standard|extended NAME" and their permit/deny rules), in the
// grammar of startup-config(5) and as l2tpns 2.4.1 checks it: tcp/udp rules may match ports, tcp
// rules may match flags, "fragments" never goes with a port or flag match, ports are 1 to 65535.
import { parseIpv4 } from "@lnsd/wire";

export type AclAction = "permit" | "deny";
export type AclType = "standard" | "extended";

/** A source or destination: any address, one host, or an address with a wildcard (1 bits = don't care). */
export type AddressMatch =
  | { readonly kind: "any" }
  | { readonly kind: "host"; readonly address: string }
  | { readonly kind: "wildcard"; readonly address: string; readonly wildcard: string };

export type PortMatch =
  | { readonly op: "eq" | "neq" | "gt" | "lt"; readonly port: number }
  | { readonly op: "range"; readonly from: number; readonly to: number };

/** In the order l2tpns writes them. */
export const TCP_FLAGS = ["fin", "syn", "rst", "psh", "ack", "urg"] as const;
export type TcpFlag = (typeof TCP_FLAGS)[number];

/** "established": RST or ACK set and SYN clear. match-any / match-all: flags that must be set (+) or clear (-). */
export type TcpFlagsMatch =
  | { readonly kind: "established" }
  | { readonly kind: "match-any" | "match-all"; readonly set: readonly TcpFlag[]; readonly clear: readonly TcpFlag[] };

export interface StandardRule {
  readonly action: AclAction;
  readonly source: AddressMatch;
  /** startup-config(5) allows a destination on standard rules; l2tpns 2.4.1 itself accepts only "any" there. */
  readonly destination?: AddressMatch;
}

interface ExtendedCommon {
  readonly action: AclAction;
  readonly source: AddressMatch;
  readonly destination: AddressMatch;
  /** Match only IP fragments (never together with a port or flag match). */
  readonly fragments: boolean;
}

export type ExtendedRule =
  | (ExtendedCommon & { readonly protocol: "ip" })
  | (ExtendedCommon & { readonly protocol: "udp"; readonly sourcePort?: PortMatch; readonly destinationPort?: PortMatch })
  | (ExtendedCommon & {
      readonly protocol: "tcp";
      readonly sourcePort?: PortMatch;
      readonly destinationPort?: PortMatch;
      readonly tcpFlags?: TcpFlagsMatch;
    });

export type AccessList =
  | { readonly name: string; readonly type: "standard"; readonly rules: readonly StandardRule[] }
  | { readonly name: string; readonly type: "extended"; readonly rules: readonly ExtendedRule[] };

type Parsed<T> = { readonly ok: true; readonly value: T; readonly next: number } | { readonly ok: false; readonly error: string };

/** l2tpns: letters, digits, "_" and "-", at most 31 characters. */
export function checkAccessListName(name: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(name)) return `'${name}' is not a valid access-list name (letters, digits, _ and - only)`;
  if (name.length > 31) return `access-list name '${name}' is longer than 31 characters`;
  return undefined;
}

function parseAddress(words: readonly string[], i: number, role: string, bareIsHost: boolean): Parsed<AddressMatch> {
  const word = words[i];
  if (word === undefined) return { ok: false, error: `missing ${role} (any, host ADDRESS, or ADDRESS WILDCARD)` };
  const key = word.toLowerCase();
  if (key === "any") return { ok: true, value: { kind: "any" }, next: i + 1 };
  if (key === "host") {
    const address = words[i + 1];
    if (address === undefined) return { ok: false, error: `missing address after 'host' in the ${role}` };
    if (parseIpv4(address, { syntax: "strict" }) === undefined) return { ok: false, error: `'${address}' is not an IPv4 address` };
    return { ok: true, value: { kind: "host", address }, next: i + 2 };
  }
  if (parseIpv4(word, { syntax: "strict" }) === undefined) {
    return { ok: false, error: `'${word}' is not a ${role} (any, host ADDRESS, or ADDRESS WILDCARD)` };
  }
  const wildcard = words[i + 1];
  if (wildcard === undefined || parseIpv4(wildcard, { syntax: "strict" }) === undefined) {
    if (bareIsHost) return { ok: true, value: { kind: "host", address: word }, next: i + 1 };
    return {
      ok: false,
      error: wildcard === undefined
        ? `${role} ${word} needs a wildcard mask (or write 'host ${word}')`
        : `'${wildcard}' is not a wildcard mask for ${word}`,
    };
  }
  if (wildcard === "0.0.0.0") return { ok: true, value: { kind: "host", address: word }, next: i + 2 };
  if (wildcard === "255.255.255.255") return { ok: true, value: { kind: "any" }, next: i + 2 };
  return { ok: true, value: { kind: "wildcard", address: word, wildcard }, next: i + 2 };
}

function parsePortNumber(word: string | undefined): number | string {
  if (word === undefined) return "missing port number";
  if (!/^[0-9]+$/.test(word) || Number(word) < 1 || Number(word) > 65535) return `'${word}' is not a port number (1 to 65535)`;
  return Number(word);
}

function parsePorts(words: readonly string[], i: number): Parsed<PortMatch | undefined> {
  const op = words[i]?.toLowerCase();
  if (op === "eq" || op === "neq" || op === "gt" || op === "lt") {
    const port = parsePortNumber(words[i + 1]);
    if (typeof port === "string") return { ok: false, error: port };
    return { ok: true, value: { op, port }, next: i + 2 };
  }
  if (op === "range") {
    const from = parsePortNumber(words[i + 1]);
    if (typeof from === "string") return { ok: false, error: from };
    const to = parsePortNumber(words[i + 2]);
    if (typeof to === "string") return { ok: false, error: to };
    if (from > to) return { ok: false, error: `port range ${from} to ${to} is empty` };
    return { ok: true, value: { op, from, to }, next: i + 3 };
  }
  return { ok: true, value: undefined, next: i };
}

function parseFlags(kind: "match-any" | "match-all", words: readonly string[], i: number): Parsed<TcpFlagsMatch> {
  const set = new Set<TcpFlag>();
  const clear = new Set<TcpFlag>();
  let j = i;
  for (; j < words.length; j++) {
    const word = (words[j] ?? "").toLowerCase();
    if (word === "fragments") return { ok: false, error: "'fragments' cannot be combined with a port or TCP flag match" };
    const sign = word.charAt(0);
    const flag = TCP_FLAGS.find((f) => f === word.slice(1));
    if ((sign !== "+" && sign !== "-") || flag === undefined) {
      return { ok: false, error: `'${words[j] ?? ""}' is not a TCP flag (+ or - then ${TCP_FLAGS.join(", ")})` };
    }
    const mine = sign === "+" ? set : clear;
    const other = sign === "+" ? clear : set;
    if (other.has(flag)) return { ok: false, error: `TCP flag ${flag} is asked to be both set and clear` };
    mine.add(flag);
  }
  if (j === i) return { ok: false, error: `${kind} needs TCP flags (+ or - then ${TCP_FLAGS.join(", ")})` };
  const ordered = (s: ReadonlySet<TcpFlag>): TcpFlag[] => TCP_FLAGS.filter((f) => s.has(f));
  return { ok: true, value: { kind, set: ordered(set), clear: ordered(clear) }, next: j };
}

export type RuleResult<R> = { readonly ok: true; readonly rule: R } | { readonly ok: false; readonly error: string };

/** Parses "permit|deny SOURCE [DESTINATION]" (words[0] is the action). */
export function parseStandardRule(words: readonly string[]): RuleResult<StandardRule> {
  const action = parseAction(words[0]);
  if (action === undefined) return { ok: false, error: `'${words[0] ?? ""}' is not permit or deny` };
  const source = parseAddress(words, 1, "source", true);
  if (!source.ok) return source;
  if (source.next >= words.length) return { ok: true, rule: { action, source: source.value } };
  const destination = parseAddress(words, source.next, "destination", true);
  if (!destination.ok) return destination;
  const extra = words[destination.next];
  if (extra !== undefined) return { ok: false, error: `unexpected '${extra}' at the end of a standard rule` };
  return { ok: true, rule: { action, source: source.value, destination: destination.value } };
}

/** Parses "permit|deny PROTO SOURCE [PORTS] DEST [PORTS] [FLAGS | fragments]" (words[0] is the action). */
export function parseExtendedRule(words: readonly string[]): RuleResult<ExtendedRule> {
  const action = parseAction(words[0]);
  if (action === undefined) return { ok: false, error: `'${words[0] ?? ""}' is not permit or deny` };
  const protocolWord = words[1];
  if (protocolWord === undefined) return { ok: false, error: "missing protocol (ip, tcp or udp)" };
  const protocol = protocolWord.toLowerCase();
  if (protocol !== "ip" && protocol !== "tcp" && protocol !== "udp") {
    return { ok: false, error: `'${protocolWord}' is not a protocol (ip, tcp or udp)` };
  }
  const hasPorts = protocol !== "ip";
  const source = parseAddress(words, 2, "source", false);
  if (!source.ok) return source;
  const sourcePort = hasPorts ? parsePorts(words, source.next) : { ok: true as const, value: undefined, next: source.next };
  if (!sourcePort.ok) return sourcePort;
  const destination = parseAddress(words, sourcePort.next, "destination", false);
  if (!destination.ok) return destination;
  const destinationPort = hasPorts
    ? parsePorts(words, destination.next)
    : { ok: true as const, value: undefined, next: destination.next };
  if (!destinationPort.ok) return destinationPort;

  let i = destinationPort.next;
  let fragments = false;
  let tcpFlags: TcpFlagsMatch | undefined;
  const word = words[i]?.toLowerCase();
  if (word === "established" || word === "match-any" || word === "match-all") {
    if (protocol !== "tcp") return { ok: false, error: `'${word}' applies to tcp rules only` };
    if (word === "established") {
      tcpFlags = { kind: "established" };
      i++;
    } else {
      const flags = parseFlags(word, words, i + 1);
      if (!flags.ok) return flags;
      tcpFlags = flags.value;
      i = flags.next;
    }
  } else if (word === "fragments") {
    fragments = true;
    i++;
  }
  const extra = words[i];
  if (extra !== undefined) {
    return extra.toLowerCase() === "fragments"
      ? { ok: false, error: "'fragments' cannot be combined with a port or TCP flag match" }
      : { ok: false, error: `unexpected '${extra}' in the rule` };
  }
  const l4 = sourcePort.value !== undefined || destinationPort.value !== undefined || tcpFlags !== undefined;
  if (fragments && l4) return { ok: false, error: "'fragments' cannot be combined with a port or TCP flag match" };

  const common = { action, source: source.value, destination: destination.value, fragments };
  const ports = {
    ...(sourcePort.value === undefined ? {} : { sourcePort: sourcePort.value }),
    ...(destinationPort.value === undefined ? {} : { destinationPort: destinationPort.value }),
  };
  switch (protocol) {
    case "ip":
      return { ok: true, rule: { protocol, ...common } };
    case "udp":
      return { ok: true, rule: { protocol, ...common, ...ports } };
    case "tcp":
      return { ok: true, rule: { protocol, ...common, ...ports, ...(tcpFlags === undefined ? {} : { tcpFlags }) } };
  }
}

function parseAction(word: string | undefined): AclAction | undefined {
  const key = word?.toLowerCase();
  return key === "permit" || key === "deny" ? key : undefined;
}

export function formatAddressMatch(m: AddressMatch): string {
  switch (m.kind) {
    case "any":
      return "any";
    case "host":
      return `host ${m.address}`;
    case "wildcard":
      return `${m.address} ${m.wildcard}`;
  }
}

function formatPorts(p: PortMatch | undefined): string {
  if (p === undefined) return "";
  return p.op === "range" ? ` range ${p.from} ${p.to}` : ` ${p.op} ${p.port}`;
}

function formatFlags(f: TcpFlagsMatch | undefined): string {
  if (f === undefined) return "";
  if (f.kind === "established") return " established";
  const signs = TCP_FLAGS.flatMap((flag) => (f.set.includes(flag) ? [`+${flag}`] : f.clear.includes(flag) ? [`-${flag}`] : []));
  return ` ${f.kind} ${signs.join(" ")}`;
}

/** One rule as a startup-config line (without the leading blank). */
export function formatStandardRule(r: StandardRule): string {
  const dest = r.destination === undefined ? "" : ` ${formatAddressMatch(r.destination)}`;
  return `${r.action} ${formatAddressMatch(r.source)}${dest}`;
}

export function formatExtendedRule(r: ExtendedRule): string {
  const sourcePort = r.protocol === "ip" ? "" : formatPorts(r.sourcePort);
  const destinationPort = r.protocol === "ip" ? "" : formatPorts(r.destinationPort);
  const flags = r.protocol === "tcp" ? formatFlags(r.tcpFlags) : "";
  return (
    `${r.action} ${r.protocol} ${formatAddressMatch(r.source)}${sourcePort} ` +
    `${formatAddressMatch(r.destination)}${destinationPort}${flags}${r.fragments ? " fragments" : ""}`
  );
}
