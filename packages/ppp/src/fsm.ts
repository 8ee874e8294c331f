// The RFC 1661 option-negotiation automaton (section 4): the state transition table of 4.1 as
// data, the Restart timer and counters of 4.6, and a history of transitions with their reasons.
// One automaton per control protocol (LCP, IPCP, IPV6CP), in either role; runs on the control
// thread. It never sees a byte: the actions are carried out by the Negotiation that owns it.
import type { Clock, TimerHandle } from "@lnsd/io";

/** RFC 1661 4.2. */
export type FsmState =
  | "Initial"
  | "Starting"
  | "Closed"
  | "Stopped"
  | "Closing"
  | "Stopping"
  | "Req-Sent"
  | "Ack-Rcvd"
  | "Ack-Sent"
  | "Opened";

/** RFC 1661 4.3. */
export type FsmEvent =
  | "Up"
  | "Down"
  | "Open"
  | "Close"
  | "TO+"
  | "TO-"
  | "RCR+"
  | "RCR-"
  | "RCA"
  | "RCN"
  | "RTR"
  | "RTA"
  | "RUC"
  | "RXJ+"
  | "RXJ-"
  | "RXR";

/** RFC 1661 4.4. */
export type FsmAction = "tlu" | "tld" | "tls" | "tlf" | "irc" | "zrc" | "scr" | "sca" | "scn" | "str" | "sta" | "scj" | "ser";

export interface FsmTransition {
  readonly actions: readonly FsmAction[];
  readonly to: FsmState;
  /**
   * The table's footnotes: "p" passive option, "r" restart option, "x" crossed connection. lnsd
   * takes none of the optional behaviours (no passive wait, no Down/Up restart on Open), so they
   * are kept for `show` output only.
   */
  readonly note?: "p" | "r" | "x";
}

export const FSM_STATES: readonly FsmState[] = [
  "Initial",
  "Starting",
  "Closed",
  "Stopped",
  "Closing",
  "Stopping",
  "Req-Sent",
  "Ack-Rcvd",
  "Ack-Sent",
  "Opened",
];

export const FSM_EVENTS: readonly FsmEvent[] = [
  "Up",
  "Down",
  "Open",
  "Close",
  "TO+",
  "TO-",
  "RCR+",
  "RCR-",
  "RCA",
  "RCN",
  "RTR",
  "RTA",
  "RUC",
  "RXJ+",
  "RXJ-",
  "RXR",
];

function go(to: FsmState, ...actions: FsmAction[]): FsmTransition {
  return { actions, to };
}

function noted(note: "p" | "r" | "x", to: FsmState, ...actions: FsmAction[]): FsmTransition {
  return { actions, to, note };
}

/**
 * RFC 1661 4.1, cell by cell. A missing event is the table's '-' (an illegal transition): the
 * automaton counts and logs it as a protocol error and stays where it is.
 */
export const FSM_TRANSITIONS: { readonly [S in FsmState]: { readonly [E in FsmEvent]?: FsmTransition } } = {
  Initial: {
    Up: go("Closed"),
    Open: go("Starting", "tls"),
    Close: go("Initial"),
  },
  Starting: {
    Up: go("Req-Sent", "irc", "scr"),
    Open: go("Starting"),
    Close: go("Initial", "tlf"),
  },
  Closed: {
    Down: go("Initial"),
    Open: go("Req-Sent", "irc", "scr"),
    Close: go("Closed"),
    "RCR+": go("Closed", "sta"),
    "RCR-": go("Closed", "sta"),
    RCA: go("Closed", "sta"),
    RCN: go("Closed", "sta"),
    RTR: go("Closed", "sta"),
    RTA: go("Closed"),
    RUC: go("Closed", "scj"),
    "RXJ+": go("Closed"),
    "RXJ-": go("Closed", "tlf"),
    RXR: go("Closed"),
  },
  Stopped: {
    Down: go("Starting", "tls"),
    Open: noted("r", "Stopped"),
    Close: go("Closed"),
    "RCR+": go("Ack-Sent", "irc", "scr", "sca"),
    "RCR-": go("Req-Sent", "irc", "scr", "scn"),
    RCA: go("Stopped", "sta"),
    RCN: go("Stopped", "sta"),
    RTR: go("Stopped", "sta"),
    RTA: go("Stopped"),
    RUC: go("Stopped", "scj"),
    "RXJ+": go("Stopped"),
    "RXJ-": go("Stopped", "tlf"),
    RXR: go("Stopped"),
  },
  Closing: {
    Down: go("Initial"),
    Open: noted("r", "Stopping"),
    Close: go("Closing"),
    "TO+": go("Closing", "str"),
    "TO-": go("Closed", "tlf"),
    "RCR+": go("Closing"),
    "RCR-": go("Closing"),
    RCA: go("Closing"),
    RCN: go("Closing"),
    RTR: go("Closing", "sta"),
    RTA: go("Closed", "tlf"),
    RUC: go("Closing", "scj"),
    "RXJ+": go("Closing"),
    "RXJ-": go("Closed", "tlf"),
    RXR: go("Closing"),
  },
  Stopping: {
    Down: go("Starting"),
    Open: noted("r", "Stopping"),
    Close: go("Closing"),
    "TO+": go("Stopping", "str"),
    "TO-": go("Stopped", "tlf"),
    "RCR+": go("Stopping"),
    "RCR-": go("Stopping"),
    RCA: go("Stopping"),
    RCN: go("Stopping"),
    RTR: go("Stopping", "sta"),
    RTA: go("Stopped", "tlf"),
    RUC: go("Stopping", "scj"),
    "RXJ+": go("Stopping"),
    "RXJ-": go("Stopped", "tlf"),
    RXR: go("Stopping"),
  },
  "Req-Sent": {
    Down: go("Starting"),
    Open: go("Req-Sent"),
    Close: go("Closing", "irc", "str"),
    "TO+": go("Req-Sent", "scr"),
    "TO-": noted("p", "Stopped", "tlf"),
    "RCR+": go("Ack-Sent", "sca"),
    "RCR-": go("Req-Sent", "scn"),
    RCA: go("Ack-Rcvd", "irc"),
    RCN: go("Req-Sent", "irc", "scr"),
    RTR: go("Req-Sent", "sta"),
    RTA: go("Req-Sent"),
    RUC: go("Req-Sent", "scj"),
    "RXJ+": go("Req-Sent"),
    "RXJ-": go("Stopped", "tlf"),
    RXR: go("Req-Sent"),
  },
  "Ack-Rcvd": {
    Down: go("Starting"),
    Open: go("Ack-Rcvd"),
    Close: go("Closing", "irc", "str"),
    "TO+": go("Req-Sent", "scr"),
    "TO-": noted("p", "Stopped", "tlf"),
    "RCR+": go("Opened", "sca", "tlu"),
    "RCR-": go("Ack-Rcvd", "scn"),
    RCA: noted("x", "Req-Sent", "scr"),
    RCN: noted("x", "Req-Sent", "scr"),
    RTR: go("Req-Sent", "sta"),
    RTA: go("Req-Sent"),
    RUC: go("Ack-Rcvd", "scj"),
    "RXJ+": go("Req-Sent"),
    "RXJ-": go("Stopped", "tlf"),
    RXR: go("Ack-Rcvd"),
  },
  "Ack-Sent": {
    Down: go("Starting"),
    Open: go("Ack-Sent"),
    Close: go("Closing", "irc", "str"),
    "TO+": go("Ack-Sent", "scr"),
    "TO-": noted("p", "Stopped", "tlf"),
    "RCR+": go("Ack-Sent", "sca"),
    "RCR-": go("Req-Sent", "scn"),
    RCA: go("Opened", "irc", "tlu"),
    RCN: go("Ack-Sent", "irc", "scr"),
    RTR: go("Req-Sent", "sta"),
    RTA: go("Ack-Sent"),
    RUC: go("Ack-Sent", "scj"),
    "RXJ+": go("Ack-Sent"),
    "RXJ-": go("Stopped", "tlf"),
    RXR: go("Ack-Sent"),
  },
  Opened: {
    Down: go("Starting", "tld"),
    Open: noted("r", "Opened"),
    Close: go("Closing", "tld", "irc", "str"),
    "RCR+": go("Ack-Sent", "tld", "scr", "sca"),
    "RCR-": go("Req-Sent", "tld", "scr", "scn"),
    RCA: noted("x", "Req-Sent", "tld", "scr"),
    RCN: noted("x", "Req-Sent", "tld", "scr"),
    RTR: go("Stopping", "tld", "zrc", "sta"),
    RTA: go("Req-Sent", "tld", "scr"),
    RUC: go("Opened", "scj"),
    "RXJ+": go("Opened"),
    "RXJ-": go("Stopping", "tld", "irc", "str"),
    RXR: go("Opened", "ser"),
  },
};

/** RFC 1661 4.6: the Restart timer runs only while a request waits for its answer. */
const TIMER_STATES: ReadonlySet<FsmState> = new Set<FsmState>(["Closing", "Stopping", "Req-Sent", "Ack-Rcvd", "Ack-Sent"]);

/** RFC 1661 4.6, with l2tpns's names for the configurable ones. */
export interface FsmTimers {
  /** ppp_restart_time (default 3 s). */
  readonly restartTimeMs: number;
  /** ppp_max_configure (default 10). */
  readonly maxConfigure: number;
  /** Max-Terminate (RFC 1661 4.6 default 2; l2tpns has no setting for it). */
  readonly maxTerminate: number;
}

/** What the automaton asks its owner to do (RFC 1661 4.4); irc and zrc it does itself. */
export interface FsmActions {
  tlu(): void;
  tld(): void;
  tls(): void;
  tlf(): void;
  scr(): void;
  sca(): void;
  scn(): void;
  str(): void;
  sta(): void;
  scj(): void;
  ser(): void;
}

/** One line of `show session`: when, from where, on what, to where, and why. */
export interface FsmRecord {
  readonly atMs: number;
  readonly from: FsmState;
  /**
   * A table event, "proxy" when LCP starts Opened from the LAC's proxy LCP (RFC 2661 18), or
   * "restore" when an Opened automaton is rebuilt from a record (issue 13).
   */
  readonly event: FsmEvent | "proxy" | "restore";
  readonly to: FsmState;
  readonly reason: string;
}

/** An event the table does not allow in the state it came in (a '-' cell). */
export interface FsmProtocolError {
  readonly atMs: number;
  readonly state: FsmState;
  readonly event: FsmEvent;
  readonly reason: string;
}

const HISTORY_LENGTH = 32;
/** Events raised by actions while a transition runs wait here; more than this is a bug, dropped. */
const MAX_QUEUED_EVENTS = 8;

export class PppFsm {
  state: FsmState = "Initial";
  /** The last HISTORY_LENGTH transitions, oldest first. */
  readonly history: FsmRecord[] = [];
  /** Undefined (state, event) pairs met: counted, the last few kept. */
  protocolErrors = 0;
  readonly lastProtocolErrors: FsmProtocolError[] = [];
  /** RFC 1661 4.6 Restart counter. */
  restartCount = 0;
  private timer: TimerHandle | undefined;
  private running = false;
  private readonly queue: [FsmEvent, string][] = [];

  constructor(
    readonly name: string,
    private readonly clock: Clock,
    private readonly timers: FsmTimers,
    private readonly actions: FsmActions,
    private readonly onProtocolError?: (error: FsmProtocolError) => void,
  ) {}

  /** True when the event is allowed in the current state (without taking it). */
  allows(event: FsmEvent): boolean {
    return FSM_TRANSITIONS[this.state][event] !== undefined;
  }

  get timerRunning(): boolean {
    return this.timer !== undefined;
  }

  /**
   * Takes an event. Events raised by the actions of a transition (a layer going down closes
   * another...) are queued and taken after it, so each transition completes as the table says.
   * Returns false when the table has no such transition (counted as a protocol error).
   */
  fire(event: FsmEvent, reason: string): boolean {
    if (this.running) {
      if (this.queue.length < MAX_QUEUED_EVENTS) this.queue.push([event, reason]);
      return true;
    }
    this.running = true;
    let result: boolean;
    try {
      result = this.take(event, reason);
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) this.take(next[0], next[1]);
    } finally {
      this.running = false;
      this.queue.length = 0;
    }
    return result;
  }

  /** Moves straight to Opened, bypassing negotiation (proxy LCP, RFC 2661 18). Only from Initial. */
  adoptOpened(reason: string): boolean {
    if (this.state !== "Initial" || this.running) return false;
    this.record("Initial", "proxy", "Opened", reason);
    this.state = "Opened";
    return true;
  }

  /** Moves straight to Opened when rebuilt from a record (nothing is sent). Only from Initial. */
  restoreOpened(reason: string): boolean {
    if (this.state !== "Initial" || this.running) return false;
    this.record("Initial", "restore", "Opened", reason);
    this.state = "Opened";
    return true;
  }

  /** Cancels the Restart timer (the owner is going away). */
  halt(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private take(event: FsmEvent, reason: string): boolean {
    const from = this.state;
    const tr = FSM_TRANSITIONS[from][event];
    if (tr === undefined) {
      this.protocolErrors++;
      const error: FsmProtocolError = { atMs: this.clock.now(), state: from, event, reason };
      this.lastProtocolErrors.push(error);
      if (this.lastProtocolErrors.length > 4) this.lastProtocolErrors.shift();
      this.onProtocolError?.(error);
      return false;
    }
    // The new state is set first so that the owner's callbacks (tlu...) see where we are going.
    this.state = tr.to;
    this.record(from, event, tr.to, reason);
    // irc sets the counter for what follows it: Max-Terminate before str, else Max-Configure.
    const terminating = tr.actions.includes("str");
    for (const action of tr.actions) this.run(action, terminating);
    if (!TIMER_STATES.has(this.state)) this.halt();
    return true;
  }

  private run(action: FsmAction, terminating: boolean): void {
    switch (action) {
      case "irc":
        this.restartCount = terminating ? this.timers.maxTerminate : this.timers.maxConfigure;
        return;
      case "zrc":
        this.restartCount = 0;
        this.startTimer();
        return;
      case "scr":
      case "str":
        // RFC 1661 4.4: each transmission decrements the counter and (re)starts the timer.
        this.restartCount--;
        this.startTimer();
        this.actions[action]();
        return;
      case "tlu":
      case "tld":
      case "tls":
      case "tlf":
      case "sca":
      case "scn":
      case "sta":
      case "scj":
      case "ser":
        this.actions[action]();
        return;
    }
  }

  private startTimer(): void {
    this.timer?.cancel();
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      // RFC 1661 4.3: TO+ while the counter is above zero, TO- once it is spent.
      this.fire(this.restartCount > 0 ? "TO+" : "TO-", "Restart timer expired");
    }, this.timers.restartTimeMs);
  }

  private record(from: FsmState, event: FsmEvent | "proxy" | "restore", to: FsmState, reason: string): void {
    this.history.push({ atMs: this.clock.now(), from, event, to, reason });
    if (this.history.length > HISTORY_LENGTH) this.history.shift();
  }
}
