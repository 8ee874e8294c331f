// Command line of the nsctl client, as nsctl(8): nsctl [-d] [-h host[:port]] [-t timeout] command [arg ...].
// Pure: argv in, options or a usage error out.

export const NSCTL_DEFAULT_PORT = 1702;

export interface NsctlOptions {
  readonly debug: boolean;
  readonly host: string;
  readonly port: number;
  readonly timeoutS: number;
  readonly command: string;
  readonly args: readonly string[];
}

export type ParsedNsctlArgs = { readonly ok: true; readonly options: NsctlOptions } | { readonly ok: false; readonly message: string };

export const NSCTL_USAGE = "usage: nsctl [-d] [-h host[:port]] [-t timeout] command [arg ...]";

export function parseNsctlArgs(argv: readonly string[]): ParsedNsctlArgs {
  let debug = false;
  let host = "127.0.0.1";
  let port = NSCTL_DEFAULT_PORT;
  let timeoutS = 2;
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--") {
      i++;
      break;
    }
    if (!arg.startsWith("-") || arg === "-") break;
    const flag = arg.charAt(1);
    if (flag === "d" && arg === "-d") {
      debug = true;
      continue;
    }
    if (flag !== "h" && flag !== "t") return { ok: false, message: `unknown option ${arg}` };
    let value = arg.slice(2);
    if (value === "") {
      i++;
      value = argv[i] ?? "";
      if (value === "") return { ok: false, message: `option -${flag} needs a value` };
    }
    if (flag === "t") {
      const n = Number(value);
      if (!Number.isInteger(n) || n <= 0) return { ok: false, message: `bad timeout '${value}'` };
      timeoutS = n;
    } else {
      const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(value);
      if (m === null) return { ok: false, message: `bad host '${value}'` };
      host = (m[1] ?? "").replace(/^\[|\]$/g, "");
      if (m[2] !== undefined) {
        port = Number(m[2]);
        if (port < 1 || port > 65535) return { ok: false, message: `bad port in '${value}'` };
      }
    }
  }
  const command = argv[i];
  if (command === undefined) return { ok: false, message: "no command given" };
  return { ok: true, options: { debug, host, port, timeoutS, command, args: argv.slice(i + 1) } };
}
