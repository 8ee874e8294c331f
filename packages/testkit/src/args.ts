// Command line of the `lac` simulator (src/bin/lac.ts). Pure: turns argv into options or a usage
// error; the entry point does the I/O.
import type { Impairment } from "./impairment.js";

export const LAC_USAGE = `usage: lac --lns ADDR[:PORT] --tunnels M --sessions N [options]
  --lns ADDR[:PORT]     the LNS (port 1701 by default; [v6addr]:port for IPv6)
  --tunnels M           tunnels to open
  --sessions N          calls to place in each tunnel
  --secret S            tunnel secret (RFC 2661 tunnel authentication, hidden AVPs)
  --bind ADDR           local address of the simulator's socket
  --max-in-setup K      calls between ICRQ and ICRP at once (default 100)
  --loss P --dup P --reorder P   impairment, probabilities 0..1, both ways
  --delay MS --jitter MS         one-way delay and uniform jitter in ms
  --seed N              seed of the impairment's decisions
  --timeout S           seconds to wait for everything to come up (default 60)
  --hold S|forever      keep the calls up S seconds (or until SIGINT) before clearing (default 0)
  --user NAME --password P      log in with PPP inside every call (CHAP or PAP); %t and %s in
                        NAME become the tunnel and call numbers
  --ping ADDR           once online, every session pings ADDR through its tunnel (IPv4)
  --json                print the report as JSON instead of text
  -v, --verbose         log the L2TP node's messages to stderr`;

export interface LacCommand {
  readonly lns: { readonly host: string; readonly port: number };
  readonly tunnels: number;
  readonly sessions: number;
  readonly secret?: string;
  readonly bindAddress?: string;
  readonly maxCallsInSetup?: number;
  readonly impairment?: Partial<Impairment>;
  readonly seed?: number;
  readonly timeoutMs: number;
  /** How long to keep the calls up; "forever" until SIGINT or SIGTERM. */
  readonly holdMs: number | "forever";
  readonly json: boolean;
  readonly verbose: boolean;
  /** PPP login inside each call. */
  readonly ppp?: { readonly user: string; readonly password: string };
  /** With ppp: every online session sends an ICMP echo to this IPv4 address. */
  readonly ping?: string;
}

export type ParsedLacArgs = { readonly ok: true; readonly command: LacCommand } | { readonly ok: false; readonly message: string } | { readonly ok: "help" };

/** "192.0.2.1", "192.0.2.1:1701", "[2001:db8::1]:1701", "2001:db8::1", "lns.example:1701". */
export function parseHostPort(s: string, defaultPort = 1701): { host: string; port: number } | undefined {
  let host = s;
  let port = String(defaultPort);
  if (s.startsWith("[")) {
    const close = s.indexOf("]");
    if (close < 0) return undefined;
    host = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest !== "") {
      if (!rest.startsWith(":")) return undefined;
      port = rest.slice(1);
    }
  } else if (s.split(":").length === 2) {
    [host = "", port = ""] = s.split(":");
  }
  const p = Number(port);
  if (host === "" || !/^\d+$/.test(port) || p < 1 || p > 65535) return undefined;
  return { host, port: p };
}

const VALUE_OPTIONS = ["lns", "tunnels", "sessions", "secret", "bind", "max-in-setup", "loss", "dup", "reorder", "delay", "jitter", "seed", "timeout", "hold", "user", "password", "ping"] as const;
type ValueOption = (typeof VALUE_OPTIONS)[number];

function isValueOption(s: string): s is ValueOption {
  return (VALUE_OPTIONS as readonly string[]).includes(s);
}

/** Parses argv (without node and the script): --opt value and --opt=value both work. */
export function parseLacArgs(argv: readonly string[]): ParsedLacArgs {
  const values = new Map<ValueOption, string>();
  let json = false;
  let verbose = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "-h" || arg === "--help") return { ok: "help" };
    if (arg === "--json") json = true;
    else if (arg === "-v" || arg === "--verbose") verbose = true;
    else if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      if (!isValueOption(name)) return { ok: false, message: `unknown option ${arg}` };
      let value = eq < 0 ? undefined : arg.slice(eq + 1);
      if (value === undefined) {
        i++;
        value = argv[i];
        if (value === undefined) return { ok: false, message: `option --${name} needs a value` };
      }
      values.set(name, value);
    } else return { ok: false, message: `unexpected argument '${arg}'` };
  }
  const lnsText = values.get("lns");
  if (lnsText === undefined) return { ok: false, message: "--lns is required" };
  const lns = parseHostPort(lnsText);
  if (lns === undefined) return { ok: false, message: `--lns ${lnsText}: expected ADDR[:PORT]` };

  const problems: string[] = [];
  const integer = (name: ValueOption, min: number, max: number): number | undefined => {
    const v = values.get(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) problems.push(`--${name} ${v}: expected an integer from ${min} to ${max}`);
    return n;
  };
  const number = (name: ValueOption, min: number, max: number): number | undefined => {
    const v = values.get(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n) || n < min || n > max) problems.push(`--${name} ${v}: expected a number from ${min} to ${max}`);
    return n;
  };
  const tunnels = integer("tunnels", 1, 65534);
  const sessions = integer("sessions", 0, 65535);
  const maxCallsInSetup = integer("max-in-setup", 1, 1_000_000);
  const seed = integer("seed", 0, 0xffffffff);
  const timeoutS = number("timeout", 0, 86400);
  const loss = number("loss", 0, 1);
  const duplication = number("dup", 0, 1);
  const reorder = number("reorder", 0, 1);
  const delayMs = number("delay", 0, 60_000);
  const jitterMs = number("jitter", 0, 60_000);
  const holdText = values.get("hold");
  const holdS = holdText === "forever" ? undefined : number("hold", 0, 86400 * 365);
  if (tunnels === undefined) problems.push("--tunnels is required");
  if (sessions === undefined) problems.push("--sessions is required");
  if (problems.length > 0 || tunnels === undefined || sessions === undefined) return { ok: false, message: problems.join("; ") };

  const impairment: { -readonly [K in keyof Impairment]?: number } = {};
  if (loss !== undefined) impairment.loss = loss;
  if (duplication !== undefined) impairment.duplication = duplication;
  if (reorder !== undefined) impairment.reorder = reorder;
  if (delayMs !== undefined) impairment.delayMs = delayMs;
  if (jitterMs !== undefined) impairment.jitterMs = jitterMs;
  const secret = values.get("secret");
  const bindAddress = values.get("bind");
  const user = values.get("user");
  const password = values.get("password");
  if ((user === undefined) !== (password === undefined)) return { ok: false, message: "--user and --password go together" };
  const ping = values.get("ping");
  if (ping !== undefined && (user === undefined || !/^\d{1,3}(\.\d{1,3}){3}$/.test(ping))) return { ok: false, message: "--ping needs --user and an IPv4 address" };
  const command: LacCommand = {
    lns,
    tunnels,
    sessions,
    timeoutMs: (timeoutS ?? 60) * 1000,
    holdMs: holdText === "forever" ? "forever" : (holdS ?? 0) * 1000,
    json,
    verbose,
    ...(secret === undefined ? {} : { secret }),
    ...(bindAddress === undefined ? {} : { bindAddress }),
    ...(maxCallsInSetup === undefined ? {} : { maxCallsInSetup }),
    ...(Object.keys(impairment).length === 0 ? {} : { impairment }),
    ...(seed === undefined ? {} : { seed }),
    ...(user === undefined || password === undefined ? {} : { ppp: { user, password } }),
    ...(ping === undefined ? {} : { ping }),
  };
  return { ok: true, command };
}
