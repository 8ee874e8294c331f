// The RFC 1661 4.1 automaton on its own: every cell of the table taken once from a state reached
// by a path of legal events, the actions it performs, the '-' cells counted as protocol errors,
// and the Restart timer / counters of 4.6 under a fake clock.
import t from "tap";
import { FakeClock } from "@lnsd/io";
import { FSM_EVENTS, FSM_STATES, FSM_TRANSITIONS, PppFsm, type FsmAction, type FsmActions, type FsmEvent, type FsmState } from "../src/index.js";
import { pairsSeen } from "./harness.js";

const TIMERS = { restartTimeMs: 3000, maxConfigure: 10, maxTerminate: 2 };

function rig(): { fsm: PppFsm; calls: FsmAction[]; clock: FakeClock } {
  const clock = new FakeClock();
  const calls: FsmAction[] = [];
  const record =
    (a: FsmAction) =>
    (): void => {
      calls.push(a);
    };
  const actions: FsmActions = {
    tlu: record("tlu"),
    tld: record("tld"),
    tls: record("tls"),
    tlf: record("tlf"),
    scr: record("scr"),
    sca: record("sca"),
    scn: record("scn"),
    str: record("str"),
    sta: record("sta"),
    scj: record("scj"),
    ser: record("ser"),
  };
  return { fsm: new PppFsm("TEST", clock, TIMERS, actions), calls, clock };
}

/** Shortest event path from Initial to each state, through the table itself. */
function paths(): Map<FsmState, FsmEvent[]> {
  const found = new Map<FsmState, FsmEvent[]>([["Initial", []]]);
  const queue: FsmState[] = ["Initial"];
  for (let s = queue.shift(); s !== undefined; s = queue.shift()) {
    const here = found.get(s) ?? [];
    for (const e of FSM_EVENTS) {
      const tr = FSM_TRANSITIONS[s][e];
      if (tr === undefined || found.has(tr.to)) continue;
      found.set(tr.to, [...here, e]);
      queue.push(tr.to);
    }
  }
  return found;
}

const seen = new Set<string>();

void t.test("every defined cell of RFC 1661 4.1 does what the table says", (t) => {
  const reach = paths();
  t.equal(reach.size, FSM_STATES.length, "every state is reachable from Initial");
  let cells = 0;
  for (const state of FSM_STATES) {
    for (const event of FSM_EVENTS) {
      const tr = FSM_TRANSITIONS[state][event];
      if (tr === undefined) continue;
      const { fsm, calls } = rig();
      for (const e of reach.get(state) ?? []) fsm.fire(e, "path");
      t.equal(fsm.state, state, `reached ${state}`);
      calls.length = 0;
      t.ok(fsm.fire(event, "cell under test"), `${state} ${event} is allowed`);
      t.equal(fsm.state, tr.to, `${state} ${event} -> ${tr.to}`);
      t.same(calls, tr.actions.filter((a) => a !== "irc" && a !== "zrc"), `${state} ${event} actions ${tr.actions.join(",")}`);
      if (tr.actions.includes("irc")) {
        const base = tr.actions.includes("str") ? TIMERS.maxTerminate : TIMERS.maxConfigure;
        const sent = tr.actions.filter((a) => a === "scr" || a === "str").length;
        t.equal(fsm.restartCount, base - sent, `${state} ${event}: irc then ${sent} transmissions`);
      }
      if (tr.actions.includes("zrc")) t.equal(fsm.restartCount, 0, "zrc zeroes the counter");
      t.equal(fsm.protocolErrors, 0);
      for (const p of pairsSeen(fsm.history)) seen.add(p);
      cells++;
    }
  }
  t.equal(cells, 120, "the table has 120 defined cells (40 of its 160 are '-')");
  t.end();
});

void t.test("every '-' cell is a counted protocol error that changes nothing", (t) => {
  const reach = paths();
  let dashes = 0;
  for (const state of FSM_STATES) {
    for (const event of FSM_EVENTS) {
      if (FSM_TRANSITIONS[state][event] !== undefined) continue;
      const { fsm, calls } = rig();
      for (const e of reach.get(state) ?? []) fsm.fire(e, "path");
      calls.length = 0;
      const before = fsm.history.length;
      t.notOk(fsm.fire(event, "illegal"), `${state} ${event} is '-'`);
      t.equal(fsm.state, state);
      t.same(calls, []);
      t.equal(fsm.protocolErrors, 1);
      t.equal(fsm.history.length, before, "not recorded as a transition");
      t.equal(fsm.lastProtocolErrors[0]?.event, event);
      dashes++;
    }
  }
  t.equal(dashes, 40);
  t.end();
});

void t.test("Restart timer: Max-Configure Configure-Requests 3 s apart, then TO- (RFC 1661 4.6)", (t) => {
  const { fsm, calls, clock } = rig();
  fsm.fire("Open", "admin");
  fsm.fire("Up", "lower");
  const at: number[] = [];
  for (let i = 0; i < 40_000; i += 100) {
    if (calls.length > at.length) for (let k = at.length; k < calls.length; k++) at.push(clock.now());
    clock.advance(100);
  }
  const scr = calls.filter((c) => c === "scr").length;
  t.equal(scr, 10, "ppp_max_configure Configure-Requests");
  t.equal(fsm.state, "Stopped");
  t.same(calls.slice(-1), ["tlf"]);
  t.notOk(fsm.timerRunning, "no timer left in Stopped");
  t.equal(clock.pending, 0);
  for (const p of pairsSeen(fsm.history)) seen.add(p);
  t.end();
});

void t.test("Restart timer: Max-Terminate Terminate-Requests, then tlf; zrc waits one period", (t) => {
  const { fsm, calls, clock } = rig();
  fsm.fire("Open", "admin");
  fsm.fire("Up", "lower");
  fsm.fire("RCR+", "peer ok");
  fsm.fire("RCA", "ack");
  t.equal(fsm.state, "Opened");
  t.notOk(fsm.timerRunning, "no Restart timer in Opened");
  calls.length = 0;
  fsm.fire("Close", "admin close");
  clock.advance(3000);
  clock.advance(3000);
  t.same(calls, ["tld", "str", "str", "tlf"], "Max-Terminate = 2 Terminate-Requests");
  t.equal(fsm.state, "Closed");

  const b = rig();
  b.fsm.fire("Open", "admin");
  b.fsm.fire("Up", "lower");
  b.fsm.fire("RCR+", "peer ok");
  b.fsm.fire("RCA", "ack");
  b.calls.length = 0;
  b.fsm.fire("RTR", "peer terminates");
  t.equal(b.fsm.state, "Stopping");
  b.clock.advance(2999);
  t.same(b.calls, ["tld", "sta"]);
  b.clock.advance(1);
  t.same(b.calls, ["tld", "sta", "tlf"], "TO- after one Restart period");
  t.equal(b.fsm.state, "Stopped");
  t.end();
});

void t.test("events raised by actions wait for the running transition", (t) => {
  const clock = new FakeClock();
  const order: string[] = [];
  const box: { fsm?: PppFsm } = {};
  const noop = (): void => undefined;
  const actions: FsmActions = {
    tlu: () => {
      order.push(`tlu in ${box.fsm?.state ?? "?"}`);
      box.fsm?.fire("Close", "closed from tlu");
      order.push("after nested fire");
    },
    tld: () => order.push("tld"),
    tls: noop,
    tlf: noop,
    scr: noop,
    sca: () => order.push("sca"),
    scn: noop,
    str: () => order.push("str"),
    sta: noop,
    scj: noop,
    ser: noop,
  };
  const fsm = new PppFsm("TEST", clock, TIMERS, actions);
  box.fsm = fsm;
  fsm.fire("Open", "a");
  fsm.fire("Up", "b");
  fsm.fire("RCA", "c");
  fsm.fire("RCR+", "d");
  t.same(order, ["sca", "tlu in Opened", "after nested fire", "tld", "str"]);
  t.equal(fsm.state, "Closing");
  t.end();
});

void t.test("adoptOpened (proxy LCP) only from Initial, recorded as 'proxy'", (t) => {
  const { fsm } = rig();
  t.ok(fsm.adoptOpened("proxy"));
  t.equal(fsm.state, "Opened");
  t.equal(fsm.history[0]?.event, "proxy");
  t.notOk(fsm.adoptOpened("again"));
  t.end();
});

void t.test("the direct drive above took every defined cell", (t) => {
  const missing: string[] = [];
  for (const s of FSM_STATES) for (const e of FSM_EVENTS) if (FSM_TRANSITIONS[s][e] !== undefined && !seen.has(`${s} ${e}`)) missing.push(`${s} ${e}`);
  t.same(missing, []);
  t.end();
});
