// Restarting lnsd without dropping a session (issue 13), in-process on a fake clock: the daemon
// journals its state to a real directory; "term" stops it as SIGTERM does, "crash" as kill -9
// (nothing more written, sent or fired); a new daemon on the same addresses resumes the journal.
// The LAC (the testkit's, with PPP logins) must see one consistent control channel: no Ns used
// twice with different contents, no StopCCN or CDN, PPP not renegotiated once online, and RADIUS
// one Start and one Stop per Acct-Session-Id. Restarts are tried after every datagram of a login
// and of a teardown, and with established sessions; and state too old is not resumed.
import t, { type Test } from "tap";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeL2tpHeader, L2tpMessageType } from "@lnsd/wire";
import { AcctStatusType, Attr } from "@lnsd/radius";
import { readState } from "../src/index.js";
import { attrText, Inproc, LNS } from "./lib/inproc.js";

const PPP_LCP = 0xc021;
const LCP_CONFIGURE_REQUEST = 1;
const LCP_ECHO_REQUEST = 9;
const LCP_ECHO_REPLY = 10;

/** What lnsd sent the LACs, read off the in-memory network. */
class Wire {
  /** Per LAC tunnel ("address/tunnel id"): Ns -> the message after its header (hex). */
  private readonly byNs = new Map<string, Map<number, string>>();
  /** Ns used again with other contents: one line each. */
  readonly conflicts: string[] = [];
  /** Control message types lnsd sent, counted. */
  readonly types = new Map<number, number>();
  /** HELLOs either way. */
  hellos = 0;
  /** LCP codes in lnsd's PPP frames and the LAC's, counted since reset(). */
  lcpFromLns = new Map<number, number>();
  lcpFromLac = new Map<number, number>();
  /** Datagrams either way, for "stop after the k-th". */
  datagrams = 0;
  onDatagram: ((n: number) => void) | undefined;

  constructor(lab: Inproc) {
    lab.net.filter = (packet, from, to) => {
      this.datagrams++;
      const fromLns = from.address === LNS.address && from.port === LNS.port;
      if (fromLns) this.fromLns(packet, to.address);
      else if (to.address === LNS.address && to.port === LNS.port) {
        this.lcp(packet, this.lcpFromLac);
        if ((packet[0] ?? 0) & 0x80 && packet.length > 12 && packet.readUInt16BE(18) === L2tpMessageType.HELLO) this.hellos++;
      }
      this.onDatagram?.(this.datagrams);
      return true;
    };
  }

  count(type: number): number {
    return this.types.get(type) ?? 0;
  }

  reset(): void {
    this.lcpFromLns = new Map();
    this.lcpFromLac = new Map();
    this.hellos = 0;
  }

  private fromLns(packet: Buffer, to: string): void {
    const h = decodeL2tpHeader(packet);
    if (!h.ok) return;
    if (h.value.kind === "data") {
      this.lcp(packet, this.lcpFromLns);
      return;
    }
    if (packet.length <= 12) return; // a ZLB carries no Ns of its own
    const type = packet.readUInt16BE(18);
    this.types.set(type, (this.types.get(type) ?? 0) + 1);
    if (type === L2tpMessageType.HELLO) this.hellos++;
    const key = `${to}/${String(h.value.tunnelId)}`;
    let m = this.byNs.get(key);
    if (m === undefined) {
      m = new Map();
      this.byNs.set(key, m);
    }
    const body = packet.subarray(12).toString("hex");
    const seen = m.get(h.value.ns);
    if (seen === undefined) m.set(h.value.ns, body);
    else if (seen !== body) this.conflicts.push(`${key} Ns ${String(h.value.ns)}: type ${String(packet.readUInt16BE(18))} after another message`);
  }

  private lcp(packet: Buffer, into: Map<number, number>): void {
    const h = decodeL2tpHeader(packet);
    if (!h.ok || h.value.kind !== "data") return;
    let at = h.value.payloadOffset;
    if (packet[at] === 0xff && packet[at + 1] === 0x03) at += 2;
    if (packet.readUInt16BE(at) !== PPP_LCP) return;
    const code = packet[at + 2] ?? 0;
    into.set(code, (into.get(code) ?? 0) + 1);
  }
}

function stateDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), "lnsd-restore-"));
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }); });
  return dir;
}

/** The LNS's sessions by address: NAS-Port and Acct-Session-Id. */
function idsByAddress(lab: Inproc): Map<number, string> {
  return new Map([...lab.daemon.sessions.all()].map((s) => [s.address ?? 0, `${String(s.nasPort)} ${s.acctSessionId}`]));
}

for (const how of ["term", "crash"] as const) {
  void t.test(`established sessions go on across a restart (${how === "term" ? "SIGTERM" : "kill -9"}), then a second one`, async (t) => {
    const lab = await Inproc.start({ stateDir: stateDir(t), allowDuplicateUsers: true, interimSec: 60 });
    t.teardown(() => { lab.close(); });
    const wire = new Wire(lab);
    lab.radius.users.set("kept", { password: "pw", reply: [{ type: Attr.Class, value: Buffer.from("plan-k") }] });
    const lac = await lab.online("kept", "pw", 3);
    const before = idsByAddress(lab);
    t.equal(before.size, 3, "three sessions online");
    const sub = [...lab.daemon.sessions.all()][0];
    if (sub !== undefined) lab.dataPath.traffic(sub, 5, 500);
    // Counters moved are journaled every 10 s (and before each accounting record): kill -9 loses
    // at most the last 10 s of them.
    await lab.run(11_000);

    for (const round of [1, 2]) {
      wire.reset();
      await lab.restart(round === 1 ? how : how === "term" ? "crash" : "term");
      const resumed = lab.daemon.restored;
      t.equal(resumed?.sessions, 3, `restart ${String(round)}: three sessions resumed`);
      t.equal(resumed?.outcomes.online, 3, "all three online as they were");
      t.same(idsByAddress(lab), before, "same addresses, NAS-Ports and Acct-Session-Ids");
      t.equal(lab.dataPath.onlineSubs.size, 3, "the data path has all three again");
      // Past a HELLO interval (60 s) and several LCP echo intervals (10 s).
      await lab.run(75_000, 100);
      t.equal(lac.logins.stats.online.size, 3, "the subscribers stayed online");
      t.equal(wire.lcpFromLns.get(LCP_CONFIGURE_REQUEST) ?? 0, 0, "lnsd did not renegotiate LCP");
      t.ok((wire.lcpFromLns.get(LCP_ECHO_REQUEST) ?? 0) >= 3, "lnsd's LCP Echo-Requests go on");
      t.ok((wire.lcpFromLac.get(LCP_ECHO_REPLY) ?? 0) >= 3, "and the subscribers answer them");
      // RFC 2661 6.5: HELLO after 60 s of quiet, from whichever side's timer runs out first.
      t.ok(wire.hellos >= 1, "HELLO goes on");
      const lacTunnels = [...lac.sim.node.tunnels.values()];
      t.equal(lacTunnels.length, 1, "the LAC's tunnel is there");
      t.ok(lacTunnels.every((x) => x.state === "established" && x.transport.idle), "established, with nothing left unacknowledged");
      t.equal(wire.count(L2tpMessageType.StopCCN) + wire.count(L2tpMessageType.CDN), 0, "no StopCCN or CDN");
      t.same(wire.conflicts, [], "no Ns used twice with different contents");
      t.equal(lab.daemon.sessions.online, 3);
    }
    const counted = [...lab.daemon.sessions.all()].find((s) => s.rxPackets > 0);
    t.equal(counted?.rxPackets, 5, "counters kept");

    void lac.sim.clearAll(1000);
    t.ok(await lab.until(() => lab.radius.records(AcctStatusType.Stop).length === 3, 10_000), "three Stops");
    await lab.run(1000);
    const ids = (status: number): string[] => lab.radius.records(status).map((r) => attrText(r.packet, Attr.AcctSessionId) ?? "").sort();
    t.equal(ids(AcctStatusType.Start).length, 3, "three Starts in all");
    t.same(ids(AcctStatusType.Start), ids(AcctStatusType.Stop), "one Start and one Stop per Acct-Session-Id");
    t.equal(new Set(ids(AcctStatusType.Stop)).size, 3);
    t.ok(lab.radius.records(AcctStatusType.InterimUpdate).length >= 3, "interim updates went on after the restarts");
    t.equal(lab.accounting.open, 0);
  });
}

/** One login with lnsd restarted (how) right after the k-th datagram either way; stats of the run. */
async function loginAcross(t: Test, k: number, how: "term" | "crash"): Promise<{ online: boolean; wire: Wire; lab: Inproc }> {
  const lab = await Inproc.start({ stateDir: stateDir(t) });
  t.teardown(() => { lab.close(); });
  const wire = new Wire(lab);
  lab.radius.users.set("step", { password: "pw", reply: [] });
  let due = false;
  wire.onDatagram = (n) => { if (n === k) due = true; };
  const lac = await lab.lac("step", "pw", 1);
  let restarted = false;
  const online = await lab.until(() => {
    if (due && !restarted) {
      restarted = true;
      void lab.restart(how);
    }
    return lac.logins.stats.online.size === 1 && restarted;
  }, 60_000, 1);
  return { online, wire, lab };
}

void t.test("a login restarted at every point of its setup ends online, on one consistent control channel", async (t) => {
  // How many datagrams a login takes, without a restart.
  const probe = await Inproc.start({ stateDir: stateDir(t) });
  const probeWire = new Wire(probe);
  probe.radius.users.set("step", { password: "pw", reply: [] });
  await probe.online("step", "pw", 1);
  const total = probeWire.datagrams;
  probe.close();
  t.ok(total >= 16, `a login takes ${String(total)} datagrams`);
  let checked = 0;
  for (let k = 1; k <= total; k++) {
    for (const how of ["term", "crash"] as const) {
      const { online, wire, lab } = await loginAcross(t, k, how);
      const where = `restart (${how}) after datagram ${String(k)} of ${String(total)}`;
      if (!online) t.fail(`${where}: not online; log:\n${lab.lines.slice(-30).join("\n")}`);
      t.same(wire.conflicts, [], `${where}: no Ns used twice with different contents`);
      t.equal(wire.count(L2tpMessageType.StopCCN) + wire.count(L2tpMessageType.CDN), 0, `${where}: no StopCCN or CDN`);
      t.equal(lab.daemon.sessions.online, 1, `${where}: lnsd has the session online`);
      lab.close();
      checked++;
    }
  }
  t.equal(checked, 2 * total, "every point, both ways");
});

void t.test("state older than state_max_age is not resumed: lnsd starts empty, the LAC gives the tunnel up", async (t) => {
  const lab = await Inproc.start({ stateDir: stateDir(t) });
  t.teardown(() => { lab.close(); });
  lab.radius.users.set("late", { password: "pw", reply: [] });
  const lac = await lab.online("late", "pw", 1);
  // The rig resumes state at most 60 s old, as state_max_age 60.
  await lab.restart("crash", 61_000);
  t.equal(lab.daemon.restored, undefined, "nothing resumed");
  t.equal(lab.daemon.sessions.count, 0, "no session");
  t.equal(lab.daemon.l2tp.tunnels.size, 0, "no tunnel from the old state");
  // The LAC's HELLO is never acknowledged (no lnsd, then one that does not have the tunnel): its
  // retransmissions run out (RFC 2661 5.8) and its tunnel and call go down.
  await lab.run(70_000, 100);
  t.equal(lac.sim.node.tunnels.size, 0, "the LAC gave its tunnel up");
  t.equal(lac.logins.stats.online.size, 0, "the subscriber is offline, free to dial again");
});

/**
 * One online session that the LAC clears (CDN) with lnsd restarted (how) right after the k-th
 * datagram of the teardown; what the run saw.
 */
async function teardownAcross(t: Test, k: number, how: "term" | "crash"): Promise<{ wire: Wire; lab: Inproc; lacClear: boolean }> {
  const lab = await Inproc.start({ stateDir: stateDir(t) });
  t.teardown(() => { lab.close(); });
  lab.radius.users.set("bye", { password: "pw", reply: [] });
  const lac = await lab.online("bye", "pw", 1);
  await lab.run(1000);
  const wire = new Wire(lab);
  let seen = 0;
  let due = false;
  wire.onDatagram = () => { if (++seen === k) due = true; };
  let lacClear = false;
  void lac.sim.clearAll(20_000).then((ok) => { lacClear = ok; });
  let restarted = false;
  await lab.until(() => {
    if (due && !restarted) {
      restarted = true;
      void lab.restart(how);
    }
    return restarted && lacClear && lab.daemon.sessions.count === 0;
  }, 30_000, 1);
  await lab.run(2000);
  return { wire, lab, lacClear };
}

void t.test("a call cleared by the LAC, lnsd restarted at every point of the teardown: the call ends once, cleanly", async (t) => {
  // How many datagrams the teardown takes (CDN, its ZLB), counted in a run without a restart.
  const probe = await Inproc.start({ stateDir: stateDir(t) });
  probe.radius.users.set("bye", { password: "pw", reply: [] });
  const plac = await probe.online("bye", "pw", 1);
  await probe.run(1000);
  const pwire = new Wire(probe);
  await plac.sim.clearAll(5000);
  await probe.run(1000);
  const total = pwire.datagrams;
  probe.close();
  t.ok(total >= 2, `a teardown takes ${String(total)} datagrams`);
  for (let k = 1; k <= total; k++) {
    for (const how of ["term", "crash"] as const) {
      const { wire, lab, lacClear } = await teardownAcross(t, k, how);
      const where = `restart (${how}) after teardown datagram ${String(k)} of ${String(total)}`;
      t.ok(lacClear, `${where}: the LAC's CDN was acknowledged`);
      t.equal(lab.daemon.sessions.count, 0, `${where}: no session left on lnsd`);
      t.equal(lab.daemon.l2tp.sessionCount, 0, `${where}: no L2TP session left`);
      t.same(wire.conflicts, [], `${where}: no Ns used twice with different contents`);
      t.equal(wire.count(L2tpMessageType.StopCCN), 0, `${where}: no StopCCN`);
      t.equal(lab.radius.records(AcctStatusType.Stop).length, 1, `${where}: one accounting Stop`);
      lab.close();
    }
  }
});

void t.test("a journal that cannot be written (disk full) stops nothing: logins and traffic go on, the stale state goes, and it is written again once it can be", async (t) => {
  const dir = stateDir(t);
  let full = false;
  const lab = await Inproc.start({ stateDir: dir, allowDuplicateUsers: true, diskFull: () => full });
  t.teardown(() => { lab.close(); });
  lab.radius.users.set("disk", { password: "pw", reply: [] });
  await lab.online("disk", "pw", 1);
  full = true;
  // Logins go on while every write fails.
  const second = await lab.online("disk", "pw", 2);
  t.equal(lab.daemon.sessions.online, 3, "logins go on");
  t.equal(lab.lines.filter((l) => l.includes("state journal in") && l.includes("failed (ENOSPC")).length >= 1, true, "one error line names the journal and the cause");
  t.equal(readState(dir, 60_000, () => lab.clock.now()).ok, false, "the stale state is removed: a restart now would not resume it as if current");
  await lab.run(20_000, 100);
  t.equal(second.logins.stats.online.size, 2, "sessions stay up, their echoes answered");
  full = false;
  await lab.run(61_000, 100);
  t.ok(lab.lines.some((l) => l.includes("written again")), "written again once the disk takes it");
  const st = readState(dir, 60_000, () => lab.clock.now());
  t.equal(st.ok ? st.state.subscribers.size : -1, 3, "with every session");
});
