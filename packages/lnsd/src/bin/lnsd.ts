// Entry point of the daemon (bin/lnsd): the l2tpns command line, the config files, then the
// daemon; signals as l2tpns: HUP reloads, TERM/INT stop keeping sessions, QUIT tears them down
// (with RADIUS accounting: every Stop, then Accounting-Off).
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { hostname as osHostname } from "node:os";
import { formatConfigError, poolRangesFor, readIpPoolFile, readStartupConfigFile, type IpPoolRange, type StartupConfig, type StartupSettings } from "@lnsd/config";
import { systemClock } from "@lnsd/l2tp";
import { mruForL2tpMtu } from "@lnsd/ppp";
import { DaeServer, RadiusClient, radiusServersFromSettings, type DaeEvent, type NasIdentity, type RadiusClientEvent } from "@lnsd/radius";
import {
  TunBridge,
  AddressPool,
  configFilesFor,
  Daemon,
  daemonSettingsFrom,
  daeHandlerFor,
  fileSink,
  LocalAuthenticator,
  LocalSecrets,
  localSecretsPath,
  Logger,
  parseDaemonArgs,
  poolRangesProblem,
  RadiusAuthenticator,
  RadiusSessionAccounting,
  readChapSecretsFile,
  stderrSink,
  USAGE,
  usesLocalSecrets,
  type Authenticator,
  type LogSink,
  type Subscriber,
} from "../index.js";

function sinkFor(logFile: string): LogSink {
  // syslog:FACILITY is accepted by the parser; until syslog lands, such lines go to stderr.
  return logFile === "" || logFile.startsWith("syslog:") ? stderrSink : fileSink(logFile);
}

async function loadConfig(path: string): Promise<{ ok: true; config: StartupConfig; warnings: string[] } | { ok: false; errors: string[] }> {
  const r = await readStartupConfigFile(path);
  if (!r.ok) return { ok: false, errors: r.errors.map(formatConfigError) };
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

/** The TUN device; lnsd still runs (sessions without traffic) when it cannot be had. */
async function openBridge(settings: StartupSettings, ranges: readonly IpPoolRange[], logger: Logger): Promise<TunBridge | undefined> {
  // iftun_address, else bind_address (as l2tpns), but never a loopback address: that is lo's.
  const usable = (a: string): boolean => a !== "0.0.0.0" && !a.startsWith("127.");
  const address = usable(settings.iftun_address) ? settings.iftun_address : usable(settings.bind_address) ? settings.bind_address : undefined;
  try {
    return await TunBridge.open({ name: settings.tundevicename, mtu: mruForL2tpMtu(settings.l2tp_mtu), ...(address === undefined ? {} : { address }), routes: ranges }, logger);
  } catch (e) {
    logger.log("error", "tun", `no TUN device (${e instanceof Error ? e.message : String(e)}): sessions will carry no traffic`);
    return undefined;
  }
}

interface Radius {
  readonly client: RadiusClient;
  readonly auth: RadiusAuthenticator;
  readonly accounting: RadiusSessionAccounting | undefined;
  readonly nas: NasIdentity;
  readonly servers: readonly string[];
}

/** One rate-limited log line per RADIUS client event, with a reason per kind. */
function logRadiusEvent(logger: Logger, e: RadiusClientEvent): void {
  switch (e.kind) {
    case "drop":
      logger.log("warn", `radius-drop-${e.reason}`, `RADIUS: dropped a reply from ${e.from.address}:${e.from.port}: ${e.reason} (${e.detail})`);
      return;
    case "server-dead":
      logger.log("error", "radius-server-dead", `RADIUS server ${e.server} not answering: left alone for ${Math.round(e.forMs / 1000)} s`);
      return;
    case "server-alive":
      logger.log("info", "radius-server-alive", `RADIUS server ${e.server} answering again`);
      return;
    case "gave-up":
      logger.log("warn", `radius-gave-up-${e.request}`, `RADIUS ${e.request === "auth" ? "Access-Request" : "Accounting-Request"} given up: ${e.detail}`);
      return;
    case "socket-error":
      logger.log("error", "radius-socket", `RADIUS socket: ${e.detail}`);
      return;
    default: {
      const never: never = e;
      return never;
    }
  }
}

function logDaeEvent(logger: Logger, e: DaeEvent): void {
  switch (e.kind) {
    case "drop":
      logger.log("warn", `dae-drop-${e.reason}`, `DAE: dropped a request from ${e.from.address}:${e.from.port}: ${e.reason} (${e.detail})`);
      return;
    case "ack":
      logger.log("info", `dae-${e.request}`, `DAE: ${e.request} from ${e.from.address} done on ${e.sessions} session(s)`);
      return;
    case "nak":
      logger.log("info", `dae-${e.request}-nak`, `DAE: ${e.request} from ${e.from.address} refused, Error-Cause ${e.errorCause}: ${e.detail}`);
      return;
    case "handler-error":
      logger.log("error", "dae-error", `DAE: ${e.detail}`);
      return;
    default: {
      const never: never = e;
      return never;
    }
  }
}

/** The RADIUS client, authenticator and accounting from primary_radius and the settings after it. */
async function startRadius(settings: StartupSettings, hostname: string, logger: Logger): Promise<Radius> {
  const servers = radiusServersFromSettings({
    primary: settings.primary_radius,
    secondary: settings.secondary_radius,
    primaryPort: settings.primary_radius_port,
    secondaryPort: settings.secondary_radius_port,
  });
  if (settings.radius_secret === "") logger.log("error", "radius-config", "radius_secret is not set: the RADIUS servers will not believe lnsd");
  const bound = settings.bind_address !== "0.0.0.0";
  // RFC 2865 4.1: NAS-IP-Address (bind_address, when set) and NAS-Identifier (the hostname).
  const nas: NasIdentity = { ...(bound ? { ipAddress: settings.bind_address } : {}), identifier: hostname };
  const client = await RadiusClient.create({
    servers,
    secret: settings.radius_secret,
    nas,
    ...(bound ? { bindAddress: settings.bind_address } : {}),
    ...(settings.radius_bind_min > 0 ? { bindPortMin: settings.radius_bind_min } : {}),
    ...(settings.radius_bind_max > 0 ? { bindPortMax: settings.radius_bind_max } : {}),
    onEvent: (e) => { logRadiusEvent(logger, e); },
  });
  const accounting = settings.radius_accounting ? new RadiusSessionAccounting(client, { clock: systemClock, logger, interimSec: settings.radius_interim }) : undefined;
  logger.log("info", "radius", `RADIUS servers ${servers.map((s) => `${s.address}:${s.authPort}`).join(", ")}; accounting ${accounting === undefined ? "off" : "on"}`);
  return { client, auth: new RadiusAuthenticator(client), accounting, nas, servers: servers.map((s) => s.address) };
}

/** RFC 5176 on radius_dae_port, bind_address: requests from the RADIUS servers only. */
async function startDae(settings: StartupSettings, radius: Radius, daemon: Daemon, logger: Logger): Promise<DaeServer<Subscriber> | undefined> {
  try {
    const dae = await DaeServer.create<Subscriber>({
      bindAddress: settings.bind_address,
      port: settings.radius_dae_port,
      secret: settings.radius_secret,
      allowedClients: radius.servers,
      nas: radius.nas,
      handler: daeHandlerFor(daemon.sessions),
      onEvent: (e) => { logDaeEvent(logger, e); },
    });
    logger.log("info", "dae", `DAE (Disconnect, CoA) on ${dae.local.address}:${dae.local.port}`);
    return dae;
  } catch (e) {
    logger.log("error", "dae", `no DAE server on port ${settings.radius_dae_port}: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseDaemonArgs(argv);
  if (!parsed.ok) {
    console.error(`lnsd: ${parsed.message}\n${USAGE}`);
    return 2;
  }
  const opts = parsed.options;
  if (opts.detach) {
    // -d: run again without -d, detached from the terminal, and leave.
    const args = argv.filter((a) => a !== "-d").map((a) => (a.startsWith("-") && a.includes("d") && !a.startsWith("-c") && !a.startsWith("-h") ? a.replace(/d/g, "") : a)).filter((a) => a !== "-");
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1] ?? "", ...args], { detached: true, stdio: "ignore" });
    child.unref();
    return 0;
  }
  const files = configFilesFor(opts.configFile);
  const loaded = await loadConfig(files.startupConfig);
  if (!loaded.ok) {
    for (const e of loaded.errors) console.error(`lnsd: ${e}`);
    return 1;
  }
  const settings = loaded.config.settings;
  const logger = new Logger(sinkFor(settings.log_file), Math.min(5, settings.debug + opts.verbosity));
  for (const w of loaded.warnings) logger.log("warn", "config", w);
  const poolRanges = await loadPool(files.ipPool, settings);
  const hostname = opts.hostname ?? (settings.hostname === "" ? osHostname() : settings.hostname);
  let radius: Radius | undefined;
  if (!usesLocalSecrets(settings)) {
    try {
      radius = await startRadius(settings, hostname, logger);
    } catch (e) {
      console.error(`lnsd: RADIUS: ${e instanceof Error ? e.message : String(e)}`);
      return 1;
    }
  }
  const auth = await loadAuth(files.startupConfig, settings, hostname, logger, radius?.auth);
  if (!poolRanges.ok || !auth.ok) {
    for (const e of [...(poolRanges.ok ? [] : poolRanges.errors), ...(auth.ok ? [] : auth.errors)]) console.error(`lnsd: ${e}`);
    return 1;
  }
  const pool = new AddressPool(poolRanges.ranges);
  let daemon: Daemon;
  let running = daemonSettingsFrom(settings, opts.hostname);
  try {
    // The TUN device carries the subscribers' traffic (disable_tun: control plane only).
    const tun = settings.disable_tun ? undefined : await openBridge(settings, poolRanges.ranges, logger);
    daemon = await Daemon.start(running, logger, { pool, auth: auth.auth, ...(tun === undefined ? {} : { sink: tun }), ...(radius?.accounting === undefined ? {} : { events: radius.accounting }) });
    tun?.attach(daemon.sessions);
  } catch (e) {
    console.error(`lnsd: cannot start: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  const dae = radius === undefined ? undefined : await startDae(settings, radius, daemon, logger);
  // RFC 2866 5.1: Accounting-On as the NAS starts (not waited for: logins need not wait).
  void radius?.accounting?.accountingOn();
  if (settings.pid_file !== "") {
    try {
      writeFileSync(settings.pid_file, `${process.pid}\n`);
    } catch (e) {
      logger.log("error", "pid-file", `cannot write pid_file ${settings.pid_file}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  process.on("SIGHUP", () => {
    void loadConfig(files.startupConfig).then(async (r) => {
      if (!r.ok) {
        for (const e of r.errors) logger.log("error", "reload", `reload refused, running config kept: ${e}`);
        return;
      }
      // ip_pool and chap-secrets beside it are read again too; any error keeps what is running.
      const [ranges, secrets] = await Promise.all([loadPool(files.ipPool, r.config.settings), loadAuth(files.startupConfig, r.config.settings, hostname, logger, radius?.auth)]);
      if (!ranges.ok || !secrets.ok) {
        for (const e of [...(ranges.ok ? [] : ranges.errors), ...(secrets.ok ? [] : secrets.errors)]) logger.log("error", "reload", `reload refused, running config kept: ${e}`);
        return;
      }
      const moved = pool.reload(ranges.ranges);
      logger.log("info", "reload", `ip_pool: ${JSON.stringify(moved)}`);
      if (auth.auth instanceof LocalAuthenticator && secrets.auth instanceof LocalAuthenticator) auth.auth.adopt(secrets.auth);
      else if (auth.auth instanceof LocalAuthenticator !== secrets.auth instanceof LocalAuthenticator) logger.log("warn", "reload", "switching between RADIUS and local chap-secrets needs a restart");
      logger.setSink(sinkFor(r.config.settings.log_file));
      logger.debugLevel = Math.min(5, r.config.settings.debug + opts.verbosity);
      const next = daemonSettingsFrom(r.config.settings, opts.hostname);
      daemon.reload(next, running);
      running = next;
      logger.log("info", "reload", `reloaded ${files.startupConfig}`);
    });
  });
  const stopKeeping = (): void => {
    daemon.stopKeepingSessions();
    process.exit(0);
  };
  process.on("SIGTERM", stopKeeping);
  process.on("SIGINT", stopKeeping);
  process.on("SIGQUIT", () => {
    void daemon.stopTearingDown().then(async () => {
      // Every session's Stop went out as its tunnel closed: Accounting-Off once they are answered.
      dae?.close();
      if (radius !== undefined) {
        await radius.accounting?.accountingOff();
        radius.client.close();
      }
      process.exit(0);
    });
  });
  return 0;
}

const code = await main(process.argv.slice(2));
if (code !== 0) process.exit(code);
