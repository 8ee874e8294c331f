// Entry point of the daemon (bin/lnsd): the l2tpns command line, the config files, then the
// daemon; signals as l2tpns: HUP reloads, TERM/INT stop keeping sessions, QUIT tears them down.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { hostname as osHostname } from "node:os";
import { formatConfigError, poolRangesFor, readIpPoolFile, readStartupConfigFile, type IpPoolRange, type StartupConfig, type StartupSettings } from "@lnsd/config";
import { mruForL2tpMtu } from "@lnsd/ppp";
import {
  TunBridge,
  AddressPool,
  configFilesFor,
  Daemon,
  daemonSettingsFrom,
  fileSink,
  LocalAuthenticator,
  LocalSecrets,
  localSecretsPath,
  Logger,
  parseDaemonArgs,
  poolRangesProblem,
  readChapSecretsFile,
  stderrSink,
  USAGE,
  usesLocalSecrets,
  type Authenticator,
  type LogSink,
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

/** Who checks logins: chap-secrets when no RADIUS server is set. */
async function loadAuth(startupConfig: string, settings: StartupSettings, hostname: string, logger: Logger): Promise<{ ok: true; auth: Authenticator } | { ok: false; errors: string[] }> {
  if (!usesLocalSecrets(settings)) {
    // RADIUS authentication is the next piece of work to land; until then say so on every login.
    return {
      ok: true,
      auth: {
        authenticate: () => {
          logger.log("error", "radius-missing", "primary_radius is set but this build has no RADIUS client yet: login refused");
          return Promise.resolve({ ok: false, message: "Authentication unavailable", error: true });
        },
      },
    };
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
  const auth = await loadAuth(files.startupConfig, settings, hostname, logger);
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
    daemon = await Daemon.start(running, logger, { pool, auth: auth.auth, ...(tun === undefined ? {} : { sink: tun }) });
    tun?.attach(daemon.sessions);
  } catch (e) {
    console.error(`lnsd: cannot start: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
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
      const [ranges, secrets] = await Promise.all([loadPool(files.ipPool, r.config.settings), loadAuth(files.startupConfig, r.config.settings, hostname, logger)]);
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
    void daemon.stopTearingDown().then(() => process.exit(0));
  });
  return 0;
}

const code = await main(process.argv.slice(2));
if (code !== 0) process.exit(code);
