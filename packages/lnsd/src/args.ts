// Command line of the daemon, as l2tpns(8): lnsd [-d] [-v] [-c startup-config] [-h hostname];
// lnsd adds -t (check the config and exit).
// Pure: turns argv into options or a usage error; the entry point does the I/O.

export const DEFAULT_STARTUP_CONFIG = "/etc/l2tpns/startup-config";

export interface DaemonOptions {
  /** -d: detach from the terminal and run in the background. */
  readonly detach: boolean;
  /** -t: check the config files, print their errors and warnings, exit 0 (valid) or 1. */
  readonly check: boolean;
  /** -v: each one raises the debug level by one (l2tpns debug levels 0-5). */
  readonly verbosity: number;
  /** -c: the startup-config; ip_pool and users are read from its directory. */
  readonly configFile: string;
  /** -h: force the hostname (used as the L2TP Host Name and in the cluster). */
  readonly hostname?: string;
}

export type ParsedArgs = { readonly ok: true; readonly options: DaemonOptions } | { readonly ok: false; readonly message: string };

export const USAGE = "usage: lnsd [-d] [-t] [-v] [-c startup-config] [-h hostname]";

/** Parses argv (without node and the script), getopt style: -dv, -cFILE and -c FILE all work. */
export function parseDaemonArgs(argv: readonly string[]): ParsedArgs {
  let detach = false;
  let check = false;
  let verbosity = 0;
  let configFile = DEFAULT_STARTUP_CONFIG;
  let hostname: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (!arg.startsWith("-") || arg === "-") return { ok: false, message: `unexpected argument '${arg}'` };
    for (let j = 1; j < arg.length; j++) {
      const flag = arg.charAt(j);
      if (flag === "d") detach = true;
      else if (flag === "t") check = true;
      else if (flag === "v") verbosity++;
      else if (flag === "c" || flag === "h") {
        let value = arg.slice(j + 1);
        if (value === "") {
          i++;
          value = argv[i] ?? "";
          if (value === "") return { ok: false, message: `option -${flag} needs a value` };
        }
        if (flag === "c") configFile = value;
        else hostname = value;
        break;
      } else return { ok: false, message: `unknown option -${flag}` };
    }
  }
  const options: DaemonOptions = hostname === undefined ? { detach, check, verbosity, configFile } : { detach, check, verbosity, configFile, hostname };
  return { ok: true, options };
}
