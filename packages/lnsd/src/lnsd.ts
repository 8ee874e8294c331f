// The daemon's one composition root (issue 13): Lnsd.start builds every part from the
// startup-config beside ip_pool, users and chap-secrets (logging, metrics, the loop watch, the
// state journal, RADIUS, the address pool, the data plane, the daemon with whatever sessions an
// earlier lnsd left, DAE, plugins, nsctl, the CLI), and owns their lifetime: reload() (SIGHUP)
// prepares every change first and commits only when all could be prepared; stopKeepingSessions()
// (SIGTERM) and stopTearingDown() (SIGQUIT). bin/lnsd.ts only reads the command line and signals.
import { writeFileSync } from "node:fs";
import { hostname as osHostname } from "node:os";
import { formatConfigError, poolRangesFor, readIpPoolFile, readStartupConfigFile, type IpPoolRange, type StartupConfig, type StartupSettings } from "@lnsd/config";
import { DataPlane, loadAddon, type DataPlaneSettings } from "@lnsd/dataplane";
import { OutputGate, systemClock, type UdpEndpointFactory } from "@lnsd/io";
import { l2tpConfigProblem } from "@lnsd/l2tp";
import { mruForL2tpMtu } from "@lnsd/ppp";
import { clientEventLogLine, RadiusClient, radiusUdp, type DaeServer, type NasIdentity, type RadiusClientEvent } from "@lnsd/radius";
import type { CliServer } from "@lnsd/cli";
import { formatIpv4 } from "@lnsd/wire";
import type { DaemonOptions } from "./args.js";
import { filterListsFrom } from "./access-lists.js";
import { LnsdCliBackend } from "./cli-backend.js";
import { Listener, prepareAll, UNCHANGED, type Component } from "./component.js";
import { checkUsersFile } from "./config-check.js";
import { Daemon, daemonSettingsFrom, L2TP_PORT, type DaemonSettings } from "./daemon.js";
import { WorkerDataPath } from "./data-path.js";
import { cliListener, controlListener, daeListener, metricsListener } from "./listeners.js";
import { LocalAuthenticator } from "./local-auth.js";
import { Logger, sinkForLogFile, type LogSink } from "./log.js";
import { LoopWatch } from "./loop-watch.js";
import { LnsdMetrics } from "./metrics.js";
import { LnsdPlugins } from "./plugins.js";
import { AddressPool, poolRangesProblem } from "./pool.js";
import { RadiusAuthenticator, radiusClientOptions } from "./radius-auth.js";
import { RadiusSessionAccounting } from "./radius-accounting.js";
import { radiusComponent, radiusSettingsLine } from "./radius-component.js";
import { daeHandlerFor } from "./radius-dae.js";
import { ipv6PrefixBytes } from "./router-advert.js";
import { LocalSecrets, localSecretsPath, readChapSecretsFile, usesLocalSecrets } from "./secrets.js";
import type { Authenticator, SessionEvents, Subscriber } from "./sessions.js";
import { configFilesFor, type ConfigFiles } from "./startup.js";
import { claimStateDir, pruneStaleStates, readState, removeState, stateDirFor, StateJournal, type RestoredState } from "./state.js";
import { RecordStore } from "./store.js";
import { clusterControl, ClusterSwitch, lcpEchoReply, clusterConfigured, DAE_CHANNEL, LnsdCluster, ReplicaCliView, ReplicaDataPath, showCluster } from "./cluster.js";

/** syslog(3)'s datagrams to /dev/log go through the dataplane addon (Node has no unix datagram sockets). */
export function unixDgramSender(): ((path: string, data: Uint8Array) => void) | undefined {
  try {
    const addon = loadAddon();
    return (path, data) => { addon.unixDgramSend(path, data); };
  } catch {
    return undefined;
  }
}

/** Set by -d in the environment of the lnsd it detaches: there is no terminal to log to. */
export const DETACHED_ENV = "LNSD_DETACHED";

function sinkFor(logFile: string): LogSink {
  // Detached with no log_file: syslog (lnsd -d checked that it listens), not the lost stderr.
  const target = logFile === "" && process.env[DETACHED_ENV] === "1" ? "syslog:daemon" : logFile;
  // syslog:FACILITY without the addon: the lines go to stderr.
  return sinkForLogFile(target, target.startsWith("syslog:") ? unixDgramSender() : undefined);
}

/**
 * Every config warning once, at start and on each reload, with the users file's (each its own
 * rate-limit reason, so that none is dropped however many there are).
 */
async function logConfigWarnings(logger: Logger, warnings: readonly string[], usersPath: string): Promise<void> {
  const users = await checkUsersFile(usersPath);
  for (const w of [...warnings, ...users.warnings]) logger.log("warn", `config ${w}`, w);
  for (const e of users.errors) logger.log("error", `config ${e}`, `${e}: no CLI logins until it is fixed`);
}

/**
 * Settings a reload does not apply: each one changed is logged, so a reload never drops a change
 * silently. (bind_address is the daemon's own warning.) RADIUS accounting, the data plane's device
 * and workers, the IPv6 prefix and the state journal are made once at start; the listeners and the RADIUS client
 * and servers are components (component.ts) that a reload prepares and commits.
 */
const RESTART_TO_CHANGE = [
  "radius_accounting", "radius_interim",
  "data_workers", "tundevicename", "iftun_address", "ipv6_prefix",
  "state_directory", "state_max_age",
  "cluster_address", "cluster_port", "cluster_interface", "cluster_mcast_ttl", "cluster_hb_interval", "cluster_hb_timeout", "cluster_secret",
] as const satisfies readonly (keyof StartupSettings)[];

/** The daemon's settings with the metrics' LCP Echo observer in the PPP config. */
function observed(settings: DaemonSettings, metrics: LnsdMetrics | undefined): DaemonSettings {
  return metrics === undefined ? settings : { ...settings, ppp: { ...settings.ppp, onEcho: (sample) => { metrics.observeEcho(sample); } } };
}

async function loadConfig(path: string): Promise<{ ok: true; config: StartupConfig; warnings: string[] } | { ok: false; errors: string[] }> {
  const r = await readStartupConfigFile(path);
  if (!r.ok) return { ok: false, errors: r.errors.map(formatConfigError) };
  const l2tpProblem = l2tpConfigProblem({ secret: r.value.settings.l2tp_secret, requireTunnelAuth: r.value.settings.l2tp_require_auth });
  if (l2tpProblem !== undefined) return { ok: false, errors: [`${path}: ${l2tpProblem}`] };
  return { ok: true, config: r.value, warnings: r.warnings.map(formatConfigError) };
}

/** ip_pool beside the startup-config; a missing file is an empty pool (logins then get no address). */
async function loadPool(path: string, settings: StartupSettings): Promise<{ ok: true; ranges: IpPoolRange[] } | { ok: false; errors: string[] }> {
  const r = await readIpPoolFile(path);
  if (!r.ok) {
    if (r.errors.every((e) => e.line === 0 && e.message.includes("no such file"))) return { ok: true, ranges: [] };
    return { ok: false, errors: r.errors.map(formatConfigError) };
  }
  const ranges = poolRangesFor(r.value, settings.bind_address);
  const problem = poolRangesProblem(ranges);
  return problem === undefined ? { ok: true, ranges } : { ok: false, errors: [`${path}: ${problem}`] };
}

/** Who checks logins: the RADIUS servers when one is set (`radius`, built once at start), else chap-secrets. */
async function loadAuth(startupConfig: string, settings: StartupSettings, hostname: string, logger: Logger, radius?: Authenticator): Promise<{ ok: true; auth: Authenticator } | { ok: false; errors: string[] }> {
  if (!usesLocalSecrets(settings)) {
    if (radius !== undefined) return { ok: true, auth: radius };
    // A reload that names a RADIUS server where there was none: the reload says a restart is needed.
    return { ok: true, auth: { authenticate: () => Promise.resolve({ ok: false, message: "Authentication unavailable", error: true }) } };
  }
  const path = localSecretsPath(startupConfig, settings.local_secrets_file);
  const r = await readChapSecretsFile(path);
  if (!r.ok && r.errors.every((e) => e.line === 0 && e.message.includes("no such file"))) {
    // No file yet: lnsd runs and refuses every login until one is written and lnsd is told (SIGHUP).
    logger.log("warn", "secrets", `${path}: no such file: no RADIUS server and no local users, every login will be refused`);
    return { ok: true, auth: new LocalAuthenticator(new LocalSecrets({ entries: [] }, hostname)) };
  }
  if (!r.ok) return { ok: false, errors: r.errors.map(formatConfigError) };
  for (const w of r.warnings) logger.log("warn", "secrets", formatConfigError(w));
  return { ok: true, auth: new LocalAuthenticator(new LocalSecrets(r.value, hostname)) };
}

/** Plugins with packet hooks are loaded by the data workers too (when there are workers). */
function packetPluginsFor(dataPlane: DataPlane | undefined): { packetPlugins?: (names: readonly string[], dirs: readonly string[]) => void } {
  return dataPlane === undefined ? {} : { packetPlugins: (names, dirs) => { dataPlane.setPacketPlugins(names, dirs); } };
}

/** The access list that holds gardened sessions (the garden plugin gardens them). */
const GARDEN_ACCESS_LIST = "garden";

/** What the data workers apply, from the startup-config (SIGHUP changes it in place). */
function dataPlaneSettingsFrom(settings: StartupSettings): DataPlaneSettings {
  // The TCP MSS that fits the PPP MRU the L2TP MTU leaves (IPv4 and TCP headers, 40 bytes).
  return { mss: mruForL2tpMtu(settings.l2tp_mtu) - 40, icmpRate: settings.icmp_rate, packetLimit: settings.packet_limit, noSpoof: settings.disable_no_spoof };
}

/**
 * The TUN device and the data workers that forward through it; lnsd still runs (sessions without
 * traffic) when they cannot be had (no /dev/net/tun, no CAP_NET_ADMIN).
 */
async function openDataPlane(settings: StartupSettings, ranges: readonly IpPoolRange[], logger: Logger): Promise<DataPlane | undefined> {
  // iftun_address, else bind_address (as l2tpns), but never a loopback address: that is lo's.
  const usable = (a: string): boolean => a !== "0.0.0.0" && !a.startsWith("127.");
  const address = usable(settings.iftun_address) ? settings.iftun_address : usable(settings.bind_address) ? settings.bind_address : undefined;
  try {
    return await DataPlane.open({
      ...dataPlaneSettingsFrom(settings),
      bindAddress: settings.bind_address,
      port: L2TP_PORT,
      workers: settings.data_workers,
      tunName: settings.tundevicename,
      mtu: mruForL2tpMtu(settings.l2tp_mtu),
      ...(address === undefined ? {} : { tunAddress: `${address}/32` }),
      routes: ranges.map((r) => `${formatIpv4(r.network)}/${r.prefixLength}`),
      localAddress: address ?? "0.0.0.0",
      ...(ipv6PrefixBytes(settings.ipv6_prefix) === undefined ? {} : { ipv6Prefix: settings.ipv6_prefix }),
      maxSessions: settings.max_sessions,
      onEvent: (level, reason, message) => { logger.log(level, reason, message); },
    });
  } catch (e) {
    logger.log("error", "tun", `no data plane (${e instanceof Error ? e.message : String(e)}): sessions will carry no traffic`);
    return undefined;
  }
}

interface Radius {
  readonly client: RadiusClient;
  readonly auth: RadiusAuthenticator;
  readonly accounting: RadiusSessionAccounting | undefined;
  readonly nas: NasIdentity;
}

/**
 * One rate-limited log line per RADIUS client event, with a reason per kind; the first drop of
 * each reason from a server at level 1 with what to do about it (the text: @lnsd/radius).
 */
function logRadiusEvent(logger: Logger, e: RadiusClientEvent): void {
  const line = clientEventLogLine(e);
  if (line !== undefined) logger.log(line.level, line.reason, line.message);
}

/** The RADIUS client, authenticator and accounting from primary_radius and the settings after it. */
async function startRadius(settings: StartupSettings, hostname: string, logger: Logger, metrics: LnsdMetrics | undefined, watch: LoopWatch, store: RecordStore | undefined, gate: OutputGate | undefined): Promise<Radius> {
  const options = radiusClientOptions(settings, hostname);
  const { nas } = options;
  if (settings.radius_secret === "") logger.log("error", "radius-config", "radius_secret is not set: the RADIUS servers will not believe lnsd");
  const client = await RadiusClient.create({
    ...options,
    // The output commit: a request leaves only once the journal has what caused it.
    udp: watch.udp(gate === undefined ? radiusUdp : gate.factory(radiusUdp), "radius"),
    onEvent: (e) => {
      metrics?.radiusEvent(e);
      logRadiusEvent(logger, e);
    },
  });
  const accounting = settings.radius_accounting ? new RadiusSessionAccounting(client, { clock: systemClock, logger, interimSec: settings.radius_interim, ...(store === undefined ? {} : { reporting: (sub) => { store.subscriber(sub); } }) }) : undefined;
  logger.log("info", "radius", radiusSettingsLine(options, accounting !== undefined));
  return { client, auth: new RadiusAuthenticator(client), accounting, nas };
}

/** A day: the state of another configuration not written for this long is removed. */
const STALE_STATE_MS = 86_400_000;

/**
 * The state an earlier lnsd of this configuration left (state_directory), and the journal this one
 * writes: one log line says what was found and why it is not resumed when it is not.
 */
function openState(settings: StartupSettings, startupConfig: string, logger: Logger): { ok: true; journal?: StateJournal; store?: RecordStore; restore?: RestoredState } | { ok: false; error: string } {
  if (settings.state_directory === "") return { ok: true };
  const dir = stateDirFor(settings.state_directory, startupConfig, settings.bind_address);
  let claim: ReturnType<typeof claimStateDir>;
  try {
    claim = claimStateDir(dir);
  } catch (e) {
    // lnsd runs without it (as l2tpns, which keeps no state): said once, loudly.
    logger.log("error", "state-journal", `state_directory: cannot use ${dir} (${e instanceof Error ? e.message : String(e)}): no state is kept, a restart drops every session`);
    return { ok: true };
  }
  if (!claim.ok) return { ok: false, error: `another lnsd (pid ${String(claim.pid)}) runs with this startup-config and bind_address (its state is in ${dir}): stop it first` };
  const release = claim.release;
  process.once("exit", release);
  pruneStaleStates(settings.state_directory, dir, STALE_STATE_MS);
  const found = readState(dir, settings.state_max_age * 1000);
  if (!found.ok && found.code !== "none") {
    logger.log("warn", "restore", `state in ${dir} not resumed (${found.code}: ${found.reason}): starting with no sessions`);
    removeState(dir);
  }
  const journal = new StateJournal({ dir, clock: systemClock, logger });
  return { ok: true, journal, store: new RecordStore(systemClock), ...(found.ok ? { restore: found.state } : {}) };
}

/** Metrics off at start: none are kept, so a reload cannot turn the listener on. */
function metricsNeedRestart(logger: Logger): Component {
  const warn = (): void => { logger.log("warn", "reload-metrics_port", "metrics_port changed: takes effect when lnsd is restarted (the running value is kept)"); };
  return { name: "metrics", prepare: (next) => Promise.resolve(next.metrics_port === 0 ? UNCHANGED : { ok: true, commit: warn, abort: () => undefined }) };
}

/** The running parts, as Lnsd.start made them. */
interface Parts {
  readonly opts: DaemonOptions;
  readonly files: ConfigFiles;
  /** The settings lnsd started with (what RESTART_TO_CHANGE compares a reload against). */
  readonly startSettings: StartupSettings;
  readonly logger: Logger;
  readonly metrics: LnsdMetrics | undefined;
  readonly radius: Radius | undefined;
  readonly auth: Authenticator;
  readonly pool: AddressPool;
  readonly daemon: Daemon;
  readonly dataPlane: DataPlane | undefined;
  readonly running: DaemonSettings;
  readonly components: readonly Component[];
  readonly dae: Listener<DaeServer<Subscriber>> | undefined;
  readonly plugins: LnsdPlugins;
  readonly cli: Listener<CliServer>;
  readonly cliBackend: LnsdCliBackend;
  readonly hostname: string;
  /** The cluster node, when the startup-config sets cluster_address. */
  readonly cluster: LnsdCluster | undefined;
}

export type LnsdStart = { readonly ok: true; readonly lnsd: Lnsd } | { readonly ok: false; readonly errors: readonly string[] };

export class Lnsd {
  private logFile: string;
  private running: DaemonSettings;

  private constructor(private readonly p: Parts, private readonly setExit: (exit: (code: number) => void) => void) {
    this.logFile = p.startSettings.log_file;
    this.running = p.running;
  }

  /** How lnsd ends itself when it must (a cluster master that stepped down); process.exit by default. */
  onExit(exit: (code: number) => void): void {
    this.setExit(exit);
  }

  get daemon(): Daemon {
    return this.p.daemon;
  }

  get logger(): Logger {
    return this.p.logger;
  }

  /** Everything from the command line's options; errors (exit status 1) name file and line. */
  static async start(opts: DaemonOptions): Promise<LnsdStart> {
    const files = configFilesFor(opts.configFile);
    const loaded = await loadConfig(files.startupConfig);
    if (!loaded.ok) return { ok: false, errors: loaded.errors };
    const settings = loaded.config.settings;
    const logger = new Logger(sinkFor(settings.log_file), Math.min(5, settings.debug + opts.verbosity));
    // Prometheus metrics (metrics_port, lnsd extension): made first, so that RADIUS and PPP can feed them.
    const metrics = settings.metrics_port === 0 ? undefined : new LnsdMetrics();
    if (metrics !== undefined) metrics.observeLogger(logger);
    // Every input's handler runs under the watch: a fault drops that input, never the process.
    const watch = new LoopWatch(logger);
    watch.start();
    metrics?.watchLoop(watch);
    // The last resort, for a fault in a continuation no handler saw: logged and counted, lnsd goes on.
    process.on("uncaughtException", (e) => { watch.fault("process", e); });
    process.on("unhandledRejection", (e) => { watch.fault("process", e); });
    await logConfigWarnings(logger, loaded.warnings, files.users);
    const poolRanges = await loadPool(files.ipPool, settings);
    const hostname = opts.hostname ?? (settings.hostname === "" ? osHostname() : settings.hostname);
    // Sessions an earlier lnsd of this configuration kept (SIGTERM, a crash): resumed by Daemon.start.
    const state = openState(settings, files.startupConfig, logger);
    if (!state.ok) {
      logger.log("critical", "start", state.error);
      return { ok: false, errors: [state.error] };
    }
    // A cluster (cluster_address set): the records are kept and replicated even with no state journal.
    const inCluster = clusterConfigured(loaded.config);
    const store = state.store ?? (inCluster ? new RecordStore(systemClock) : undefined);
    let cluster: LnsdCluster | undefined;
    if (inCluster && store !== undefined) {
      const opened = await LnsdCluster.open({ settings, logger, clock: systemClock, store, startedAtMs: Date.now() });
      if (!opened.ok) {
        logger.log("critical", "start", opened.error);
        return { ok: false, errors: [opened.error] };
      }
      cluster = opened.cluster;
    }
    // The output commit: L2TP's and RADIUS's datagrams leave at the end of each turn, after one
    // journal write of the changes that caused them and, in a cluster, once every up-to-date slave
    // holds them.
    const gate = store === undefined ? undefined : new OutputGate(() => {
      store.commit();
      return cluster?.barrier(store.version);
    });
    let radius: Radius | undefined;
    if (!usesLocalSecrets(settings)) {
      try {
        radius = await startRadius(settings, hostname, logger, metrics, watch, store, gate);
      } catch (e) {
        logger.log("critical", "start", `RADIUS: ${e instanceof Error ? e.message : String(e)}`);
        return { ok: false, errors: [`RADIUS: ${e instanceof Error ? e.message : String(e)}`] };
      }
    }
    const auth = await loadAuth(files.startupConfig, settings, hostname, logger, radius?.auth);
    if (!poolRanges.ok || !auth.ok) return { ok: false, errors: [...(poolRanges.ok ? [] : poolRanges.errors), ...(auth.ok ? [] : auth.errors)] };
    const pool = new AddressPool(poolRanges.ranges);
    let daemon: Daemon;
    let dataPlane: DataPlane | undefined;
    let dataPath: WorkerDataPath | undefined;
    const running = observed(daemonSettingsFrom(settings, opts.hostname), metrics);
    // Session ends reach accounting and the metrics' traffic totals.
    const accounting = radius?.accounting;
    // In a cluster the L2TP socket goes through the switch: a slave passes what it receives to the master.
    const clusterSwitch = cluster === undefined ? undefined : new ClusterSwitch((packet, from) => { cluster.node.forward(from.address, from.port, packet); }, (packet) => lcpEchoReply(packet, cluster.node.replica));
    const events: SessionEvents | undefined =
      metrics === undefined
        ? accounting
        : {
            online: (sub) => { accounting?.online(sub); },
            offline: (sub, cause) => {
              accounting?.offline(sub, cause);
              metrics.sessionEnded(sub);
            },
          };
    try {
      // The TUN device and the data workers carry the subscribers' traffic (disable_tun: control plane only).
      dataPlane = settings.disable_tun ? undefined : await openDataPlane(settings, poolRanges.ranges, logger);
      // The walled garden is the access list named "garden": what gardened sessions may reach.
      dataPlane?.setGarden(GARDEN_ACCESS_LIST);
      const problem = dataPlane?.loadFilters(filterListsFrom(loaded.config.accessLists));
      if (problem !== undefined) logger.log("error", "access-list", `access lists not loaded: ${problem}`);
      dataPath = dataPlane === undefined ? undefined : new WorkerDataPath(dataPlane, systemClock, logger);
      daemon = await Daemon.start(running, logger, { watch, pool, auth: auth.auth, ...(dataPlane === undefined || dataPath === undefined ? {} : { dataPlane: { endpoint: dataPlane.endpoint, path: dataPath } }), ...(events === undefined ? {} : { events }), ...(state.journal === undefined ? {} : { journal: state.journal }), ...(store === undefined ? {} : { store }), ...(gate === undefined ? {} : { gate }), ...(state.restore === undefined || cluster !== undefined ? {} : { restore: state.restore }), ...(clusterSwitch === undefined ? {} : { standby: true, wrapEndpoint: (e) => clusterSwitch.wrap(e) }) });
    } catch (e) {
      logger.log("critical", "start", `cannot start: ${e instanceof Error ? e.message : String(e)}`);
      return { ok: false, errors: [`cannot start: ${e instanceof Error ? e.message : String(e)}`] };
    }
    // The reloadable parts: a SIGHUP prepares each, and commits them only when all could be prepared.
    // DAE answers leave once the change they report is kept (the gate); a slave passes requests to the master.
    const daeSwitch = cluster === undefined ? undefined : new ClusterSwitch((packet, from) => { cluster.node.forward(from.address, from.port, packet, DAE_CHANNEL); });
    const daeUdp: UdpEndpointFactory = {
      bind: async (address, port) => {
        const raw = await radiusUdp.bind(address, port);
        const switched = daeSwitch === undefined ? raw : daeSwitch.wrap(raw);
        return gate === undefined ? switched : gate.endpoint(switched);
      },
    };
    const dae = radius === undefined ? undefined : await Listener.start(daeListener(settings.bind_address, radius.nas, daeHandlerFor(daemon.sessions), logger, watch, daeUdp), settings, logger);
    const components: Component[] = radius === undefined || dae === undefined ? [] : [radiusComponent(radius.client, hostname, radius.accounting !== undefined, logger), dae];
    // Plugins (issue 7): the startup-config's `load plugin` lines, in order; then nsctl can reach them.
    const plugins = new LnsdPlugins({ sessions: daemon.sessions, logger, settings, ...packetPluginsFor(dataPlane), ...(radius?.accounting === undefined ? {} : { accounting: radius.accounting }) });
    daemon.sessions.usePlugins(plugins.sessionHooks);
    radius?.accounting?.useAttributesHook((sub, status) => plugins.accountAttributes(sub, status));
    logger.log("debug", "plugin-dir", `plugins from ${plugins.pluginDirs.join(", ")}`);
    await plugins.loadConfigured(loaded.config.plugins);
    plugins.startTimer();
    // A node alone is the master from the start; in a cluster, once elected.
    if (cluster === undefined) plugins.becomeMaster();
    const control = await Listener.start(controlListener(logger, watch, cluster === undefined ? plugins : clusterControl(plugins, cluster)), settings, logger);
    // The operator's telnet CLI (port 23 on cli_bind_address), once the daemon runs; without it lnsd carries on.
    const radiusClient = radius?.client;
    const cliBackend = new LnsdCliBackend({ daemon, pool, logger, config: loaded.config, ...(cluster === undefined ? {} : { cluster: () => showCluster(cluster, settings), replica: new ReplicaCliView(cluster) }), startupConfigPath: files.startupConfig, usersPath: files.users, radius: radius !== undefined, ...(radiusClient === undefined ? {} : { radiusDrops: () => radiusClient.counters.dropped }), ...(opts.hostname === undefined ? {} : { hostnameOverride: opts.hostname }), plugins: plugins.cli, ...(dataPlane === undefined ? {} : { dataplane: () => dataPlane.stats(), filters: dataPlane.filters }) });
    const cli = await Listener.start(cliListener(cliBackend, logger, watch), settings, logger);
    components.push(control, cli);
    metrics?.attach({
      sessions: () => daemon.sessions.all(),
      l2tp: () => daemon.l2tp,
      ...(radiusClient === undefined ? {} : { radius: () => radiusClient.stats() }),
      control: () => control.current?.counters ?? { requests: 0, dropped: {} },
      ...(dataPlane === undefined ? {} : { dataplane: () => dataPlane.stats() }),
      cliSessions: () => cli.current?.clientCount ?? 0,
      ...(store === undefined ? {} : { state: () => ({ records: store.size, published: store.published, journalBytes: state.journal?.bytesWritten ?? 0 }) }),
      ...(cluster === undefined ? {} : { cluster: () => cluster.node }),
    });
    components.push(metrics === undefined ? metricsNeedRestart(logger) : await Listener.start(metricsListener(metrics), settings, logger));
    const journalDir = state.journal?.dir ?? "?";
    /** What this lnsd carries on from, once it is the master: logged; Accounting-On when it starts the sessions afresh. */
    const resumeAsMaster = (restore: RestoredState | undefined, takeover: boolean): void => {
      const resumed = daemon.resume(restore);
      if (resumed !== undefined && restore !== undefined) {
        const from = takeover ? "the replica of the master's state" : journalDir;
        const ago = ((Date.now() - restore.writtenAtMs) / 1000).toFixed(1);
        if (resumed.refused !== undefined) logger.log("warn", "restore", `state in ${from} not resumed (${resumed.refused}): starting with no sessions`);
        else logger.log("info", "restore", `${takeover ? "took over" : "resumed"} ${resumed.tunnels} tunnels and ${resumed.sessions} sessions from ${from}${takeover ? "" : ` (written ${ago} s ago)`}: ${resumed.outcomes.online} online, ${resumed.outcomes.renegotiating} starting PPP again, ${resumed.outcomes.waiting} in L2TP setup`);
      }
      // RFC 2866 5.1: Accounting-On as the NAS starts (not waited for: logins need not wait); not
      // when sessions were resumed (the server would close them: they go on, and end with their
      // Stop), nor at a cluster takeover (the cluster's sessions go on).
      const foreign = cluster?.node.counters.badFrames.get("bad-mac") ?? 0;
      if (!takeover && (resumed === undefined || resumed.sessions === 0)) {
        // Other nodes heard with another cluster_secret: they may hold this NAS's sessions.
        if (foreign > 0) logger.log("error", "cluster-accounting-on", `no Accounting-On sent: ${String(foreign)} cluster messages with another cluster_secret were heard, so another master may hold this NAS's sessions (check cluster_secret on every node)`);
        else void radius?.accounting?.accountingOn();
      }
      if (cluster !== undefined) plugins.becomeMaster();
    };
    let exit = (code: number): void => { process.exit(code); };
    if (cluster === undefined || clusterSwitch === undefined) resumeAsMaster(state.restore, false);
    else {
      let localRestore = state.restore;
      await cluster.start({
        sessions: daemon.sessions,
        switch: clusterSwitch,
        ...(daeSwitch === undefined ? {} : { daeSwitch }),
        nsctlControl: async (args) => await plugins.control(args),
        ...(dataPlane === undefined ? {} : { dataPath: new ReplicaDataPath(dataPlane, logger) }),
        ...(dataPath === undefined ? {} : { workerPath: dataPath }),
        resume: (replica, takeover) => { resumeAsMaster(replica ?? (takeover ? undefined : localRestore), takeover); },
        following: () => {
          // Another node holds the cluster's sessions: what this one journaled earlier is stale.
          if (localRestore !== undefined) logger.log("info", "restore", `state in ${journalDir} not resumed: the cluster's master holds the sessions`);
          localRestore = undefined;
          if (state.journal !== undefined) removeState(state.journal.dir);
        },
        stepDown: (reason) => {
          logger.log("critical", "cluster-step-down", `not the master any more (${reason}): exiting without sending anything, so as not to disturb the new master's sessions; start lnsd again to rejoin as a slave`);
          state.journal?.discard();
          exit(1);
        },
      });
    }
    if (settings.pid_file !== "") {
      try {
        writeFileSync(settings.pid_file, `${process.pid}\n`);
      } catch (e) {
        logger.log("error", "pid-file", `cannot write pid_file ${settings.pid_file}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }

    return {
      ok: true,
      lnsd: new Lnsd({ opts, files, startSettings: settings, logger, metrics, radius, auth: auth.auth, pool, daemon, dataPlane, running, components, dae, plugins, cli, cliBackend, hostname, cluster }, (f) => { exit = f; }),
    };
  }

  /**
   * SIGHUP: the log reopened, then the startup-config, ip_pool and chap-secrets read again. Every
   * file is checked and every new socket opened before anything changes; any failure keeps the
   * running config whole.
   */
  async reload(): Promise<void> {
    // logrotate: the log file is opened again first, whatever becomes of the reload.
    const { logger, files, opts } = this.p;
    logger.setSink(sinkFor(this.logFile));
    const r = await loadConfig(files.startupConfig);
    if (!r.ok) {
      for (const e of r.errors) logger.log("error", "reload", `reload refused, running config kept: ${e}`);
      return;
    }
    await logConfigWarnings(logger, r.warnings, files.users);
    // ip_pool and chap-secrets beside it are read again too; any error keeps what is running.
    const [ranges, secrets] = await Promise.all([loadPool(files.ipPool, r.config.settings), loadAuth(files.startupConfig, r.config.settings, this.p.hostname, logger, this.p.radius?.auth)]);
    if (!ranges.ok || !secrets.ok) {
      for (const e of [...(ranges.ok ? [] : ranges.errors), ...(secrets.ok ? [] : secrets.errors)]) logger.log("error", "reload", `reload refused, running config kept: ${e}`);
      return;
    }
    // The components next: new listeners and sockets are opened before anything changes.
    const prepared = await prepareAll(this.p.components, r.config.settings);
    if (!prepared.ok) {
      for (const e of prepared.errors) logger.log("error", "reload", `reload refused, running config kept: ${e}`);
      return;
    }
    prepared.commit();
    const moved = this.p.pool.reload(ranges.ranges);
    logger.log("info", "reload", `ip_pool: ${JSON.stringify(moved)}`);
    // The pool's networks routed to the TUN device follow (l2tpns needs a restart for this).
    const routes = await this.p.dataPlane?.setPoolRoutes(ranges.ranges.map((x) => `${formatIpv4(x.network)}/${String(x.prefixLength)}`));
    if (routes !== undefined && routes.added.length + routes.removed.length > 0) logger.log("info", "reload", `ip_pool routes: added ${routes.added.join(" ") || "none"}, removed ${routes.removed.join(" ") || "none"}`);
    const auth = this.p.auth;
    if (auth instanceof LocalAuthenticator && secrets.auth instanceof LocalAuthenticator) auth.adopt(secrets.auth);
    else if (auth instanceof LocalAuthenticator !== secrets.auth instanceof LocalAuthenticator) logger.log("warn", "reload", "switching between RADIUS and local chap-secrets needs a restart");
    if (r.config.settings.log_file !== this.logFile) {
      this.logFile = r.config.settings.log_file;
      logger.setSink(sinkFor(this.logFile));
    }
    for (const v of RESTART_TO_CHANGE) {
      if (r.config.settings[v] !== this.p.startSettings[v]) logger.log("warn", `reload-${v}`, `${v} changed: takes effect when lnsd is restarted (the running value is kept)`);
    }
    logger.debugLevel = Math.min(5, r.config.settings.debug + opts.verbosity);
    const next = observed(daemonSettingsFrom(r.config.settings, opts.hostname), this.p.metrics);
    this.p.daemon.reload(next, this.running);
    this.p.plugins.reconfigure(r.config.settings);
    await this.p.plugins.loadConfigured(r.config.plugins);
    this.p.dataPlane?.update(dataPlaneSettingsFrom(r.config.settings));
    const filtersProblem = this.p.dataPlane?.loadFilters(filterListsFrom(r.config.accessLists));
    if (filtersProblem !== undefined) logger.log("error", "reload", `access lists kept as they were: ${filtersProblem}`);
    this.running = next;
    this.p.cliBackend.adoptConfig(r.config);
    logger.log("info", "reload", `reloaded ${files.startupConfig}`);
  }

  /**
   * SIGTERM / SIGINT: the sessions are left up and journaled for the next start; a cluster master
   * first hands them over to its slaves, one of which takes over at once.
   */
  async stopKeepingSessions(): Promise<void> {
    this.p.cli.stop();
    if (this.p.cluster?.isMaster === true) {
      this.p.daemon.flushOutput();
      await this.p.cluster.resign();
    }
    this.p.daemon.stopKeepingSessions();
    this.p.cluster?.close();
  }

  /** SIGQUIT: StopCCN everywhere, every Stop and then Accounting-Off answered (or waited for). */
  async stopTearingDown(): Promise<void> {
    this.p.cli.stop();
    await this.p.daemon.stopTearingDown();
    this.p.cluster?.close();
    // Every session's Stop went out as its tunnel closed: Accounting-Off once they are answered.
    this.p.dae?.stop();
    const radius = this.p.radius;
    if (radius !== undefined) {
      // A cluster slave's NAS is the master's: its Accounting-Off would end the cluster's sessions.
      if (this.p.cluster === undefined || this.p.cluster.isMaster) await radius.accounting?.accountingOff();
      radius.client.close();
    }
  }
}
