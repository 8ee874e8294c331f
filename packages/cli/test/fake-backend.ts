// A CliBackend for tests: n sessions made up on the fly (so 100,000 cost nothing until shown),
// one tunnel, a small pool, and a record of the actions asked of it.
import { defaultSettings, parseUsers, type StartupConfig, type UsersFile } from "@lnsd/config";
import type { CliBackend, CliResult, CliSessionRow, CliTunnel } from "../src/index.js";

export interface FakeOptions {
  readonly sessions: number;
  readonly users?: string;
  readonly hostname?: string;
}

export interface FakeBackend extends CliBackend {
  readonly actions: string[];
}

function row(i: number): CliSessionRow {
  return {
    id: i,
    linkedTo: 0,
    tunnelId: 2,
    username: `dslloadtest${i}@optusnet.com.au`,
    address: `10.${78 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`,
    intercepted: false,
    throttled: false,
    walledGarden: false,
    ipv6: false,
    openedSeconds: 41,
    idleSeconds: 1,
    remainingSeconds: 0,
    txOctets: 0,
    rxOctets: 0,
    txPackets: 0,
    rxPackets: 0,
    lacAddress: "10.77.1.2",
    callingNumber: "000",
    calledNumber: "12356",
    pppPhase: "Network",
    ipcpState: "Opened",
    ipv6cpState: "Closed",
    ccpState: "Stopped",
    mru: 1500,
    rxSpeed: 0,
    txSpeed: 0,
  };
}

export function fakeBackend(o: FakeOptions): FakeBackend {
  const actions: string[] = [];
  let hostname = o.hostname ?? "lns";
  const users: UsersFile | undefined = (() => {
    if (o.users === undefined) return undefined;
    const r = parseUsers(o.users);
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("; "));
    return r.value;
  })();
  const tunnel: CliTunnel = {
    id: 2, peerId: 7, hostname: "loadtest", address: "10.77.1.2", port: 1701, state: "Open", sessions: o.sessions, vendor: "testkit",
    openedSeconds: 50, controlSent: 10, controlRetransmitted: 0, controlReceived: 12, sessionIds: Array.from({ length: Math.min(o.sessions, 5) }, (_, i) => i + 1),
  };
  const config: StartupConfig = { settings: { ...defaultSettings(), hostname }, explicit: new Set(), accessLists: [], plugins: [], forwards: [] };
  const ok = (what: string, message?: string): CliResult => {
    actions.push(what);
    return message === undefined ? { ok: true } : { ok: true, message };
  };
  return {
    actions,
    hostname: () => hostname,
    version: () => "lnsd 0.1.0",
    users: () => users,
    limits: () => ({ maxSessionId: 59999, maxTunnelId: 499 }),
    *sessions() {
      for (let i = 1; i <= o.sessions; i++) yield row(i);
    },
    session: (id) => (id >= 1 && id <= o.sessions ? row(id) : undefined),
    tunnels: () => [tunnel],
    tunnel: (id) => (id === 2 ? tunnel : undefined),
    pool: () => ({
      free: 4059,
      used: Math.min(o.sessions, 5),
      *entries(all) {
        for (let i = 1; i <= 5; i++) {
          const used = i <= o.sessions;
          if (used || all) yield { address: `10.78.0.${i}`, used, sessionId: used ? i : 0, user: used ? `dslloadtest${i}@optusnet.com.au` : "" };
        }
      },
    }),
    radius: () => ({ free: 16383, used: 0, requests: () => [] }),
    counters: () => ({
      tunnel: { rxBytes: 1438, rxPackets: 62, rxErrors: 0, txBytes: 1307, txPackets: 62, txErrors: 0, retries: 0 },
      groups: [[["tunnel_created", 1], ["session_created", o.sessions]]],
      lastReset: new Date(2026, 10, 21, 11, 59, 51),
    }),
    uptime: () => ({ upSeconds: 48, users: o.sessions, loadAverage: [0.48, 1.04, 1.36] }),
    runningConfig: () => config,
    clearCounters: () => { actions.push("clear counters"); },
    dropUser: (u) => ok(`drop user ${u}`, `Dropping user ${u}`),
    dropSession: (id) => ok(`drop session ${id}`, `Dropping session ${id}`),
    dropTunnel: (id) => ok(`drop tunnel ${id}`),
    setVariable: (name, value) => {
      if (name === "hostname") hostname = value;
      return ok(`set ${name} ${value}`);
    },
    writeMemory: () => Promise.resolve(ok("write memory")),
    reload: () => ok("reload"),
    shutdown: () => ok("shutdown"),
  };
}
