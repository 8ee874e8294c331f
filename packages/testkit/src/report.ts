// What a LAC simulator run did, as plain data (for tests, benchmarks and JSON output) and as a few
// stable lines of text (for the `lac` command and the demo). Pure: no I/O.
import { CDN_RESULT_TEXT, L2TP_ERROR_CODE_TEXT, STOPCCN_RESULT_TEXT } from "@lnsd/wire";
import type { ReliableCounters } from "@lnsd/l2tp";
import type { ImpairmentCounters } from "./impairment.js";

/** Durations in milliseconds. */
export interface TimeStats {
  readonly count: number;
  readonly minMs: number;
  readonly medianMs: number;
  readonly p95Ms: number;
  readonly maxMs: number;
}

/** How many tunnels or calls ended with one Result Code / Error Code, and one message as sample. */
export interface ResultCount {
  /** "peer": the LNS sent the StopCCN/CDN; "local": this LAC gave up (timeout, auth check...). */
  readonly by: "peer" | "local";
  readonly resultCode: number;
  readonly errorCode?: number;
  readonly message?: string;
  readonly count: number;
}

export interface LacReport {
  /** From start() until now, or until close(). */
  readonly elapsedMs: number;
  /** From start() until the last call came up, when they all did. */
  readonly allUpMs?: number;
  readonly tunnels: {
    readonly requested: number;
    /** Reached established at some point. */
    readonly up: number;
    /** Ended before reaching established. */
    readonly failed: number;
    /** Established right now. */
    readonly established: number;
    readonly failures: readonly ResultCount[];
    /** SCCRQ sent to SCCRP received (SCCCN sent). */
    readonly setup: TimeStats;
  };
  readonly sessions: {
    readonly requested: number;
    /** ICRQ queued in a tunnel (placed); the rest never got a tunnel. */
    readonly placed: number;
    /** Reached established (ICRP received, ICCN sent) at some point. */
    readonly up: number;
    /** Cleared by the LNS before reaching established (CDN), by Result Code. */
    readonly refused: number;
    /** Given up locally before reaching established (setup timeout, tunnel lost). */
    readonly failed: number;
    /** Established right now. */
    readonly established: number;
    /** Went down after being up (clearAll, a CDN from the LNS, the tunnel closing). */
    readonly down: number;
    readonly refusals: readonly ResultCount[];
    readonly failures: readonly ResultCount[];
    /** placeCall (ICRQ queued) to ICRP received. */
    readonly setup: TimeStats;
  };
  /** Control messages, summed over every tunnel the run had (RFC 2661 5.8 reliable delivery). */
  readonly reliable: ReliableCounters;
  /**
   * What the LAC threw away, by reason: the L2TP node's counters (bad headers, unknown tunnels...),
   * the reliable layer's ("reliable:duplicate", "reliable:out-of-window") and
   * the impairment's losses ("impairment:lost-out", "impairment:lost-in").
   */
  readonly drops: Readonly<Record<string, number>>;
  /** What the impairment did, when there was one. */
  readonly impairment?: ImpairmentCounters;
}

export function timeStats(samples: readonly number[]): TimeStats {
  if (samples.length === 0) return { count: 0, minMs: 0, medianMs: 0, p95Ms: 0, maxMs: 0 };
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
  const round = (x: number): number => Math.round(x * 10) / 10;
  return { count: s.length, minMs: round(s[0] ?? 0), medianMs: round(at(0.5)), p95Ms: round(at(0.95)), maxMs: round(s[s.length - 1] ?? 0) };
}

/** Groups ends by who and which codes, most frequent first. */
export function countResults(ends: readonly { by: "peer" | "local"; resultCode: number; errorCode?: number; message?: string }[]): ResultCount[] {
  const groups = new Map<string, { by: "peer" | "local"; resultCode: number; errorCode?: number; message?: string; count: number }>();
  for (const e of ends) {
    const key = `${e.by}/${e.resultCode}/${e.errorCode ?? ""}`;
    const g = groups.get(key);
    if (g !== undefined) g.count++;
    else groups.set(key, { ...e, count: 1 });
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}

function textTable(table: Readonly<Record<number, string>>): ReadonlyMap<number, string> {
  return new Map(Object.entries(table).map(([k, v]) => [Number(k), v]));
}

const STOPCCN_TEXT = textTable(STOPCCN_RESULT_TEXT);
const CDN_TEXT = textTable(CDN_RESULT_TEXT);
const ERROR_TEXT = textTable(L2TP_ERROR_CODE_TEXT);

function codeText(kind: "stopccn" | "cdn", r: ResultCount): string {
  const result = (kind === "stopccn" ? STOPCCN_TEXT : CDN_TEXT).get(r.resultCode);
  const error = r.errorCode === undefined ? undefined : ERROR_TEXT.get(r.errorCode);
  let s = `${r.count} x result ${r.resultCode}${result === undefined ? "" : ` (${result})`}`;
  if (r.errorCode !== undefined && r.errorCode !== 0) s += `, error ${r.errorCode}${error === undefined ? "" : ` (${error})`}`;
  s += r.by === "peer" ? " from the LNS" : " here";
  if (r.message !== undefined && r.message !== "") s += `: "${r.message}"`;
  return s;
}

function stats(t: TimeStats): string {
  return t.count === 0 ? "none" : `min ${t.minMs} ms, median ${t.medianMs} ms, p95 ${t.p95Ms} ms, max ${t.maxMs} ms`;
}

/** The report as text, one fact per line, stable enough for scripts to grep. */
export function formatReport(r: LacReport): string {
  const lines: string[] = [];
  const { tunnels: tu, sessions: se } = r;
  lines.push(`tunnels: ${tu.up}/${tu.requested} up, ${tu.failed} failed, ${tu.established} established now`);
  for (const f of tu.failures) lines.push(`  tunnel failure: ${codeText("stopccn", f)}`);
  lines.push(`tunnel setup: ${stats(tu.setup)}`);
  lines.push(`sessions: ${se.up}/${se.requested} up, ${se.refused} refused, ${se.failed} failed, ${se.requested - se.placed} never placed, ${se.established} established now, ${se.down} down`);
  for (const f of se.refusals) lines.push(`  refused: ${codeText("cdn", f)}`);
  for (const f of se.failures) lines.push(`  failed: ${codeText("cdn", f)}`);
  lines.push(`session setup: ${stats(se.setup)}`);
  if (r.allUpMs !== undefined) lines.push(`all up after: ${Math.round(r.allUpMs)} ms`);
  const rel = r.reliable;
  lines.push(`control messages: ${rel.sent} sent, ${rel.retransmitted} retransmitted, ${rel.received} received, ${rel.duplicates} duplicates, ${rel.outOfOrderHeld} held out of order, ${rel.outOfWindow} out of window, ${rel.zlbSent} ZLB sent`);
  const drops = Object.entries(r.drops).sort(([a], [b]) => a.localeCompare(b));
  lines.push(`drops: ${drops.length === 0 ? "none" : drops.map(([k, v]) => `${k}=${v}`).join(" ")}`);
  const i = r.impairment;
  if (i !== undefined) {
    lines.push(`impairment out: ${i.txPackets} packets, ${i.txLost} lost, ${i.txDuplicated} duplicated, ${i.txReordered} reordered`);
    lines.push(`impairment in: ${i.rxPackets} packets, ${i.rxLost} lost, ${i.rxDuplicated} duplicated, ${i.rxReordered} reordered`);
  }
  lines.push(`elapsed: ${Math.round(r.elapsedMs)} ms`);
  return lines.join("\n");
}
