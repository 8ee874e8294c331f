// The startup-config file (startup-config(5)): "set" variables, the "router bgp" block, named
// access lists, plugins to load and static remote-LNS forwards. Parsing is pure and reports every
// error with its file and line; writing produces a file that parses back to the same config.
import { parseIpv4 } from "@lnsd/wire";
import {
  checkAccessListName,
  formatExtendedRule,
  formatStandardRule,
  parseExtendedRule,
  parseStandardRule,
  type AccessList,
  type ExtendedRule,
  type StandardRule,
} from "./acl.js";
import {
  BGP_DEFAULT_HOLD_TIME_SECONDS,
  BGP_DEFAULT_KEEPALIVE_SECONDS,
  checkPeer,
  parseAsNumber,
  parseSeconds,
  type BgpConfig,
  type BgpNeighbour,
} from "./bgp.js";
import { fileLines, Problems, type ConfigResult } from "./errors.js";
import { lexLine, quoteAlways, quoteWord } from "./lexer.js";
import { formatSpecValue, parseSpecValue, sameValue } from "./values.js";
import {
  findVariable,
  isVariableName,
  settingsFrom,
  STARTUP_VARIABLES,
  type SettingValue,
  type StartupSettings,
  type StartupVariableName,
} from "./variables.js";

/** "setforward MASK IP PORT SECRET": relay the users matching MASK to a remote LNS (lnsd as LAC). */
export interface RemoteLnsForward {
  readonly mask: string;
  readonly address: string;
  readonly port: number;
  readonly secret: string;
}

export interface StartupConfig {
  /** Every variable, defaults filled in. */
  readonly settings: StartupSettings;
  /** The variables the file set (even to their default value). */
  readonly explicit: ReadonlySet<StartupVariableName>;
  /** Present when the file has a "router bgp" block. */
  readonly bgp?: BgpConfig;
  /** In the order they were first defined. */
  readonly accessLists: readonly AccessList[];
  /** "load plugin NAME", in load order. */
  readonly plugins: readonly string[];
  readonly forwards: readonly RemoteLnsForward[];
}

type Mode =
  | { readonly kind: "config" }
  | { readonly kind: "bgp" }
  | { readonly kind: "acl"; readonly list: MutableList }
  /** The block's header was wrong: its lines are skipped without more errors. */
  | { readonly kind: "broken" };

type MutableList =
  | { readonly name: string; readonly type: "standard"; readonly rules: StandardRule[] }
  | { readonly name: string; readonly type: "extended"; readonly rules: ExtendedRule[] };

interface MutableNeighbour {
  peer: string;
  remoteAs: number;
  keepaliveSeconds: number;
  holdTimeSeconds: number;
  updateSource?: string;
}

const RADIUS_BIND_MIN_WIDTH = 64;

/**
 * Commands lnsd reads and checks but does not act on yet, each used line warned about once (the
 * variables that lnsd does not act on are marked by their table row's status instead).
 */
const NOT_YET_ACTED_ON = {
  bgp: "router bgp: lnsd does not announce routes over BGP yet: this block is ignored",
  setforward: "setforward: lnsd does not relay sessions to a remote LNS yet: this line is ignored",
} as const;

class StartupParser {
  readonly values = new Map<StartupVariableName, SettingValue>();
  readonly setOnLine = new Map<StartupVariableName, number>();
  bgp: { as: number; line: number; neighbours: Map<string, MutableNeighbour> } | undefined;
  readonly lists = new Map<string, MutableList>();
  readonly plugins: { readonly name: string; readonly line: number }[] = [];
  readonly forwards = new Map<string, RemoteLnsForward>();
  mode: Mode = { kind: "config" };
  line = 0;

  constructor(readonly problems: Problems) {}

  private error(message: string): void {
    this.problems.error(this.line, message);
  }

  private warn(message: string): void {
    this.problems.warn(this.line, message);
  }

  statement(words: readonly string[]): void {
    const problem = this.command(words);
    if (problem !== undefined) this.error(problem);
  }

  /** Carries out one command; returns what is wrong with it, if anything. */
  private command(words: readonly string[]): string | undefined {
    const [first = "", ...rest] = words;
    const command = first.toLowerCase();
    switch (command) {
      case "set":
        return this.set(rest);
      case "setforward":
        return this.setforward(rest);
      case "load":
      case "remove":
        return this.plugin(command, rest);
      case "router":
        return this.router(rest);
      case "ip":
        return this.accessList(rest);
      case "no":
        return this.no(rest);
      case "neighbour":
        return this.neighbour(rest);
      case "permit":
      case "deny":
        return this.rule(words);
      case "exit":
        if (this.mode.kind === "config") this.warn("'exit' outside a block does nothing");
        this.mode = { kind: "config" };
        return undefined;
      default:
        return `unknown command '${first}'`;
    }
  }

  private set(args: readonly string[]): string | undefined {
    const [name, value, ...extra] = args;
    if (name === undefined) return "set: expected 'set VARIABLE VALUE'";
    const spec = findVariable(name);
    if (spec === undefined || !isVariableName(name)) return `unknown variable '${name}'${suggest(name)}`;
    if (value === undefined) return `${name}: missing value`;
    if (extra.length > 0) {
      return `${name}: expected one value, found ${args.length - 1} words (quote a value that contains blanks)`;
    }
    const parsed = parseSpecValue(spec, value);
    if (!parsed.ok) return `${name}: ${parsed.error}`;
    if (parsed.warning !== undefined) this.warn(`${name}: ${parsed.warning}`);
    if (spec.status !== "used") this.warn(`${name}: lnsd does not act on this setting yet: it is ignored`);
    const before = this.setOnLine.get(name);
    if (before !== undefined) this.warn(`${name} is set again (first on line ${before}); the last value wins`);
    this.values.set(name, parsed.value);
    this.setOnLine.set(name, this.line);
    return undefined;
  }

  private setforward(args: readonly string[]): string | undefined {
    const [mask, address, port, secret, ...extra] = args;
    if (mask === undefined || address === undefined || port === undefined || secret === undefined || extra.length > 0) {
      return "setforward: expected 'setforward MASK IP PORT SECRET'";
    }
    if (parseIpv4(address, { syntax: "strict" }) === undefined) return `setforward: '${address}' is not an IPv4 address`;
    if (!/^[0-9]+$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
      return `setforward: '${port}' is not a port number (1 to 65535)`;
    }
    for (const [what, text] of [["mask", mask], ["secret", secret]] as const) {
      // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
      if (text === "" || /[#\u0000-\u001f\u007f]/.test(text)) return `setforward: invalid ${what} '${text}'`;
    }
    this.warn(NOT_YET_ACTED_ON.setforward);
    if (this.forwards.has(mask)) this.warn(`setforward: ${mask} is forwarded again; the last line wins`);
    this.forwards.set(mask, { mask, address, port: Number(port), secret });
    return undefined;
  }

  private plugin(command: "load" | "remove", args: readonly string[]): string | undefined {
    const [keyword, name, ...extra] = args;
    if (keyword?.toLowerCase() !== "plugin" || name === undefined || extra.length > 0) {
      return `${command}: expected '${command} plugin NAME'`;
    }
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) return `${command} plugin: '${name}' is not a plugin name`;
    // l2tpns (cli.c cmd_load_plugin, cmd_remove_plugin) says so and goes on with the next line.
    const at = this.plugins.findIndex((p) => p.name === name);
    const loaded = this.plugins[at];
    if (command === "load") {
      if (loaded !== undefined) this.warn(`load plugin: '${name}' is already loaded (line ${loaded.line}): this line does nothing`);
      else this.plugins.push({ name, line: this.line });
    } else {
      if (loaded === undefined) this.warn(`remove plugin: '${name}' is not loaded: this line does nothing`);
      else this.plugins.splice(at, 1);
    }
    return undefined;
  }

  private router(args: readonly string[]): string | undefined {
    const [keyword, asText, ...extra] = args;
    if (keyword?.toLowerCase() !== "bgp" || asText === undefined || extra.length > 0) {
      this.mode = { kind: "broken" };
      return "router: expected 'router bgp AS'";
    }
    const as = parseAsNumber(asText);
    if (typeof as === "string") {
      this.mode = { kind: "broken" };
      return `router bgp: ${as}`;
    }
    this.mode = { kind: "bgp" };
    if (this.bgp === undefined) {
      this.bgp = { as, line: this.line, neighbours: new Map() };
      this.warn(NOT_YET_ACTED_ON.bgp);
      return undefined;
    }
    return this.bgp.as === as ? undefined : `router bgp: BGP is already configured with AS ${this.bgp.as} (line ${this.bgp.line})`;
  }

  private neighbour(args: readonly string[]): string | undefined {
    if (this.mode.kind === "broken") return undefined;
    if (this.mode.kind !== "bgp" || this.bgp === undefined) return "'neighbour' outside a 'router bgp' block";
    const [peer, attribute, ...values] = args;
    const usage = "neighbour: expected 'neighbour PEER remote-as AS', 'neighbour PEER timers KEEPALIVE HOLD' or 'neighbour PEER update-source ADDRESS'";
    if (peer === undefined || attribute === undefined) return usage;
    const badPeer = checkPeer(peer);
    if (badPeer !== undefined) return `neighbour: ${badPeer}`;
    const existing = this.bgp.neighbours.get(peer);
    const key = attribute.toLowerCase();
    if (key === "remote-as") {
      const [asText, ...extra] = values;
      if (asText === undefined || extra.length > 0) return "neighbour: expected 'neighbour PEER remote-as AS'";
      const as = parseAsNumber(asText);
      if (typeof as === "string") return `neighbour ${peer} remote-as: ${as}`;
      if (existing === undefined) {
        this.bgp.neighbours.set(peer, {
          peer,
          remoteAs: as,
          keepaliveSeconds: BGP_DEFAULT_KEEPALIVE_SECONDS,
          holdTimeSeconds: BGP_DEFAULT_HOLD_TIME_SECONDS,
        });
      } else {
        existing.remoteAs = as;
      }
      return undefined;
    }
    if (key !== "timers" && key !== "update-source") return `neighbour: '${attribute}' is not remote-as, timers or update-source`;
    if (existing === undefined) return `neighbour ${peer}: give its remote-as first`;
    if (key === "timers") {
      const [keepaliveText, holdText, ...extra] = values;
      if (keepaliveText === undefined || holdText === undefined || extra.length > 0) {
        return "neighbour: expected 'neighbour PEER timers KEEPALIVE HOLD'";
      }
      const keepalive = parseSeconds(keepaliveText, 1, "keepalive time");
      if (typeof keepalive === "string") return `neighbour ${peer} timers: ${keepalive}`;
      const hold = parseSeconds(holdText, 3, "hold time");
      if (typeof hold === "string") return `neighbour ${peer} timers: ${hold}`;
      existing.keepaliveSeconds = keepalive;
      existing.holdTimeSeconds = hold;
      return undefined;
    }
    const [source, ...extra] = values;
    if (source === undefined || extra.length > 0) return "neighbour: expected 'neighbour PEER update-source ADDRESS'";
    if (parseIpv4(source, { syntax: "strict" }) === undefined) return `neighbour ${peer} update-source: '${source}' is not an IPv4 address`;
    existing.updateSource = source;
    return undefined;
  }

  private accessList(args: readonly string[]): string | undefined {
    const [keyword, typeText, name, ...extra] = args;
    if (keyword?.toLowerCase() !== "access-list" || typeText === undefined || name === undefined || extra.length > 0) {
      this.mode = { kind: "broken" };
      return "ip: expected 'ip access-list standard|extended NAME'";
    }
    const type = typeText.toLowerCase();
    if (type !== "standard" && type !== "extended") {
      this.mode = { kind: "broken" };
      return `ip access-list: '${typeText}' is not standard or extended`;
    }
    const badName = checkAccessListName(name);
    if (badName !== undefined) {
      this.mode = { kind: "broken" };
      return `ip access-list: ${badName}`;
    }
    const existing = this.lists.get(name);
    if (existing !== undefined && existing.type !== type) {
      this.mode = { kind: "broken" };
      return `ip access-list: ${name} is already defined as ${existing.type}, not ${type}`;
    }
    const list: MutableList = existing ?? (type === "standard" ? { name, type, rules: [] } : { name, type, rules: [] });
    this.lists.set(name, list);
    this.mode = { kind: "acl", list };
    return undefined;
  }

  private rule(words: readonly string[]): string | undefined {
    if (this.mode.kind === "broken") return undefined;
    if (this.mode.kind !== "acl") return `'${words[0] ?? ""}' outside an 'ip access-list' block`;
    const list = this.mode.list;
    if (list.type === "standard") {
      const r = parseStandardRule(words);
      if (!r.ok) return `access-list ${list.name}: ${r.error}`;
      list.rules.push(r.rule);
    } else {
      const r = parseExtendedRule(words);
      if (!r.ok) return `access-list ${list.name}: ${r.error}`;
      list.rules.push(r.rule);
    }
    return undefined;
  }

  private no(args: readonly string[]): string | undefined {
    const [what = "", ...rest] = args;
    switch (what.toLowerCase()) {
      case "neighbour": {
        if (this.mode.kind === "broken") return undefined;
        if (this.mode.kind !== "bgp" || this.bgp === undefined) return "'no neighbour' outside a 'router bgp' block";
        const [peer, ...extra] = rest;
        if (peer === undefined || extra.length > 0) return "no neighbour: expected 'no neighbour PEER'";
        return this.bgp.neighbours.delete(peer) ? undefined : `no neighbour: ${peer} is not configured`;
      }
      case "ip": {
        const [keyword, typeText, name, ...extra] = rest;
        if (keyword?.toLowerCase() !== "access-list" || typeText === undefined || name === undefined || extra.length > 0) {
          return "no ip: expected 'no ip access-list standard|extended NAME'";
        }
        const type = typeText.toLowerCase();
        if (type !== "standard" && type !== "extended") return `no ip access-list: '${typeText}' is not standard or extended`;
        const existing = this.lists.get(name);
        if (existing === undefined) return `no ip access-list: ${name} is not defined`;
        if (existing.type !== type) return `no ip access-list: ${name} is ${existing.type}, not ${type}`;
        this.lists.delete(name);
        if (this.mode.kind === "acl" && this.mode.list === existing) this.mode = { kind: "config" };
        return undefined;
      }
      default:
        return `unknown command 'no ${what}'`;
    }
  }

  /** Checks that involve more than one line. */
  finish(): void {
    const min = this.values.get("radius_bind_min") ?? 0;
    const max = this.values.get("radius_bind_max") ?? 0;
    if (typeof min === "number" && typeof max === "number" && (min !== 0 || max !== 0)) {
      this.line = Math.max(this.setOnLine.get("radius_bind_min") ?? 0, this.setOnLine.get("radius_bind_max") ?? 0);
      if (min === 0 || max === 0 || max - min + 1 < RADIUS_BIND_MIN_WIDTH) {
        this.error(`radius_bind_min and radius_bind_max must both be set and span at least ${RADIUS_BIND_MIN_WIDTH} ports (${min} to ${max})`);
      }
    }
  }

  config(): StartupConfig {
    const bgp = this.bgp;
    return {
      settings: settingsFrom(this.values),
      explicit: new Set(this.values.keys()),
      ...(bgp === undefined ? {} : { bgp: { as: bgp.as, neighbours: [...bgp.neighbours.values()].map(freezeNeighbour) } }),
      accessLists: [...this.lists.values()].map(freezeList),
      plugins: this.plugins.map((p) => p.name),
      forwards: [...this.forwards.values()],
    };
  }
}

function freezeNeighbour(n: MutableNeighbour): BgpNeighbour {
  const { updateSource, ...rest } = n;
  return updateSource === undefined ? { ...rest } : { ...rest, updateSource };
}

function freezeList(l: MutableList): AccessList {
  return l.type === "standard" ? { name: l.name, type: l.type, rules: [...l.rules] } : { name: l.name, type: l.type, rules: [...l.rules] };
}

/** For an unknown name: a variable that differs only in case, or that the name starts (nexthop -> nexthop_address). */
function suggest(name: string): string {
  const lower = name.toLowerCase();
  const match =
    STARTUP_VARIABLES.find((v) => v.name.toLowerCase() === lower) ??
    STARTUP_VARIABLES.find((v) => v.name.toLowerCase().startsWith(`${lower}_`));
  return match === undefined ? "" : ` (did you mean '${match.name}'?)`;
}

/** Parses a startup-config. `file` names the file in messages. */
export function parseStartupConfig(text: string, file = "startup-config"): ConfigResult<StartupConfig> {
  const problems = new Problems(file);
  const parser = new StartupParser(problems);
  fileLines(text).forEach((lineText, i) => {
    parser.line = i + 1;
    const lexed = lexLine(lineText);
    if (!lexed.ok) {
      problems.error(parser.line, lexed.error);
      return;
    }
    if (lexed.warning !== undefined) problems.warn(parser.line, lexed.warning);
    if (lexed.words.length > 0) parser.statement(lexed.words);
  });
  parser.finish();
  return problems.result(parser.config());
}

export interface WriteOptions {
  /** Write every variable, as l2tpns's "write memory" does; by default only those set or not at their default. */
  readonly all?: boolean;
  /** First line(s) of the file, written as "#" comments. */
  readonly header?: readonly string[];
}

/** Writes a startup-config that parseStartupConfig reads back to the same StartupConfig. */
export function writeStartupConfig(cfg: StartupConfig, options: WriteOptions = {}): string {
  const out: string[] = (options.header ?? ["startup-config written by lnsd (l2tpns format, see docs/config.md)"]).map((l) =>
    `# ${l}`.trimEnd(),
  );
  const values: Readonly<Record<string, SettingValue>> = cfg.settings;
  for (const spec of STARTUP_VARIABLES) {
    const value = values[spec.name] ?? spec.default;
    if (options.all === true || cfg.explicit.has(spec.name) || !sameValue(value, spec.default)) {
      out.push(`set ${spec.name} ${formatSpecValue(spec, value)}`);
    }
  }
  for (const name of cfg.plugins) out.push(`load plugin ${quoteAlways(name)}`);
  for (const f of cfg.forwards) out.push(`setforward ${quoteWord(f.mask)} ${f.address} ${f.port} ${quoteWord(f.secret)}`);
  if (cfg.bgp !== undefined) {
    out.push(`router bgp ${cfg.bgp.as}`);
    for (const n of cfg.bgp.neighbours) {
      out.push(` neighbour ${n.peer} remote-as ${n.remoteAs}`);
      if (n.keepaliveSeconds !== BGP_DEFAULT_KEEPALIVE_SECONDS || n.holdTimeSeconds !== BGP_DEFAULT_HOLD_TIME_SECONDS) {
        out.push(` neighbour ${n.peer} timers ${n.keepaliveSeconds} ${n.holdTimeSeconds}`);
      }
      if (n.updateSource !== undefined) out.push(` neighbour ${n.peer} update-source ${n.updateSource}`);
    }
  }
  for (const list of cfg.accessLists) {
    out.push(`ip access-list ${list.type} ${list.name}`);
    if (list.type === "standard") for (const r of list.rules) out.push(` ${formatStandardRule(r)}`);
    else for (const r of list.rules) out.push(` ${formatExtendedRule(r)}`);
  }
  return `${out.join("\n")}\n`;
}
