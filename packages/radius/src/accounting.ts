// One session's accounting: Start when it comes up, Interim-Update every interval (radius_interim
// or the reply's Acct-Interim-Interval, see interimIntervalSec), Stop with the final counters and
// the Acct-Terminate-Cause the caller gives. The session manager owns one per session; runs on
// the control thread.
import type { AcctTerminateCause } from "@lnsd/wire";
import type { Clock, TimerHandle } from "@lnsd/io";
import type { AcctResult, RadiusAccounting } from "./client.js";
import type { AcctCounters, AcctSessionInfo } from "./codec/index.js";

export interface AccountingSessionOptions {
  readonly session: AcctSessionInfo;
  /** 0: no interim updates. */
  readonly interimSec: number;
  /** The session's counters now; read for each Interim-Update. */
  readonly counters: () => AcctCounters;
  readonly clock: Clock;
  /** Told of every record's outcome (the Stop's is also the promise's). */
  readonly onResult?: (status: "start" | "interim" | "stop", r: AcctResult) => void;
}

export class AccountingSession {
  private timer: TimerHandle | undefined;
  private interimInFlight = false;
  private stopped = false;
  /** Interim-Updates not sent because the previous one was still unanswered. */
  skippedInterims = 0;
  sentInterims = 0;

  constructor(
    private readonly client: RadiusAccounting,
    private readonly opts: AccountingSessionOptions,
  ) {}

  /** Sends Accounting Start and starts the interim timer. */
  start(): Promise<AcctResult> {
    this.schedule();
    return this.client.account({ status: "start", session: this.opts.session }).then((r) => {
      this.opts.onResult?.("start", r);
      return r;
    });
  }

  /**
   * A session whose Start went out before lnsd restarted (issue 13): no second Start (RFC 2866
   * 5.1: one Start and one Stop per Acct-Session-Id), only the interim timer again.
   */
  resume(): void {
    this.schedule();
  }

  /** Sends an Interim-Update now, as the timer would. */
  interimNow(): void {
    if (this.stopped) return;
    if (this.interimInFlight) {
      // Still retransmitting the last one: a second would only race it (RFC 5080 2.2.1).
      this.skippedInterims++;
      return;
    }
    this.interimInFlight = true;
    this.sentInterims++;
    void this.client.account({ status: "interim", session: this.opts.session, counters: this.opts.counters() }).then((r) => {
      this.interimInFlight = false;
      this.opts.onResult?.("interim", r);
    });
  }

  /** Stops the timer and sends Accounting Stop with the final counters. */
  stop(terminateCause: AcctTerminateCause, counters?: AcctCounters): Promise<AcctResult> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    return this.client
      .account({ status: "stop", session: this.opts.session, counters: counters ?? this.opts.counters(), terminateCause })
      .then((r) => {
        this.opts.onResult?.("stop", r);
        return r;
      });
  }

  private schedule(): void {
    if (this.stopped || this.opts.interimSec <= 0) return;
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = undefined;
      this.interimNow();
      this.schedule();
    }, this.opts.interimSec * 1000);
  }
}
