// `lnsd -t` and the check `lnsd -d` makes before it detaches: the startup-config and the files it
// points to (ip_pool, users, chap-secrets when no RADIUS server is set), read as the daemon reads
// them, every error and warning named by file and line. Opens no socket; runs before the daemon.
import { constants } from "node:fs";
import { access, open } from "node:fs/promises";
import {
  checkSystemCrypt,
  formatConfigError,
  poolRangesFor,
  readIpPoolFile,
  readStartupConfigFile,
  readUsersFile,
  type ConfigError,
  type StartupConfig,
} from "@lnsd/config";
import { l2tpConfigProblem } from "@lnsd/l2tp";
import { poolRangesProblem } from "./pool.js";
import { localSecretsPath, readChapSecretsFile, usesLocalSecrets } from "./secrets.js";
import { configFilesFor } from "./startup.js";

export interface ConfigCheck {
  /** Present when the startup-config itself parsed. */
  readonly config?: StartupConfig;
  /** "file:line: message", in file order. */
  readonly errors: readonly string[];
  readonly warnings: readonly string[];
}

const isMissing = (errors: readonly ConfigError[]): boolean => errors.every((e) => e.line === 0 && e.message.includes("no such file"));

/**
 * The users file's warnings (hashes that cannot be checked, including those the system's crypt(3)
 * does not know) and errors; a missing file is neither (l2tpns: the CLI is open to the local host).
 */
export async function checkUsersFile(path: string): Promise<{ errors: string[]; warnings: string[] }> {
  const r = await readUsersFile(path);
  if (!r.ok) return { errors: r.errors.map(formatConfigError), warnings: r.warnings.map(formatConfigError) };
  const crypt = r.value === undefined ? [] : await checkSystemCrypt(r.value, path);
  return { errors: [], warnings: [...r.warnings, ...crypt].map(formatConfigError) };
}

/** Checks the startup-config at `startupConfig` and the files beside it, as the daemon would load them. */
export async function checkConfig(startupConfig: string): Promise<ConfigCheck> {
  const files = configFilesFor(startupConfig);
  const sc = await readStartupConfigFile(files.startupConfig);
  if (!sc.ok) return { errors: sc.errors.map(formatConfigError), warnings: sc.warnings.map(formatConfigError) };
  const errors: string[] = [];
  const warnings: string[] = sc.warnings.map(formatConfigError);
  const settings = sc.value.settings;
  const l2tpProblem = l2tpConfigProblem({ secret: settings.l2tp_secret, requireTunnelAuth: settings.l2tp_require_auth });
  if (l2tpProblem !== undefined) errors.push(`${files.startupConfig}: ${l2tpProblem}`);

  const pool = await readIpPoolFile(files.ipPool);
  if (!pool.ok) {
    if (isMissing(pool.errors)) warnings.push(`${files.ipPool}: no such file: logins get no address unless RADIUS gives one`);
    else errors.push(...pool.errors.map(formatConfigError));
  } else {
    warnings.push(...pool.warnings.map(formatConfigError));
    const problem = poolRangesProblem(poolRangesFor(pool.value, settings.bind_address));
    if (problem !== undefined) errors.push(`${files.ipPool}: ${problem}`);
  }

  const users = await checkUsersFile(files.users);
  errors.push(...users.errors);
  warnings.push(...users.warnings);

  if (usesLocalSecrets(settings)) {
    const path = localSecretsPath(files.startupConfig, settings.local_secrets_file);
    const secrets = await readChapSecretsFile(path);
    if (!secrets.ok && isMissing(secrets.errors)) warnings.push(`${path}: no such file: no RADIUS server and no local users, every login will be refused`);
    else if (!secrets.ok) errors.push(...secrets.errors.map(formatConfigError));
    else warnings.push(...secrets.warnings.map(formatConfigError));
  }
  return { config: sc.value, errors, warnings };
}

/** The syslog socket a detached lnsd logs to when no log_file is set. */
export const SYSLOG_SOCKET = "/dev/log";

/**
 * Where a detached lnsd (-d) logs: log_file, or syslog (daemon facility) when it is empty, as the
 * terminal's standard error is gone. l2tpns then logs to /dev/null; lnsd refuses to detach instead
 * when the log would go nowhere (no syslog socket, or a log file it cannot open).
 */
export async function detachedLogTarget(logFile: string, canSyslog: boolean): Promise<{ ok: true; target: string } | { ok: false; error: string }> {
  const target = logFile === "" ? "syslog:daemon" : logFile;
  if (target.startsWith("syslog:")) {
    const listening = canSyslog && (await access(SYSLOG_SOCKET, constants.W_OK).then(() => true, () => false));
    return listening
      ? { ok: true, target }
      : { ok: false, error: `-d: ${logFile === "" ? "no log_file is set and " : ""}no syslog is listening on ${SYSLOG_SOCKET}, so the log would go nowhere: set log_file to a file` };
  }
  try {
    await (await open(target, "a")).close();
    return { ok: true, target };
  } catch (e) {
    return { ok: false, error: `-d: cannot open log_file ${target}: ${e instanceof Error ? e.message : String(e)}` };
  }
}
