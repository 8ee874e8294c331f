// RADIUS accounting of the sessions (radius_accounting): Accounting-On when lnsd starts, Start when
// a session's IPCP opens, Interim-Update every radius_interim seconds (or the Access-Accept's
// Acct-Interim-Interval), Stop with the session's counters and Acct-Terminate-Cause, and
// Accounting-Off at an orderly stop. Control thread.
import { AcctTerminateCause, formatIpv4 } from "@lnsd/wire";
import type { Clock } from "@lnsd/io";
import type { DisconnectCause } from "@lnsd/ppp";
import { AccountingSession, connectInfo, type AcctResult, type AcctSessionInfo, type RadiusAccounting, type RadiusAttribute } from "@lnsd/radius";
import type { Logger } from "./log.js";
import type { SessionEvents, Subscriber } from "./sessions.js";

/** RFC 2869 5.16: an Acct-Interim-Interval below 60 s is raised to 60 s. */
export const MIN_INTERIM_SEC = 60;

/** radius_interim, unless the Access-Accept gave an Acct-Interim-Interval (which wins, at least 60 s). */
export function interimSecFor(radiusInterimSec: number, replySec: number | undefined): number {
  if (replySec === undefined || replySec <= 0) return Math.max(0, radiusInterimSec);
  return Math.max(MIN_INTERIM_SEC, replySec);
}

export interface RadiusSessionAccountingOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** radius_interim, seconds; 0: none unless the Access-Accept asks. */
  readonly interimSec: number;
  /**
   * Told before a session's counters go into a record (the state journal writes them first, so
   * that a restarted lnsd never reports less than a record already sent).
   */
  readonly reporting?: (sub: Subscriber) => void;
}

/**
 * radius_account (the plugins): attributes to add to a session's Accounting-Request, asked before
 * its Start and its Stop; an Interim-Update carries what the last answer added.
 */
export type AccountingAttributesHook = (sub: Subscriber, status: "start" | "interim" | "stop") => Promise<readonly RadiusAttribute[]>;

export class RadiusSessionAccounting implements SessionEvents {
  private readonly sessions = new Map<Subscriber, AccountingSession>();
  /** Per session: the plugins' attributes, an array the accounting session's info holds (updated in place). */
  private readonly extras = new Map<Subscriber, RadiusAttribute[]>();
  private attributesHook: AccountingAttributesHook | undefined;

  /** The plugin host, once it exists (it comes after the daemon). */
  useAttributesHook(hook: AccountingAttributesHook | undefined): void {
    this.attributesHook = hook;
  }

  /** Runs radius_account and puts its attributes in the session's info; then `then`. */
  private withAttributes(sub: Subscriber, status: "start" | "stop", then: () => void): void {
    const hook = this.attributesHook;
    if (hook === undefined) {
      then();
      return;
    }
    // In flight until the request itself is (Accounting-Off waits for the Stops).
    const pending = hook(sub, status).then(
      (attrs) => {
        const extra = this.extras.get(sub);
        if (extra !== undefined) extra.splice(0, extra.length, ...attrs);
        then();
      },
      () => { then(); },
    );
    this.inFlight.add(pending);
    void pending.then(() => this.inFlight.delete(pending));
  }
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Acct-Session-Id of Accounting-On and -Off: one per run of lnsd. */
  private readonly nasSessionId = `${Math.floor(Date.now() / 1000).toString(16).toUpperCase()}-NAS`;

  constructor(
    private readonly client: RadiusAccounting,
    private readonly o: RadiusSessionAccountingOptions,
  ) {}

  /** Accounting-On (RFC 2866 5.1): the NAS is starting; the server may close its open sessions. */
  accountingOn(): Promise<AcctResult> {
    return this.track("on", this.client.account({ status: "on", acctSessionId: this.nasSessionId }));
  }

  /** Accounting-Off: an orderly stop, after every session's Stop has been answered (or waited for). */
  async accountingOff(maxWaitMs = 5000): Promise<AcctResult> {
    await this.settled(maxWaitMs);
    return this.track("off", this.client.account({ status: "off", acctSessionId: this.nasSessionId, terminateCause: AcctTerminateCause.AdminReboot }));
  }

  /** Waits until every record sent so far is answered or given up, at most maxWaitMs. */
  async settled(maxWaitMs: number): Promise<void> {
    const deadline = Date.now() + maxWaitMs;
    while (this.inFlight.size > 0 && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(this.inFlight), new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now()))))]);
      clearTimeout(timer);
    }
  }

  get open(): number {
    return this.sessions.size;
  }

  online(sub: Subscriber): void {
    const acct = this.accountingOf(sub);
    this.withAttributes(sub, "start", () => { void this.track("start", acct.start(), sub); });
  }

  /** A session restored after a restart: its Start went out before; interims go on, one Stop at its end. */
  restored(sub: Subscriber): void {
    this.accountingOf(sub).resume();
  }

  private accountingOf(sub: Subscriber): AccountingSession {
    const extra: RadiusAttribute[] = [];
    this.extras.set(sub, extra);
    const acct = new AccountingSession(this.client, {
      session: { ...this.sessionInfo(sub), extra },
      interimSec: interimSecFor(this.o.interimSec, sub.policy.acctInterimIntervalSec),
      clock: this.o.clock,
      counters: () => this.counters(sub),
      onResult: (status, r) => {
        if (status === "interim" && r.kind !== "ack") this.log(status, sub, r);
      },
    });
    this.sessions.set(sub, acct);
    return acct;
  }

  /**
   * A plugin asks for an accounting request now (l2tpns radiussend): an Interim-Update; a Start
   * (the session's accounting begins again, as after ungarden: Stop for what was, then Start); or
   * a Stop (the session is no longer accounted, though it stays up). False: nothing to do.
   */
  send(sub: Subscriber, status: "start" | "interim" | "stop"): boolean {
    const acct = this.sessions.get(sub);
    if (status === "interim") {
      acct?.interimNow();
      return acct !== undefined;
    }
    if (acct !== undefined) {
      this.sessions.delete(sub);
      const counters = this.counters(sub);
      this.withAttributes(sub, "stop", () => { void this.track("stop", acct.stop(AcctTerminateCause.AdminReset, counters), sub); });
    }
    if (status === "start") this.online(sub);
    return status === "start" || acct !== undefined;
  }

  offline(sub: Subscriber, cause: DisconnectCause): void {
    const acct = this.sessions.get(sub);
    if (acct === undefined) return;
    this.sessions.delete(sub);
    const counters = this.counters(sub);
    this.withAttributes(sub, "stop", () => {
      this.extras.delete(sub);
      void this.track("stop", acct.stop(cause.acctTerminateCause, counters), sub);
    });
  }

  private sessionInfo(sub: Subscriber): AcctSessionInfo {
    const call = sub.l2tp.call;
    return {
      userName: sub.username ?? "",
      nasPort: sub.nasPort,
      acctSessionId: sub.acctSessionId,
      ...(call.callingNumber === undefined ? {} : { callingStationId: call.callingNumber }),
      ...(call.calledNumber === undefined ? {} : { calledStationId: call.calledNumber }),
      ...(call.txConnectSpeed === undefined ? {} : { connectInfo: connectInfo(call.txConnectSpeed, call.rxConnectSpeed) }),
      ...(sub.address === undefined ? {} : { framedIpAddress: formatIpv4(sub.address) }),
      classes: sub.policy.classes.map((c) => Buffer.from(c)),
    };
  }

  /** RFC 2866 5.3, 5.4: "input" is what the user sent. */
  private counters(sub: Subscriber): { inputOctets: number; outputOctets: number; inputPackets: number; outputPackets: number; sessionTimeSec: number } {
    this.o.reporting?.(sub);
    return {
      inputOctets: sub.rxOctets,
      outputOctets: sub.txOctets,
      inputPackets: sub.rxPackets,
      outputPackets: sub.txPackets,
      sessionTimeSec: Math.max(0, Math.floor((this.o.clock.now() - (sub.upAt ?? sub.startedAt)) / 1000)),
    };
  }

  private track(status: string, p: Promise<AcctResult>, sub?: Subscriber): Promise<AcctResult> {
    this.inFlight.add(p);
    void p.then((r) => {
      this.inFlight.delete(p);
      if (r.kind !== "ack") this.log(status, sub, r);
    });
    return p;
  }

  private log(status: string, sub: Subscriber | undefined, r: AcctResult): void {
    const who = sub === undefined ? "" : ` for ${sub.username ?? "-"} (${sub.acctSessionId})`;
    const why = r.kind === "error" ? r.reason : r.kind === "timeout" ? "no server answered" : "acknowledged";
    this.o.logger.log("warn", `radius-acct-${r.kind}`, `RADIUS accounting ${status}${who} not recorded: ${why}`);
  }
}
