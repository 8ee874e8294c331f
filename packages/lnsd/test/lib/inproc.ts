// In-process rig for the daemon glue: Daemon.start on a FakeClock and an in-memory UDP network, the
// testkit LAC logging subscribers in with PPP, the real RadiusClient, RadiusAuthenticator,
// RadiusSessionAccounting and DaeServer talking to a small RADIUS server built on @lnsd/radius's
// codec (so every Accounting-Request is really encoded and decoded), and optionally the plugin
// host. Nothing here touches a real socket or a real timer, but the plugin host's call timeout.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultSettings, parseIpPool } from "@lnsd/config";
import { FakeClock, MemoryUdpNetwork, OutputGate, type Clock, type TimerHandle, type UdpEndpoint } from "@lnsd/io";
import { nodeJournalFs, type JournalFs } from "@lnsd/journal";
import {
  Attr,
  Code,
  DaeServer,
  decodePacket,
  RadiusClient,
  revealPassword,
  signRequest,
  signResponse,
  Vendor,
  vendorAttr,
  VendorAttr,
  type RadiusAttribute,
  type RadiusPacket,
} from "@lnsd/radius";
import { formatIpv4 } from "@lnsd/wire";
import { LacSimulator, pppLogins, type LacCall, type PppLogins } from "@lnsd/testkit";
import {
  AddressPool,
  Daemon,
  daeHandlerFor,
  defaultPluginDirs,
  LnsdPlugins,
  Logger,
  RadiusAuthenticator,
  RadiusSessionAccounting,
  readState,
  RecordStore,
  StateJournal,
  type DaemonSettings,
  type DataPath,
  type Subscriber,
} from "../../src/index.js";

export const LNS = { address: "192.0.2.1", port: 1701 } as const;
export const RADIUS_ADDRESS = "192.0.2.10";
export const DAE_PORT = 3799;
export const SECRET = "inproc-secret";
const NAS_IDENTIFIER = "lns-inproc";

/** Lets every promise continuation and I/O callback queued so far run. */
export function flush(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

export function ciscoAvPair(pair: string): RadiusAttribute {
  return vendorAttr(Vendor.Cisco, VendorAttr.CiscoAvPair, Buffer.from(pair, "utf8"));
}

/** A request the RADIUS server received, decoded, with the fake-clock time it arrived. */
export interface Received {
  readonly at: number;
  readonly packet: RadiusPacket;
}

export function attrInt(p: RadiusPacket, type: number): number | undefined {
  const a = p.attributes.find((x) => x.type === type);
  return a === undefined || a.value.length !== 4 ? undefined : a.value.readUInt32BE(0);
}

export function attrText(p: RadiusPacket, type: number): string | undefined {
  return p.attributes.find((x) => x.type === type)?.value.toString("utf8");
}

/**
 * The RADIUS server: PAP users and their Access-Accept attributes, an Accounting-Response to
 * every Accounting-Request, and a client of lnsd's DAE port.
 */
export class FakeRadius {
  readonly access: Received[] = [];
  readonly accounting: Received[] = [];
  readonly daeReplies: RadiusPacket[] = [];
  /** user -> password and what the Access-Accept carries. */
  readonly users = new Map<string, { readonly password: string; readonly reply: readonly RadiusAttribute[] }>();
  /** While set, Access-Requests wait for answerHeld() (a slow server). */
  hold = false;
  private readonly held: (() => void)[] = [];
  private daeIdentifier = 0;

  constructor(
    private readonly clock: FakeClock,
    private readonly auth: UdpEndpoint,
    private readonly acct: UdpEndpoint,
    private readonly dae: UdpEndpoint,
  ) {
    auth.onMessage((raw, from) => { this.onAccess(raw, from); });
    acct.onMessage((raw, from) => { this.onAccounting(raw, from); });
    dae.onMessage((raw) => {
      const d = decodePacket(raw);
      if (d.ok) this.daeReplies.push(d.value);
    });
  }

  /** Accounting-Requests of one Acct-Status-Type (RFC 2866 5.1), in arrival order. */
  records(status: number): Received[] {
    return this.accounting.filter((r) => attrInt(r.packet, Attr.AcctStatusType) === status);
  }

  /** Sends a Disconnect-Request or CoA-Request (RFC 5176) to lnsd's DAE port. */
  sendDae(code: number, attributes: readonly RadiusAttribute[]): void {
    this.daeIdentifier = (this.daeIdentifier + 1) & 0xff;
    const pkt = signRequest({ code, identifier: this.daeIdentifier, attributes, secret: SECRET, messageAuthenticator: true });
    this.dae.send(pkt, { address: LNS.address, port: DAE_PORT });
  }

  /** Answers the Access-Requests held so far. */
  answerHeld(): void {
    for (const answer of this.held.splice(0)) answer();
  }

  private onAccess(raw: Buffer, from: { address: string; port: number }): void {
    const d = decodePacket(raw);
    if (!d.ok || d.value.code !== Code.AccessRequest) return;
    const req = d.value;
    this.access.push({ at: this.clock.now(), packet: req });
    if (this.hold) this.held.push(() => { this.answer(req, from); });
    else this.answer(req, from);
  }

  private answer(req: RadiusPacket, from: { address: string; port: number }): void {
    const user = this.users.get(attrText(req, Attr.UserName) ?? "");
    const hidden = req.attributes.find((a) => a.type === Attr.UserPassword);
    const password = hidden === undefined ? undefined : revealPassword(hidden.value, SECRET, req.authenticator)?.toString("utf8");
    const ok = user !== undefined && password === user.password;
    const out = signResponse({ code: ok ? Code.AccessAccept : Code.AccessReject, identifier: req.identifier, attributes: ok ? user.reply : [], secret: SECRET, requestAuthenticator: req.authenticator });
    this.auth.send(out, from);
  }

  private onAccounting(raw: Buffer, from: { address: string; port: number }): void {
    const d = decodePacket(raw);
    if (!d.ok || d.value.code !== Code.AccountingRequest) return;
    this.accounting.push({ at: this.clock.now(), packet: d.value });
    this.acct.send(signResponse({ code: Code.AccountingResponse, identifier: d.value.identifier, attributes: [], secret: SECRET, requestAuthenticator: d.value.authenticator }), from);
  }
}

/**
 * The data plane as the session manager sees it, in memory: what it was told, and a way to count
 * a subscriber's upstream packets as the workers' harvest would.
 */
export class MemoryDataPath implements DataPath {
  readonly onlineSubs = new Set<Subscriber>();
  /** Each setPolicy, with the throttle the session had then. */
  readonly policies: { readonly sub: Subscriber; readonly throttle: Subscriber["throttle"] }[] = [];

  online(sub: Subscriber): void {
    this.onlineSubs.add(sub);
  }
  update(): void {
    // Nothing is forwarded in memory.
  }
  offline(sub: Subscriber): void {
    this.onlineSubs.delete(sub);
  }
  setPolicy(sub: Subscriber): void {
    this.policies.push({ sub, throttle: sub.throttle === undefined ? undefined : { ...sub.throttle } });
  }
  sync(): void {
    // Counters are added by traffic() at once.
  }
  /** The subscriber sent `packets` packets (what a harvest adds to the Subscriber). */
  traffic(sub: Subscriber, packets: number, octets = packets * 100): void {
    sub.rxPackets += packets;
    sub.rxOctets += octets;
    sub.ppp.noteActivity();
  }
}

export interface InprocOptions {
  readonly allowDuplicateUsers?: boolean;
  readonly guestAccount?: string;
  /** radius_interim (seconds); default 0. */
  readonly interimSec?: number;
  /** Plugins to load, in order: names found in pluginFiles or in the checkout's plugins/. */
  readonly plugins?: readonly string[];
  /** Single-file plugins (NAME.mjs -> source) written to a temporary plugin directory. */
  readonly pluginFiles?: Readonly<Record<string, string>>;
  /** throttle_speed and other startup-config settings the plugins read. */
  readonly throttleSpeed?: number;
  /** state_directory: the daemon journals its state there, and restart() resumes it. */
  readonly stateDir?: string;
  /** ip_pool; default 10.20.0.0/24. */
  readonly pool?: string;
  /** While it returns true, the journal's writes fail as on a full disk (ENOSPC). */
  readonly diskFull?: () => boolean;
}

/**
 * The clock of one lnsd process: the shared fake clock's time, and timers that never fire once
 * the process is killed (kill -9 leaves no timer behind).
 */
export class ProcessClock implements Clock {
  killed = false;
  constructor(private readonly clock: FakeClock) {}
  now(): number {
    return this.clock.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.clock.setTimeout(() => { if (!this.killed) fn(); }, ms);
  }
}

/** The journal's file system for one process: writes nothing once the process is killed. */
function processFs(clock: ProcessClock, diskFull: () => boolean = () => false): JournalFs {
  const real = nodeJournalFs;
  const full = (): void => {
    if (diskFull()) throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
  };
  return {
    ...real,
    writeSync: (fd, buf) => {
      full();
      if (!clock.killed) real.writeSync(fd, buf);
    },
    fsyncSync: (fd) => { if (!clock.killed) real.fsyncSync(fd); },
    renameSync: (from, to) => { if (!clock.killed) real.renameSync(from, to); },
    unlinkSync: (path) => { if (!clock.killed) real.unlinkSync(path); },
  };
}

/** One lnsd process of the rig: what restart() replaces. */
interface Instance {
  readonly clock: ProcessClock;
  readonly daemon: Daemon;
  readonly pool: AddressPool;
  readonly client: RadiusClient;
  readonly accounting: RadiusSessionAccounting;
  readonly dae: DaeServer<Subscriber>;
  readonly dataPath: MemoryDataPath;
  readonly journal: StateJournal | undefined;
}

/** One LAC with its PPP logins. */
export interface Lac {
  readonly sim: LacSimulator;
  readonly logins: PppLogins;
}

export class Inproc {
  private readonly lacs: LacSimulator[] = [];
  private nextLac = 1;

  daemon: Daemon;
  pool: AddressPool;
  client: RadiusClient;
  accounting: RadiusSessionAccounting;
  dae: DaeServer<Subscriber>;
  dataPath: MemoryDataPath;
  private instance: Instance;
  private closed = false;

  private constructor(
    readonly clock: FakeClock,
    readonly net: MemoryUdpNetwork,
    readonly radius: FakeRadius,
    instance: Instance,
    readonly plugins: LnsdPlugins | undefined,
    /** Every log line: "LEVEL message". */
    readonly lines: string[],
    readonly logger: Logger,
    private readonly o: InprocOptions,
  ) {
    this.instance = instance;
    this.daemon = instance.daemon;
    this.pool = instance.pool;
    this.client = instance.client;
    this.accounting = instance.accounting;
    this.dae = instance.dae;
    this.dataPath = instance.dataPath;
  }

  static async start(o: InprocOptions = {}): Promise<Inproc> {
    const clock = new FakeClock();
    const net = new MemoryUdpNetwork((fn, ms) => { clock.setTimeout(fn, ms); });
    const lines: string[] = [];
    const logger = new Logger({ write: (_line, level, message) => { lines.push(`${level} ${message}`); } }, 5, () => clock.now(), { burst: Number.MAX_SAFE_INTEGER, windowMs: 1 });
    const radius = new FakeRadius(clock, await net.bind(RADIUS_ADDRESS, 1812), await net.bind(RADIUS_ADDRESS, 1813), await net.bind(RADIUS_ADDRESS, 0));
    const instance = await Inproc.process(clock, net, logger, o);
    const { daemon, accounting } = instance;
    let plugins: LnsdPlugins | undefined;
    if (o.plugins !== undefined) {
      const dir = mkdtempSync(join(tmpdir(), "lnsd-inproc-plugins-"));
      for (const [name, source] of Object.entries(o.pluginFiles ?? {})) writeFileSync(join(dir, `${name}.mjs`), source);
      const startup = { ...defaultSettings(), throttle_speed: o.throttleSpeed ?? 0 };
      plugins = new LnsdPlugins({ sessions: daemon.sessions, logger, settings: startup, pluginDirs: [dir, ...defaultPluginDirs({})], accounting, wallClockMs: () => 1_800_000_000_000 + clock.now() });
      daemon.sessions.usePlugins(plugins.sessionHooks);
      const host = plugins;
      accounting.useAttributesHook((sub, status) => host.accountAttributes(sub, status));
      for (const name of o.plugins) {
        const r = await plugins.host.load(name);
        if (!r.ok) throw new Error(`plugin ${name}: ${r.message}`);
      }
      plugins.becomeMaster();
    }
    return new Inproc(clock, net, radius, instance, plugins, lines, logger, o);
  }

  /** One lnsd: RADIUS client, accounting, pool, daemon (resuming what o.stateDir holds) and DAE server. */
  private static async process(shared: FakeClock, net: MemoryUdpNetwork, logger: Logger, o: InprocOptions): Promise<Instance> {
    const clock = new ProcessClock(shared);
    const nas = { ipAddress: LNS.address, identifier: NAS_IDENTIFIER };
    // The journal's wall clock is the fake clock's (as the L2TP node's and the session manager's).
    const wallClockMs = (): number => clock.now();
    const journal = o.stateDir === undefined ? undefined : new StateJournal({ dir: o.stateDir, clock, logger, wallClockMs, fs: processFs(clock, o.diskFull) });
    const store = journal === undefined ? undefined : new RecordStore(clock);
    // As in lnsd: L2TP's and RADIUS's datagrams leave after the journal has what caused them.
    const gate = store === undefined ? undefined : new OutputGate(() => {
      store.commit();
      return undefined;
    });
    const client = await RadiusClient.create({ servers: [{ address: RADIUS_ADDRESS, authPort: 1812, acctPort: 1813 }], secret: SECRET, nas, clock, udp: gate === undefined ? net : gate.factory(net), wallClockMs: () => 1_800_000_000_000 + clock.now() });
    const accounting = new RadiusSessionAccounting(client, { clock, logger, interimSec: o.interimSec ?? 0, ...(store === undefined ? {} : { reporting: (sub) => { store.subscriber(sub); } }) });
    const pool = parseIpPool(o.pool ?? "10.20.0.0/24");
    if (!pool.ok) throw new Error("ip_pool");
    const settings: DaemonSettings = {
      hostname: NAS_IDENTIFIER,
      bindAddress: LNS.address,
      l2tpPort: LNS.port,
      l2tpRequireAuth: false,
      disableSendingHello: false,
      maxTunnels: 100,
      maxSessions: 100_000,
      maxSessionsInSetup: 1000,
      ppp: { authProtocols: ["pap"], hostName: NAS_IDENTIFIER, localAddress: LNS.address },
      allowDuplicateUsers: o.allowDuplicateUsers ?? false,
      ...(o.guestAccount === undefined ? {} : { guestAccount: o.guestAccount }),
      throttleSpeed: 0,
    };
    const dataPath = new MemoryDataPath();
    const endpoint = await net.bind(LNS.address, LNS.port);
    const addresses = new AddressPool(pool.value.ranges, clock);
    const found = o.stateDir === undefined ? undefined : readState(o.stateDir, 60_000, wallClockMs);
    const daemon = await Daemon.start(settings, logger, {
      clock,
      pool: addresses,
      auth: new RadiusAuthenticator(client),
      dataPlane: { endpoint, path: dataPath },
      events: accounting,
      ...(journal === undefined || store === undefined ? {} : { journal, store }),
      ...(gate === undefined ? {} : { gate }),
      ...(found?.ok === true ? { restore: found.state } : {}),
    });
    const dae = await DaeServer.create<Subscriber>({ bindAddress: LNS.address, port: DAE_PORT, secret: SECRET, allowedClients: [RADIUS_ADDRESS], udp: net, nas, handler: daeHandlerFor(daemon.sessions), clock, wallClockMs: () => 1_800_000_000_000 + clock.now() });
    return { clock, daemon, pool: addresses, client, accounting, dae, dataPath, journal };
  }

  /**
   * lnsd stops and starts again on the same addresses, resuming its state directory: "term" as
   * SIGTERM does (the state written and closed), "crash" as kill -9 (nothing more is written or
   * sent, no timer of the old process fires again); the new one starts downMs later.
   */
  async restart(how: "term" | "crash", downMs = 0): Promise<void> {
    if (this.o.stateDir === undefined || this.plugins !== undefined) throw new Error("restart() needs stateDir and no plugins");
    const old = this.instance;
    if (how === "term") {
      old.daemon.stopKeepingSessions();
    } else {
      old.clock.killed = true;
      old.daemon.l2tp.endpoint.close();
    }
    old.clock.killed = true;
    old.dae.close();
    old.client.close();
    // No lnsd for downMs: what the LACs send meanwhile is lost.
    if (downMs > 0) await this.run(downMs, 100);
    const next = await Inproc.process(this.clock, this.net, this.logger, this.o);
    this.instance = next;
    this.daemon = next.daemon;
    this.pool = next.pool;
    this.client = next.client;
    this.accounting = next.accounting;
    this.dae = next.dae;
    this.dataPath = next.dataPath;
  }

  /** Moves the fake clock on by ms in steps, letting promises settle after each step. */
  async run(ms: number, stepMs = 10): Promise<void> {
    const end = this.clock.now() + ms;
    while (this.clock.now() < end) {
      this.clock.advance(Math.min(stepMs, end - this.clock.now()));
      await flush();
    }
  }

  /** Runs the clock until cond holds (true) or maxMs of fake time passed (false). */
  async until(cond: () => boolean, maxMs = 30_000, stepMs = 10): Promise<boolean> {
    const end = this.clock.now() + maxMs;
    while (!cond()) {
      if (this.clock.now() >= end) return false;
      this.clock.advance(stepMs);
      await flush();
    }
    return true;
  }

  /** A LAC (its own address) placing `sessions` calls in one tunnel, each logging `username` in with PAP. */
  async lac(username: string, password: string, sessions = 1): Promise<Lac> {
    const endpoint = await this.net.bind(`198.51.100.${this.nextLac++}`, 1701);
    const logins = pppLogins({ username, password, authProtocols: ["pap"], clock: this.clock });
    const sim = new LacSimulator({ lns: LNS, tunnels: 1, sessionsPerTunnel: sessions, endpoint, clock: this.clock, calls: logins.handler });
    await sim.start();
    this.lacs.push(sim);
    return { sim, logins };
  }

  /** A LAC whose logins all come online (IPCP up on the subscriber's side), or throws. */
  async online(username: string, password: string, sessions = 1): Promise<Lac> {
    const lac = await this.lac(username, password, sessions);
    if (!(await this.until(() => lac.logins.stats.online.size === sessions))) throw new Error(`${username}: ${lac.logins.stats.online.size} of ${sessions} online; log:\n${this.lines.join("\n")}`);
    return lac;
  }

  /** The LNS's session of a subscriber's call (matched by its address). */
  subscriberOf(lac: Lac, call?: LacCall): Subscriber {
    const c = call ?? [...lac.logins.stats.online.keys()][0];
    const info = c === undefined ? undefined : lac.logins.stats.online.get(c);
    const found = [...this.daemon.sessions.all()].find((s) => s.address !== undefined && info !== undefined && formatIpv4(s.address) === info.address);
    if (found === undefined) throw new Error("no such session on the LNS");
    return found;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.lacs) l.close();
    this.dae.close();
    this.client.close();
    this.daemon.stopKeepingSessions();
  }
}
