// FreeRADIUS's detail file as the root tests read it (restart.root.test, cluster.root.test): the
// records a test FreeRADIUS child (lib/radius-child, lib/cluster-radius-child) holds, counted per
// Acct-Session-Id. Runs in the test process.
import { sleep, type LineChild } from "./netns.js";

/** One accounting record of FreeRADIUS's detail file: attribute to values. */
export type AcctRecord = ReadonlyMap<string, readonly string[]>;

/** A session's Start and Stop records. */
export interface StartStop {
  readonly start: AcctRecord[];
  readonly stop: AcctRecord[];
}

/** The detail file's records so far. */
export async function acctRecords(radius: LineChild): Promise<AcctRecord[]> {
  radius.send("records");
  return (await radius.next<[string, string[]][][]>("records", 10_000)).map((r) => new Map(r));
}

/** The records of Acct-Status-Type `status`. */
export function ofStatus(rs: readonly AcctRecord[], status: string): AcctRecord[] {
  return rs.filter((r) => r.get("Acct-Status-Type")?.[0] === status);
}

/** Waits until FreeRADIUS holds `n` records of Acct-Status-Type `status`. */
export async function waitForStatus(radius: LineChild, status: string, n: number, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (ofStatus(await acctRecords(radius), status).length < n) {
    if (Date.now() > end) return false;
    await sleep(200);
  }
  return true;
}

/**
 * RFC 2866 5.2: a request lnsd retransmits (no answer in time) is the same record with a new
 * Identifier and a larger Acct-Delay-Time, and FreeRADIUS logs each copy. Records with one
 * Event-Timestamp, all but the undelayed one, are one Start (or Stop).
 */
export function sends(rs: readonly AcctRecord[]): number {
  const undelayed = new Map<string, number>();
  let n = 0;
  for (const r of rs) {
    const event = r.get("Event-Timestamp")?.[0];
    const delayed = Number(r.get("Acct-Delay-Time")?.[0] ?? "0") > 0;
    if (event === undefined) n++;
    else undelayed.set(event, (undelayed.get(event) ?? 0) + (delayed ? 0 : 1));
  }
  for (const k of undelayed.values()) n += Math.max(1, k);
  return n;
}

/** Per Acct-Session-Id: its Start and Stop records. */
export function bySession(rs: readonly AcctRecord[]): Map<string, StartStop> {
  const byId = new Map<string, StartStop>();
  for (const r of rs) {
    const id = r.get("Acct-Session-Id")?.[0];
    const status = r.get("Acct-Status-Type")?.[0];
    if (id === undefined || (status !== "Start" && status !== "Stop")) continue;
    const e = byId.get(id) ?? { start: [], stop: [] };
    (status === "Start" ? e.start : e.stop).push(r);
    byId.set(id, e);
  }
  return byId;
}

/** Whether a session's first Stop names attribute `a` as its first Start does. */
export function stopAgrees(e: StartStop, a: string): boolean {
  const v = e.start[0]?.get(a)?.[0];
  return v !== undefined && v === e.stop[0]?.get(a)?.[0];
}
