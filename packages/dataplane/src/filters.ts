// IP access lists for the workers (l2tpns's "ip access-list standard|extended", applied to
// sessions by RADIUS Filter-Id, the CLI and CoA): the control thread compiles the named lists into
// fixed rule records in a SharedArrayBuffer, the workers match IPv4 packets against them and count
// each rule's hits with Atomics. A list ends with an implicit deny, as Cisco's and l2tpns's do.
// Two banks: a reload compiles into the idle one and then flips, so a worker never sees a list half
// written.

/** What a rule matches (addresses in host order; mask bits set = must match). */
export interface FilterRule {
  readonly permit: boolean;
  /** 0 any IP protocol, 6 TCP, 17 UDP. */
  readonly protocol: 0 | 6 | 17;
  readonly source: { readonly address: number; readonly mask: number };
  readonly destination: { readonly address: number; readonly mask: number };
  readonly sourcePort?: PortTest;
  readonly destinationPort?: PortTest;
  readonly tcp?: TcpTest;
  /** Matches only non-initial fragments (fragment offset > 0). */
  readonly fragments?: boolean;
}

export type PortTest = { readonly op: "eq" | "neq" | "gt" | "lt"; readonly port: number } | { readonly op: "range"; readonly from: number; readonly to: number };

/** TCP flags as bits of the TCP header's flags byte: FIN 1, SYN 2, RST 4, PSH 8, ACK 16, URG 32. */
export type TcpTest = { readonly kind: "established" } | { readonly kind: "match-any" | "match-all"; readonly set: number; readonly clear: number };

export interface FilterList {
  readonly name: string;
  readonly rules: readonly FilterRule[];
}

/** Rule words. */
const F = {
  ACTION: 0,
  PROTOCOL: 1,
  SRC: 2,
  SRC_MASK: 3,
  DST: 4,
  DST_MASK: 5,
  SPORT_OP: 6,
  SPORT_A: 7,
  SPORT_B: 8,
  DPORT_OP: 9,
  DPORT_A: 10,
  DPORT_B: 11,
  TCP_KIND: 12,
  TCP_SET: 13,
  TCP_CLEAR: 14,
  FRAGMENTS: 15,
} as const;
const RULE_WORDS = 16;
const PORT_OP = { none: 0, eq: 1, neq: 2, gt: 3, lt: 4, range: 5 } as const;
const TCP_KIND = { none: 0, established: 1, "match-any": 2, "match-all": 3 } as const;
const TCP_ACK = 0x10;
const TCP_RST = 0x04;

/** Header words: the bank in use, then per bank and list [first rule, rule count]. */
const BANK = 0;
const HEADER_WORDS = 1;

export const MAX_LISTS = 256;
export const MAX_RULES = 4096;

export interface FilterBuffers {
  readonly header: SharedArrayBuffer;
  readonly rules: SharedArrayBuffer;
  /** Per bank and rule: packets matched. */
  readonly hits: SharedArrayBuffer;
}

export interface FilterViews {
  readonly header: Int32Array;
  readonly rules: Int32Array;
  readonly hits: Int32Array;
}

export function allocateFilters(): FilterBuffers {
  return {
    header: new SharedArrayBuffer((HEADER_WORDS + 2 * MAX_LISTS * 2) * 4),
    rules: new SharedArrayBuffer(2 * MAX_RULES * RULE_WORDS * 4),
    hits: new SharedArrayBuffer(2 * MAX_RULES * 4),
  };
}

export function viewFilters(b: FilterBuffers): FilterViews {
  return { header: new Int32Array(b.header), rules: new Int32Array(b.rules), hits: new Int32Array(b.hits) };
}

function listAt(bank: number, list: number): number {
  return HEADER_WORDS + (bank * MAX_LISTS + list) * 2;
}

function portOk(op: number, a: number, b: number, port: number): boolean {
  switch (op) {
    case PORT_OP.eq:
      return port === a;
    case PORT_OP.neq:
      return port !== a;
    case PORT_OP.gt:
      return port > a;
    case PORT_OP.lt:
      return port < a;
    case PORT_OP.range:
      return port >= a && port <= b;
    default:
      return true;
  }
}

/**
 * Whether list `list` (its index in the compiled set) permits the IPv4 packet at buf[offset,
 * offset + length); counts the hit of the rule that decided. No rule matching is a deny.
 */
export function filterPermits(f: FilterViews, list: number, buf: Uint8Array, offset: number, length: number): boolean {
  if (list < 0 || list >= MAX_LISTS || length < 20) return false;
  const bank = Atomics.load(f.header, BANK);
  const at = listAt(bank, list);
  const first = Atomics.load(f.header, at);
  const count = Atomics.load(f.header, at + 1);
  const ihl = ((buf[offset] ?? 0) & 0x0f) * 4;
  const protocol = buf[offset + 9] ?? 0;
  const fragmentOffset = (((buf[offset + 6] ?? 0) & 0x1f) << 8) | (buf[offset + 7] ?? 0);
  const src = ((buf[offset + 12] ?? 0) << 24) | ((buf[offset + 13] ?? 0) << 16) | ((buf[offset + 14] ?? 0) << 8) | (buf[offset + 15] ?? 0);
  const dst = ((buf[offset + 16] ?? 0) << 24) | ((buf[offset + 17] ?? 0) << 16) | ((buf[offset + 18] ?? 0) << 8) | (buf[offset + 19] ?? 0);
  // The transport header is there only in the first fragment, and only if the packet holds it.
  const l4 = offset + ihl;
  const hasPorts = fragmentOffset === 0 && (protocol === 6 || protocol === 17) && l4 + 4 <= offset + length;
  const sport = hasPorts ? ((buf[l4] ?? 0) << 8) | (buf[l4 + 1] ?? 0) : -1;
  const dport = hasPorts ? ((buf[l4 + 2] ?? 0) << 8) | (buf[l4 + 3] ?? 0) : -1;
  const tcpFlags = fragmentOffset === 0 && protocol === 6 && l4 + 14 <= offset + length ? (buf[l4 + 13] ?? 0) : -1;
  const r = f.rules;
  for (let i = 0; i < count; i++) {
    const rule = first + i;
    const w = rule * RULE_WORDS;
    const p = r[w + F.PROTOCOL] ?? 0;
    if (p !== 0 && p !== protocol) continue;
    if ((src & (r[w + F.SRC_MASK] ?? 0)) !== (r[w + F.SRC] ?? 0)) continue;
    if ((dst & (r[w + F.DST_MASK] ?? 0)) !== (r[w + F.DST] ?? 0)) continue;
    if (r[w + F.FRAGMENTS] === 1 && fragmentOffset === 0) continue;
    const sop = r[w + F.SPORT_OP] ?? 0;
    if (sop !== PORT_OP.none && (sport < 0 || !portOk(sop, r[w + F.SPORT_A] ?? 0, r[w + F.SPORT_B] ?? 0, sport))) continue;
    const dop = r[w + F.DPORT_OP] ?? 0;
    if (dop !== PORT_OP.none && (dport < 0 || !portOk(dop, r[w + F.DPORT_A] ?? 0, r[w + F.DPORT_B] ?? 0, dport))) continue;
    const kind = r[w + F.TCP_KIND] ?? 0;
    if (kind !== TCP_KIND.none) {
      if (tcpFlags < 0) continue;
      const set = r[w + F.TCP_SET] ?? 0;
      const clear = r[w + F.TCP_CLEAR] ?? 0;
      if (kind === TCP_KIND.established) {
        if ((tcpFlags & (TCP_ACK | TCP_RST)) === 0) continue;
      } else if (kind === TCP_KIND["match-all"]) {
        if ((tcpFlags & set) !== set || (tcpFlags & clear) !== 0) continue;
      } else if ((tcpFlags & set) === 0 && (~tcpFlags & clear) === 0) {
        continue;
      }
    }
    Atomics.add(f.hits, rule, 1);
    return r[w + F.ACTION] === 1;
  }
  return false;
}

/** The control thread's side: compiles lists into the idle bank, flips, and reads hit counts. */
export class FilterWriter {
  readonly views: FilterViews;
  private names: readonly string[] = [];
  private present = new Set<string>();

  constructor(readonly buffers: FilterBuffers) {
    this.views = viewFilters(buffers);
  }

  /** The index of a list by name (what a session's record holds), or -1 when no such list is loaded. */
  indexOf(name: string): number {
    const i = this.names.indexOf(name);
    return i >= 0 && this.present.has(name) ? i : -1;
  }

  /**
   * Replaces every list. Returns an error when they do not fit (MAX_LISTS lists, MAX_RULES rules);
   * the lists in force stay then. List indexes stay those of names already known, so sessions
   * keep their filters across a reload.
   */
  load(lists: readonly FilterList[]): string | undefined {
    // Indexes are never reused: a list that went away keeps its index with no rules, so a session
    // still filtered by it denies everything rather than meeting another list.
    const names = [...this.names, ...lists.map((l) => l.name).filter((n) => !this.names.includes(n))];
    const ordered = names.map((n) => lists.find((l) => l.name === n));
    const rules = ordered.reduce((a, l) => a + (l?.rules.length ?? 0), 0);
    if (ordered.length > MAX_LISTS) return `${ordered.length} access lists: at most ${MAX_LISTS}`;
    if (rules > MAX_RULES) return `${rules} access-list rules: at most ${MAX_RULES}`;
    const { header, rules: words, hits } = this.views;
    const bank = 1 - Atomics.load(header, BANK);
    let next = bank * MAX_RULES;
    for (let i = 0; i < MAX_LISTS; i++) {
      const list = ordered[i];
      const at = listAt(bank, i);
      Atomics.store(header, at, next);
      Atomics.store(header, at + 1, list?.rules.length ?? 0);
      for (const rule of list?.rules ?? []) {
        writeRule(words, next * RULE_WORDS, rule);
        Atomics.store(hits, next, 0);
        next++;
      }
    }
    Atomics.store(header, BANK, bank);
    this.names = names;
    this.present = new Set(lists.map((l) => l.name));
    return undefined;
  }

  /** Hits per rule of a list, in rule order (since the last load). */
  hits(name: string): number[] {
    const i = this.names.indexOf(name);
    if (i < 0) return [];
    const bank = Atomics.load(this.views.header, BANK);
    const at = listAt(bank, i);
    const first = Atomics.load(this.views.header, at);
    const count = Atomics.load(this.views.header, at + 1);
    const out: number[] = [];
    for (let r = 0; r < count; r++) out.push(Atomics.load(this.views.hits, first + r) >>> 0);
    return out;
  }
}

function portWords(t: PortTest | undefined): [number, number, number] {
  if (t === undefined) return [PORT_OP.none, 0, 0];
  return t.op === "range" ? [PORT_OP.range, t.from, t.to] : [PORT_OP[t.op], t.port, 0];
}

function writeRule(words: Int32Array, at: number, rule: FilterRule): void {
  const [sop, sa, sb] = portWords(rule.sourcePort);
  const [dop, da, db] = portWords(rule.destinationPort);
  const tcp = rule.tcp;
  const values = [
    rule.permit ? 1 : 0,
    rule.protocol,
    (rule.source.address & rule.source.mask) | 0,
    rule.source.mask | 0,
    (rule.destination.address & rule.destination.mask) | 0,
    rule.destination.mask | 0,
    sop, sa, sb, dop, da, db,
    tcp === undefined ? TCP_KIND.none : TCP_KIND[tcp.kind],
    tcp === undefined || tcp.kind === "established" ? 0 : tcp.set,
    tcp === undefined || tcp.kind === "established" ? 0 : tcp.clear,
    rule.fragments === true ? 1 : 0,
  ];
  for (let i = 0; i < RULE_WORDS; i++) Atomics.store(words, at + i, values[i] ?? 0);
}
