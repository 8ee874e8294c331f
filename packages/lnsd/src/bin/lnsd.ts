// Entry point of the daemon (bin/lnsd): the l2tpns command line, then Lnsd (lnsd.ts) does the
// rest; signals as l2tpns: HUP reloads, TERM/INT stop keeping sessions (journaled for the next
// start), QUIT tears them down (with RADIUS accounting: every Stop, then Accounting-Off).
import { spawn } from "node:child_process";
import { DETACHED_ENV, Lnsd, parseDaemonArgs, unixDgramSender, USAGE } from "../index.js";
import { checkConfig, detachedLogTarget } from "../config-check.js";

/** -t: checks the startup-config and the files it points to, prints every problem; 0 when valid, else 1. */
async function checkOnly(configFile: string): Promise<number> {
  const r = await checkConfig(configFile);
  for (const w of r.warnings) console.error(`lnsd: warning: ${w}`);
  for (const e of r.errors) console.error(`lnsd: ${e}`);
  if (r.errors.length > 0) {
    console.error(`lnsd: ${configFile}: ${r.errors.length} error(s): lnsd would not start`);
    return 1;
  }
  console.log(`lnsd: ${configFile}: config is valid (${r.warnings.length} warning(s))`);
  return 0;
}

/**
 * -d: the same check first (an error: exit 1, nothing detached), then lnsd again without -d,
 * detached from the terminal, logging to log_file or else syslog; this process leaves.
 */
async function detach(argv: readonly string[], configFile: string): Promise<number> {
  const r = await checkConfig(configFile);
  for (const e of r.errors) console.error(`lnsd: ${e}`);
  if (r.config === undefined || r.errors.length > 0) return 1;
  const logFile = r.config.settings.log_file;
  const log = await detachedLogTarget(logFile, unixDgramSender() !== undefined);
  if (!log.ok) {
    console.error(`lnsd: ${log.error}`);
    return 1;
  }
  if (logFile === "") console.error("lnsd: no log_file: logging to syslog (daemon)");
  const args = argv.filter((a) => a !== "-d").map((a) => (a.startsWith("-") && a.includes("d") && !a.startsWith("-c") && !a.startsWith("-h") ? a.replace(/d/g, "") : a)).filter((a) => a !== "-");
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1] ?? "", ...args], { detached: true, stdio: "ignore", env: { ...process.env, [DETACHED_ENV]: "1" } });
  child.unref();
  return 0;
}


async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseDaemonArgs(argv);
  if (!parsed.ok) {
    console.error(`lnsd: ${parsed.message}\n${USAGE}`);
    return 2;
  }
  const opts = parsed.options;
  if (opts.check) return await checkOnly(opts.configFile);
  if (opts.detach) return await detach(argv, opts.configFile);
  const started = await Lnsd.start(opts);
  if (!started.ok) {
    for (const e of started.errors) console.error(`lnsd: ${e}`);
    return 1;
  }
  const lnsd = started.lnsd;
  process.on("SIGHUP", () => { void lnsd.reload(); });
  const stopKeeping = (): void => {
    void lnsd.stopKeepingSessions().then(() => process.exit(0));
  };
  process.on("SIGTERM", stopKeeping);
  process.on("SIGINT", stopKeeping);
  process.on("SIGQUIT", () => {
    void lnsd.stopTearingDown().then(() => process.exit(0));
  });
  return 0;
}

const code = await main(process.argv.slice(2));
if (code !== 0) process.exit(code);
