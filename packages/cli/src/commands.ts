// The l2tpns 2.4.1 command tree: the words, their order, their help texts and the `?` answers
// after each command are those of the running l2tpns (docs/cli.md); what they do is asked of the
// CliBackend. Features that are not running yet answer so, but every command parses.
import { STARTUP_VARIABLES } from "@lnsd/config";
import type { CliBackend, CliResult } from "./backend.js";
import {
  POOL_HEADER,
  SESSION_HEADER,
  TUNNEL_HEADER,
  accessListLines,
  counterLines,
  idleHistogram,
  openHistogram,
  poolRow,
  runningConfigLines,
  sessionDetail,
  sessionRow,
  tunnelDetail,
  tunnelRow,
  uptimeLines,
} from "./format.js";
import type { ArgHelp, ArgItem, CommandContext, CommandMode, CommandSpec, Lines } from "./tree.js";

interface Options {
  readonly mode?: CommandMode;
  readonly privileged?: boolean;
  readonly run?: CommandSpec["run"];
  readonly args?: CommandSpec["args"];
  readonly children?: readonly CommandSpec[];
}

function cmd(name: string, help: string, o: Options = {}): CommandSpec {
  const mode = o.mode ?? "exec";
  return {
    name,
    help,
    mode,
    privileged: o.privileged ?? false,
    ...(o.run === undefined ? {} : { run: o.run }),
    ...(o.args === undefined ? {} : { args: o.args }),
    // The words under a command belong to its mode.
    children: (o.children ?? []).map((c) => inMode(c, mode)),
  };
}

function inMode(c: CommandSpec, mode: CommandMode): CommandSpec {
  return c.mode === mode ? c : { ...c, mode, children: c.children.map((k) => inMode(k, mode)) };
}

const CR_ONLY: ArgHelp = { items: [], cr: true };
const NOTHING: ArgHelp = { items: [], cr: false };

/** `?` after a command whose arguments are a fixed sequence of items; Enter is fine after `required` of them. */
function sequence(steps: readonly (readonly ArgItem[])[], required: number): NonNullable<CommandSpec["args"]> {
  return (args) => ({ items: steps[args.length] ?? [], cr: args.length >= required });
}

function result(r: CliResult): string[] {
  if (!r.ok) return [r.error];
  return r.message === undefined ? [] : [r.message];
}

/** A whole number within 1..max, or undefined. */
function id(word: string, max: number): number | undefined {
  if (!/^\d+$/.test(word)) return undefined;
  const n = Number(word);
  return n >= 1 && n <= max ? n : undefined;
}

const notRunning = (feature: string): string[] => [`${feature} is not running`];

/** Access lists are applied from the startup-config; editing them here is not there yet. */
const ACL_FROM_FILE = ["Access lists are edited in the startup-config, then applied with reload"];

const DEBUG_FLAGS = ["critical", "error", "warning", "info", "calls", "data"] as const;

function debugItems(allHelp: string): ArgItem[] {
  return [{ word: "all", help: allHelp }, ...DEBUG_FLAGS.map((word) => ({ word }))];
}

function* debugCommand(ctx: CommandContext, args: readonly string[], on: boolean): Iterable<string> {
  for (const a of args) {
    const word = a.toLowerCase();
    const flag = word === "all" ? "all" : DEBUG_FLAGS.find((f) => f.startsWith(word));
    if (flag === undefined) {
      yield `Invalid debugging flag "${a}"`;
      return;
    }
    // "all" is every flag but "data" (l2tpns's help says so).
    const flags = flag === "all" ? DEBUG_FLAGS.filter((f) => f !== "data" || !on) : [flag];
    for (const f of flags) {
      if (on) ctx.debug.add(f);
      else ctx.debug.delete(f);
    }
  }
  if (args.length === 0 && !on) ctx.debug.clear();
  const list = DEBUG_FLAGS.filter((f) => ctx.debug.has(f));
  yield `Currently debugging: ${list.length === 0 ? "none" : list.join(" ")}`;
}

function* showSessions(b: CliBackend, args: readonly string[]): Iterable<string> {
  if (args.length > 0) {
    const max = b.limits().maxSessionId;
    for (const a of args) {
      const n = id(a, max);
      const s = n === undefined ? undefined : b.session(n);
      if (s === undefined) {
        yield `Invalid session id "${a}"`;
        continue;
      }
      yield* sessionDetail(s);
    }
    return;
  }
  yield SESSION_HEADER;
  for (const s of b.sessions()) yield sessionRow(s);
}

function* showTunnels(b: CliBackend, args: readonly string[]): Iterable<string> {
  const all = args[0]?.toLowerCase() === "all";
  const ids = all ? args.slice(1) : args;
  if (ids.length > 0) {
    const max = b.limits().maxTunnelId;
    for (const a of ids) {
      const n = id(a, max);
      const t = n === undefined ? undefined : b.tunnel(n);
      if (t === undefined) {
        yield `Invalid tunnel id "${a}"`;
        continue;
      }
      yield* tunnelDetail(t);
    }
    return;
  }
  yield TUNNEL_HEADER;
  for (const t of b.tunnels(all)) yield tunnelRow(t);
}

function* showUsers(b: CliBackend, args: readonly string[]): Iterable<string> {
  if (args.length === 0) {
    for (const s of b.sessions()) if (s.username !== "") yield s.username;
    return;
  }
  for (const name of args) {
    let found = false;
    for (const s of b.sessions()) {
      if (s.username !== name) continue;
      found = true;
      yield* sessionDetail(s);
    }
    if (!found) yield `User "${name}" is not connected`;
  }
}

function* showPool(b: CliBackend, args: readonly string[]): Iterable<string> {
  const all = args[0]?.toLowerCase() === "all";
  const pool = b.pool();
  yield POOL_HEADER;
  for (const e of pool.entries(all)) yield poolRow(e);
  if (!all) yield "(Not displaying unused addresses)";
  yield "";
  yield `Free: ${pool.free}`;
  yield `Used: ${pool.used}`;
}

function* showRadius(b: CliBackend): Iterable<string> {
  const r = b.radius();
  yield "    ID Radius Sock State  Session    Retry Try";
  if (r === undefined) {
    yield "";
    yield "RADIUS is not in use (local chap-secrets)";
    return;
  }
  for (const q of r.requests()) {
    yield `${String(q.id).padStart(6)} ${q.server.padStart(6)} ${"".padStart(4)} ${q.state.padEnd(6)} ${String(q.sessionId).padStart(8)} ${String(q.retry).padStart(8)} ${String(q.tries).padStart(3)}`;
  }
  yield "";
  yield `Free: ${r.free}`;
  yield `Used: ${r.used}`;
}

function* showIpCache(b: CliBackend): Iterable<string> {
  yield "  Sess# IP Address";
  let n = 0;
  for (const s of b.sessions()) {
    if (s.address === undefined) continue;
    n++;
    yield `${String(s.id).padStart(7)} ${s.address}`;
  }
  yield `${n} entries in cache`;
}

function* throttleLines(b: CliBackend): Iterable<string> {
  yield "  SID  TID Username                         Rate In    Out   TBFI   TBFO";
  // lnsd's token buckets live in the session table: TBFI/TBFO are the session's own.
  for (const r of b.throttled?.() ?? []) {
    yield `${String(r.id).padStart(5)} ${String(r.tunnelId).padStart(4)} ${r.username.padEnd(32)} ${String(r.rateIn).padStart(7)} ${String(r.rateOut).padStart(6)} ${String(r.rateIn > 0 ? r.id : 0).padStart(6)} ${String(r.rateOut > 0 ? r.id : 0).padStart(6)}`;
  }
}

function* showAccessList(b: CliBackend, args: readonly string[]): Iterable<string> {
  if (args.length === 0) {
    yield "Specify a filter name";
    return;
  }
  const lists = b.runningConfig().accessLists;
  for (const name of args) {
    const list = lists.find((l) => l.name === name);
    if (list === undefined) yield `Access-list ${name} not defined`;
    else {
      // Cisco's and l2tpns's way: a rule that matched says how often.
      const hits = b.accessListHits?.(name) ?? [];
      yield* accessListLines(list).map((line, i) => {
        const n = i === 0 ? 0 : hits[i - 1] ?? 0;
        return n > 0 ? `${line} (${n} match${n === 1 ? "" : "es"})` : line;
      });
    }
  }
}

/** A small banana, drawn for lnsd (l2tpns has one too; this is not that one). */
const BANANA = ["     _", "    //", "   //", "  ((    __", "   \\\\__//", "    `--'"];

function* bySession(what: (u: string) => CliResult | undefined, feature: string, args: readonly string[]): Iterable<string> {
  const user = args[0];
  if (user === undefined) {
    yield "Specify a user";
    return;
  }
  const r = what(user);
  if (r === undefined) yield* notRunning(feature);
  else yield* result(r);
}

/** A backend answer that may still be on its way. */
async function* later(r: CliResult | Promise<CliResult>): AsyncIterable<string> {
  yield* result(await r);
}

async function* writeMemory(b: CliBackend): AsyncIterable<string> {
  const r = await b.writeMemory();
  yield* result(r);
}

function userArg(help: string): NonNullable<CommandSpec["args"]> {
  return sequence([[{ word: "USER", help }]], 1);
}

export interface TreeOptions {
  /** The daemon's name in help texts ("Shutdown lnsd daemon and exit"). */
  readonly daemonName?: string;
}

/** The whole tree, in l2tpns's order (the order `?` and `help` list commands in). */
export function l2tpnsCommands(o: TreeOptions = {}): CommandSpec[] {
  const daemon = o.daemonName ?? "lnsd";
  const P = { privileged: true } as const;
  const sessionRange = (help: string): NonNullable<CommandSpec["args"]> => (args, ctx) => ({
    items: [{ word: `<1-${ctx.backend.limits().maxSessionId}>`, help }],
    cr: args.length > 0 || help.startsWith("Show"),
  });
  const tunnelRange = (ctx: CommandContext): string => `<1-${ctx.backend.limits().maxTunnelId}>`;

  const show = cmd("show", "", {
    children: [
      cmd("banana", "Show a banana", { run: () => BANANA }),
      cmd("bgp", "Show BGP status", { run: (ctx) => ctx.backend.bgp?.() ?? notRunning("BGP"), args: () => NOTHING }),
      cmd("cluster", "Show cluster information", { run: (ctx) => ctx.backend.cluster?.() ?? notRunning("Clustering") }),
      cmd("ipcache", "Show contents of the IP cache", { run: (ctx) => showIpCache(ctx.backend) }),
      cmd("plugins", "List all installed plugins", {
        run: (ctx) => ["Plugins currently loaded:", ...(ctx.backend.plugins?.() ?? []).map((p) => `  ${p}`)],
      }),
      cmd("pool", "Show the IP address allocation pool", {
        run: (ctx, args) => showPool(ctx.backend, args),
        args: sequence([[{ word: "all", help: "Show all pool addresses, including unused" }]], 0),
      }),
      cmd("radius", "Show active radius queries", {
        run: (ctx) => showRadius(ctx.backend),
        args: sequence([[{ word: "all", help: "Show all RADIUS sessions, including unused" }]], 0),
      }),
      cmd("running-config", "Show the currently running configuration", { ...P, run: (ctx) => runningConfigLines(ctx.backend.runningConfig()) }),
      cmd("remotelns-conf", "Show a list of remote LNS configuration", {
        ...P,
        run: () => ["  IP Remote LNS TID  l2tp secret                      assignment Id                    File/Radius   State Count Sess"],
        // l2tpns answers `show remotelns-conf ?` with its own name.
        args: (args) => ({ items: args.length === 0 ? [{ word: "remotelns-conf", help: "Show a list of remote LNS configurations" }] : [], cr: false }),
      }),
      cmd("session", "Show a list of sessions or details for a single session", {
        run: (ctx, args) => showSessions(ctx.backend, args),
        args: sessionRange("Show specific session by id"),
      }),
      cmd("tbf", "List all token bucket filters in use", {
        run: () => ["  TBF#   Sid  Rate Credit Queued |  ByteIn  PackIn ByteSent PackSent PackDrop PackDelay", "0 tbf entries used, 0 total"],
      }),
      cmd("throttle", "List all throttled sessions and associated TBFs", {
        run: (ctx) => throttleLines(ctx.backend),
      }),
      cmd("tunnels", "Show a list of tunnels or details for a single tunnel", {
        run: (ctx, args) => showTunnels(ctx.backend, args),
        args: (args, ctx) => {
          const range = { word: tunnelRange(ctx), help: "Show specific tunnel by id" };
          return { items: args.length === 0 ? [{ word: "all", help: "Show all tunnels, including unused" }, range] : [range], cr: true };
        },
      }),
      cmd("users", "Show a list of all connected users or details of selected user", {
        run: (ctx, args) => showUsers(ctx.backend, args),
        args: (args) => ({ items: [{ word: "USER", help: "Show details for specific username" }], cr: args.length >= 0 }),
      }),
      cmd("version", "Show currently running software version", { run: (ctx) => [ctx.backend.version()] }),
      cmd("access-list", "Show named access-list", {
        run: (ctx, args) => showAccessList(ctx.backend, args),
        args: (args) => ({ items: [{ word: "NAME", help: "Filter name" }], cr: args.length > 0 }),
      }),
      cmd("histogram", "", {
        children: [
          cmd("idle", "Show histogram of session idle times", { run: (ctx) => idleHistogram([...ctx.backend.sessions()].map((s) => s.idleSeconds)) }),
          cmd("open", "Show histogram of session durations", { run: (ctx) => openHistogram([...ctx.backend.sessions()].map((s) => s.openedSeconds)) }),
        ],
      }),
      cmd("counters", "Display all the internal counters and running totals", { run: (ctx) => counterLines(ctx.backend.counters()) }),
    ],
  });

  const noExec = cmd("no", "", {
    children: [
      cmd("snoop", "Disable interception of a session", {
        ...P,
        run: (ctx, args) => bySession((u) => ctx.backend.unsnoop?.(u), "Snooping", args),
        args: userArg("Username of session to unsnoop"),
      }),
      cmd("throttle", "Disable throttling of a session", {
        ...P,
        run: (ctx, args) => bySession((u) => ctx.backend.unthrottle?.(u), "Throttling", args),
        args: userArg("Username of session to unthrottle"),
      }),
      cmd("filter", "Remove filtering from a session", {
        ...P,
        run: (ctx, args) => bySession((u) => ctx.backend.unfilter?.(u), "Filtering", args),
        args: userArg("Username of session to remove filters from"),
      }),
      cmd("debug", "Turn off logging of a certain level of debugging", {
        run: (ctx, args) => debugCommand(ctx, args, false),
        args: () => ({ items: debugItems("Disable all debugging"), cr: true }),
      }),
      cmd("suspend", "", { ...P, children: [cmd("bgp", "Advertise routes to BGP neighbour", { run: () => notRunning("BGP"), args: () => NOTHING })] }),
    ],
  });

  const accessListArgs = sequence([[{ word: "standard", help: "Standard syntax" }, { word: "extended", help: "Extended syntax" }], [{ word: "NAME", help: "Access-list name" }]], 2);

  return [
    cmd("help", "Show available commands", { mode: "any", run: (ctx) => ctx.helpLines() }),
    cmd("quit", "Disconnect", { mode: "any", run: (ctx) => { ctx.quit(); return []; } }),
    cmd("logout", "Disconnect", { mode: "any", run: (ctx) => { ctx.quit(); return []; } }),
    cmd("exit", "Exit from current mode", {
      mode: "any",
      run: (ctx) => {
        if (ctx.mode === "config") ctx.setMode("exec");
        else ctx.quit();
        return [];
      },
    }),
    cmd("history", "Show a list of previously run commands", {
      mode: "any",
      run: (ctx) => ["", "Command history:", ...ctx.history().map((h, i) => `${String(i).padStart(3)}. ${h}`)],
    }),
    cmd("enable", "Turn on privileged commands", { run: (ctx) => { ctx.enable(); return []; } }),
    cmd("disable", "Turn off privileged commands", { ...P, run: (ctx) => { ctx.disable(); return []; } }),
    // "Conlfigure" is libcli's spelling, kept: it is what `help` has always shown.
    cmd("configure", "", { ...P, children: [cmd("terminal", "Conlfigure from the terminal", { run: (ctx) => { ctx.setMode("config"); return []; } })] }),
    show,
    cmd("clear", "", { ...P, children: [cmd("counters", "Clear internal counters", { run: (ctx) => { ctx.backend.clearCounters(); return ["Counters cleared"]; } })] }),
    cmd("uptime", "Show uptime and bandwidth utilisation", { run: (ctx) => uptimeLines(ctx.backend.uptime(), new Date()) }),
    cmd("shutdown", `Shutdown ${daemon} daemon and exit`, { ...P, run: (ctx) => result(ctx.backend.shutdown()) }),
    cmd("reload", "Reload configuration", { ...P, run: (ctx) => result(ctx.backend.reload()) }),
    cmd("write", "", {
      children: [
        cmd("memory", "Save the running config to flash", { ...P, run: (ctx) => writeMemory(ctx.backend) }),
        cmd("terminal", "Show the running config", { run: (ctx) => runningConfigLines(ctx.backend.runningConfig()) }),
      ],
    }),
    cmd("snoop", "Enable interception of a session", {
      ...P,
      run: (ctx, args) => {
        const [user, address, port] = args;
        if (user === undefined || address === undefined || port === undefined) return ["Specify username, ip and port"];
        const r = ctx.backend.snoop?.(user, address, Number(port));
        return r === undefined ? notRunning("Snooping") : result(r);
      },
      args: sequence([[{ word: "USER", help: "Username of session to snoop" }], [{ word: "A.B.C.D", help: "IP address of snoop destination" }], [{ word: "<1-65535>", help: "Port of snoop destination" }]], 3),
    }),
    cmd("throttle", "Enable throttling of a session", {
      ...P,
      run: (ctx, args) => bySession((u) => ctx.backend.throttle?.(u, args[1] === undefined ? undefined : Number(args[1])), "Throttling", args),
      args: sequence([[{ word: "USER", help: "Username of session to throttle" }], [{ word: "RATE", help: "Rate in kbps" }]], 1),
    }),
    cmd("filter", "Add filtering to a session", {
      ...P,
      run: (ctx, args) => {
        const [user, direction, list] = args;
        if (user === undefined || (direction !== "in" && direction !== "out") || list === undefined) return ["Specify username, in|out and an access-list"];
        const r = ctx.backend.filter?.(user, direction, list);
        return r === undefined ? notRunning("Filtering") : result(r);
      },
      args: sequence([[{ word: "USER", help: "Username of session to filter" }], [{ word: "in", help: "Filter incoming traffic" }, { word: "out", help: "Filter outgoing traffic" }], [{ word: "NAME", help: "Access-list name" }]], 3),
    }),
    cmd("debug", "Set the level of logging that is shown on the console", {
      run: (ctx, args) => debugCommand(ctx, args, true),
      args: () => ({ items: debugItems('Enable debugging for all except "data"'), cr: true }),
    }),
    cmd("suspend", "", { ...P, children: [cmd("bgp", "Withdraw routes from BGP neighbour", { run: () => notRunning("BGP"), args: () => NOTHING })] }),
    noExec,
    cmd("restart", "", { ...P, children: [cmd("bgp", "Restart BGP", { run: () => notRunning("BGP"), args: () => NOTHING })] }),
    cmd("drop", "", {
      ...P,
      children: [
        cmd("user", "Disconnect a user", {
          run: (ctx, args) => (args.length === 0 ? ["Specify a user to drop"] : args.flatMap((u) => result(ctx.backend.dropUser(u)))),
          args: userArg("Username of session to drop"),
        }),
        cmd("tunnel", "Disconnect a tunnel and all sessions on that tunnel", {
          run: (ctx, args) => {
            if (args.length === 0) return ["Specify a tunnel to drop"];
            const max = ctx.backend.limits().maxTunnelId;
            return args.flatMap((a) => {
              const n = id(a, max);
              return n === undefined ? [`Invalid tunnel id "${a}"`] : result(ctx.backend.dropTunnel(n));
            });
          },
          args: (args, ctx) => ({ items: [{ word: tunnelRange(ctx), help: "Tunnel id to drop" }], cr: args.length > 0 }),
        }),
        cmd("session", "Disconnect a session", {
          run: (ctx, args) => {
            if (args.length === 0) return ["Specify a session to drop"];
            const max = ctx.backend.limits().maxSessionId;
            return args.flatMap((a) => {
              const n = id(a, max);
              return n === undefined ? [`Invalid session id "${a}"`] : result(ctx.backend.dropSession(n));
            });
          },
          args: sessionRange("Session id to drop"),
        }),
      ],
    }),

    // Config mode.
    cmd("router", "", {
      mode: "config",
      ...P,
      children: [cmd("bgp", "Configure BGP", { run: () => notRunning("BGP"), args: sequence([[{ word: "<1-65535>", help: "Autonomous system number" }]], 1) })],
    }),
    cmd("load", "", {
      mode: "config",
      ...P,
      children: [
        cmd("plugin", "Load a plugin", {
          run: (ctx, args) => {
            if (args[0] === undefined) return ["Specify a plugin to load"];
            const r = ctx.backend.loadPlugin?.(args[0]);
            return r === undefined ? notRunning("Plugin support") : later(r);
          },
          args: sequence([[{ word: "PLUGIN", help: "Name of plugin to load" }]], 1),
        }),
      ],
    }),
    cmd("remove", "", {
      mode: "config",
      ...P,
      children: [
        cmd("plugin", "Remove a plugin", {
          run: (ctx, args) => {
            if (args[0] === undefined) return ["Specify a plugin to remove"];
            const r = ctx.backend.removePlugin?.(args[0]);
            return r === undefined ? notRunning("Plugin support") : later(r);
          },
          args: sequence([[{ word: "PLUGIN", help: "Name of plugin to unload" }]], 1),
        }),
      ],
    }),
    cmd("set", "Set a configuration variable", {
      mode: "config",
      ...P,
      run: (ctx, args) => {
        const [name, ...value] = args;
        if (name === undefined) return ["Specify variable to set"];
        const spec = STARTUP_VARIABLES.find((v) => v.name === name) ?? STARTUP_VARIABLES.find((v) => v.name.toLowerCase() === name.toLowerCase());
        if (spec === undefined) return [`Unknown variable "${name}"`];
        if (value.length === 0) return [`Specify a value for ${spec.name}`];
        return result(ctx.backend.setVariable(spec.name, value.join(" ")));
      },
      args: (args) =>
        args.length === 0
          ? { items: STARTUP_VARIABLES.map((v) => ({ word: v.name })), cr: false }
          : args.length === 1
            ? { items: [{ word: "VALUE", help: "Value for variable" }], cr: false }
            : CR_ONLY,
    }),
    cmd("setforward", "Set the Remote LNS Forward", {
      mode: "config",
      ...P,
      run: () => notRunning("Forwarding to a remote LNS"),
      args: sequence([[{ word: "MASK", help: "Users mask to forward (ex: myISP@operator.com)" }], [{ word: "A.B.C.D", help: "IP of the remote LNS" }], [{ word: "<1-65535>", help: "Port of the remote LNS" }], [{ word: "SECRET", help: "L2TP secret of the remote LNS" }]], 4),
    }),
    cmd("ip", "", {
      mode: "config",
      ...P,
      children: [cmd("access-list", "Add named access-list", { run: () => ACL_FROM_FILE, args: accessListArgs })],
    }),
    cmd("no", "", {
      mode: "config",
      ...P,
      children: [cmd("ip", "", { children: [cmd("access-list", "Remove named access-list", { run: () => ACL_FROM_FILE, args: accessListArgs })] })],
    }),
  ];
}

export type { Lines };
