// What the CLI reads from and asks of the daemon. The CLI package knows nothing of lnsd's objects:
// the daemon hands it an object of this shape (packages/lnsd/src/cli-backend.ts). Everything here
// is called on the control thread; lists are iterables so that `show session` with 100,000 rows
// is produced a chunk at a time, never as one big array of text.
import type { StartupConfig, UsersFile } from "@lnsd/config";

/** One subscriber session, as `show session` prints it. */
export interface CliSession {
  /** The session's unique number (SID). */
  readonly id: number;
  /** LkToSID: the session this one is linked to (0 for none: no MLPPP bundles yet). */
  readonly linkedTo: number;
  readonly tunnelId: number;
  /** "" before authentication. */
  readonly username: string;
  /** IPv4 address, dotted quad; undefined while none is assigned. */
  readonly address: string | undefined;
  /** I T G 6: intercepted (snoop), throttled, walled garden, IPv6 up. */
  readonly intercepted: boolean;
  readonly throttled: boolean;
  readonly walledGarden: boolean;
  readonly ipv6: boolean;
  readonly openedSeconds: number;
  readonly idleSeconds: number;
  /** Seconds until Session-Timeout ends the session; 0 with none. */
  readonly remainingSeconds: number;
  /** Octets and packets towards the subscriber (downloaded) and from them (uploaded). */
  readonly txOctets: number;
  readonly rxOctets: number;
  readonly txPackets: number;
  readonly rxPackets: number;
  /** The LAC's address. */
  readonly lacAddress: string;
  readonly callingNumber: string;
  readonly calledNumber: string;
  /** "Establish", "Authenticate", "Network", "Terminate", "Dead". */
  readonly pppPhase: string;
  /** RFC 1661 automaton states: "Opened", "Closed", "Stopped", ... */
  readonly ipcpState: string;
  readonly ipv6cpState: string;
  readonly ccpState: string;
  readonly mru: number;
  /** Connect speeds from the LAC (bits per second). */
  readonly rxSpeed: number;
  readonly txSpeed: number;
}

/** One tunnel (L2TP control connection). */
export interface CliTunnel {
  readonly id: number;
  readonly peerId: number;
  /** The LAC's Host Name AVP; "" if it sent none. */
  readonly hostname: string;
  readonly address: string;
  readonly port: number;
  /** "Opening", "Open", "Closing", "Free". */
  readonly state: string;
  readonly sessions: number;
  readonly vendor: string;
  readonly openedSeconds: number;
  /** Control messages: sent, retransmitted, received. */
  readonly controlSent: number;
  readonly controlRetransmitted: number;
  readonly controlReceived: number;
  /** The SIDs of its sessions. */
  readonly sessionIds: readonly number[];
}

export interface CliPoolEntry {
  readonly address: string;
  readonly used: boolean;
  /** In use: the holder's SID (0 for an address outside any session, e.g. static). */
  readonly sessionId: number;
  /** In use: the holder; free: the last user, if remembered. */
  readonly user: string;
  /** Free: seconds since it was released; undefined if never used. */
  readonly freeForSeconds?: number;
}

export interface CliPool {
  readonly free: number;
  readonly used: number;
  /** Every address (with `all`) or only those in use, in address order. */
  entries(all: boolean): Iterable<CliPoolEntry>;
}

export interface CliRadiusRequest {
  readonly id: number;
  readonly server: string;
  readonly state: string;
  readonly sessionId: number;
  readonly retry: number;
  readonly tries: number;
}

export interface CliRadius {
  readonly free: number;
  readonly used: number;
  requests(): Iterable<CliRadiusRequest>;
}

/** `show counters`: the interface and tunnel tables, then named counters in groups. */
export interface CliCounters {
  /** The TUN device ("Ethernet" in l2tpns): undefined without one. */
  readonly tun?: { readonly rxBytes: number; readonly rxPackets: number; readonly rxErrors: number; readonly rxDropped: number; readonly txBytes: number; readonly txPackets: number; readonly txErrors: number };
  readonly tunnel: { readonly rxBytes: number; readonly rxPackets: number; readonly rxErrors: number; readonly txBytes: number; readonly txPackets: number; readonly txErrors: number; readonly retries: number };
  readonly groups: readonly (readonly (readonly [name: string, value: number])[])[];
  /** When `clear counters` last ran (or the start). */
  readonly lastReset: Date;
}

export interface CliUptime {
  readonly upSeconds: number;
  /** Sessions online. */
  readonly users: number;
  readonly loadAverage: readonly [number, number, number];
  /** Kbit/s over the last second, when known. */
  readonly bandwidth?: { readonly udpToEth: readonly [number, number]; readonly ethToUdp: readonly [number, number]; readonly inPps: number; readonly outPps: number };
}

/** The outcome of an action: a line to show on success, or an error line. */
export interface CliThrottleRow {
  readonly id: number;
  readonly tunnelId: number;
  readonly username: string;
  /** kbit/s: in from the subscriber, out to it. */
  readonly rateIn: number;
  readonly rateOut: number;
}

export type CliResult = { readonly ok: true; readonly message?: string } | { readonly ok: false; readonly error: string };

/** Limits that `?` shows as ranges, e.g. <1-59999>. */
export interface CliLimits {
  readonly maxSessionId: number;
  readonly maxTunnelId: number;
}

/**
 * The daemon as the CLI sees it. Optional members are features that may not be running: the CLI
 * knows their commands and answers that the feature is not running when the member is absent.
 */
export interface CliBackend {
  /** The prompt's name: `hostname>`. Read at each prompt, so `set hostname` shows at once. */
  hostname(): string;
  /** `show version`. */
  version(): string;
  /**
   * The users file (CLI logins and the enable password), read when a client connects; undefined
   * when there is none: then only 127.0.0.1 may use the CLI, without a login (as l2tpns).
   */
  users(): UsersFile | undefined;
  limits(): CliLimits;

  sessions(): Iterable<CliSession>;
  session(id: number): CliSession | undefined;
  tunnels(all: boolean): Iterable<CliTunnel>;
  tunnel(id: number): CliTunnel | undefined;
  pool(): CliPool;
  radius(): CliRadius | undefined;
  counters(): CliCounters;
  uptime(): CliUptime;
  /** The running configuration: `show running-config`, `write terminal`. */
  runningConfig(): StartupConfig;

  clearCounters(): void;
  dropUser(username: string): CliResult;
  dropSession(id: number): CliResult;
  dropTunnel(id: number): CliResult;
  /** `set NAME VALUE` in config mode: changes the running config. */
  setVariable(name: string, value: string): CliResult;
  /** `write memory`: saves the running config to the startup-config file. */
  writeMemory(): Promise<CliResult>;
  reload(): CliResult;
  shutdown(): CliResult;

  // Features that land later: absent means "not running".
  plugins?(): readonly string[];
  /** Loading a plugin imports a module: the answer may come later. */
  loadPlugin?(name: string): CliResult | Promise<CliResult>;
  removePlugin?(name: string): CliResult | Promise<CliResult>;
  snoop?(username: string, address: string, port: number): CliResult;
  unsnoop?(username: string): CliResult;
  throttle?(username: string, rateKbps?: number): CliResult;
  unthrottle?(username: string): CliResult;
  filter?(username: string, direction: "in" | "out", list: string): CliResult;
  unfilter?(username: string): CliResult;
  /** `show throttle`: the throttled sessions. */
  throttled?(): Iterable<CliThrottleRow>;
  /** `show access-list`: packets each rule of a list matched (the data plane's counts). */
  accessListHits?(name: string): readonly number[];
  /** `show cluster`; undefined: this node is not in a cluster. */
  cluster?(): readonly string[] | undefined;
  bgp?(): readonly string[];
}
