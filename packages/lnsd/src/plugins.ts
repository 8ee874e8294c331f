// lnsd's plugin host: the PluginApi over the session manager, the hooks the session manager calls
// (pre_auth, post_auth, radius_response, new_session, kill_session), the one-second timer, and the
// faces nsctl (load_plugin, unload_plugin, help, control) and the CLI use. Control thread.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { StartupSettings } from "@lnsd/config";
import { err, ok, NSCTL_TEXT, type ControlResponse } from "@lnsd/control";
import type { Tunnel } from "@lnsd/l2tp";
import {
  API_VERSION,
  PLUGIN_RET_ERROR,
  PLUGIN_RET_NOTMASTER,
  PPP_CHAP,
  PPP_PAP,
  PluginHost,
  usesPacketHooks,
  type ApiResult,
  type ConfigValue,
  type ControlParams,
  type HookName,
  type PluginApi,
  type PluginInfo,
  type PluginLogLevel,
  type PostAuthParams,
  type PreAuthParams,
  type RadiusAccountParams,
  type SessionView,
  type TunnelView,
} from "@lnsd/plugin-api";
import type { AuthRequest } from "@lnsd/ppp";
import { formatIpv4, parseIpv4 } from "@lnsd/wire";
import type { PluginHostControl } from "./control-backend.js";
import type { Logger } from "./log.js";
import type { AuthAnswer, SessionManager, SessionPlugins, Subscriber } from "./sessions.js";

/** Where plugins are looked for, when set: directories separated by ':'. */
export const PLUGIN_DIR_ENV = "LNSD_PLUGIN_DIR";
/** Where an installed lnsd keeps its plugins (l2tpns: /usr/lib/l2tpns). */
export const INSTALLED_PLUGIN_DIR = "/usr/lib/lnsd/plugins";

/** $LNSD_PLUGIN_DIR; else a checkout's plugins/ (when lnsd runs from one), then INSTALLED_PLUGIN_DIR. */
export function defaultPluginDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = env[PLUGIN_DIR_ENV];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv.split(":").filter((d) => d !== "");
  // This file is packages/lnsd/dist/src/plugins.js in a checkout.
  const checkout = fileURLToPath(new URL("../../../../plugins", import.meta.url));
  return [...(existsSync(checkout) ? [checkout] : []), INSTALLED_PLUGIN_DIR];
}

/** Without a data plane (disable_tun, no TUN device) no packet passes a worker: packet hooks are refused. */
export const NO_DATA_PLANE_HOOKS: Readonly<Partial<Record<HookName, string>>> = {
  packet_rx: "packet hooks run in the data workers, and this lnsd has none (disable_tun or no tun device)",
  packet_tx: "packet hooks run in the data workers, and this lnsd has none (disable_tun or no tun device)",
};

const LEVELS: readonly PluginLogLevel[] = ["critical", "error", "warn", "info", "debug", "packet"];

function levelOf(level: PluginLogLevel | number): PluginLogLevel {
  if (typeof level !== "number") return level;
  return LEVELS[Math.min(LEVELS.length - 1, Math.max(0, Math.trunc(level)))] ?? "info";
}

export function tunnelView(t: Tunnel): TunnelView {
  return { id: t.localId, peerId: t.peerId, peerAddress: t.address.address, peerPort: t.address.port, ...(t.peer.hostName === undefined ? {} : { hostName: t.peer.hostName }) };
}

/** What a plugin sees of a session; sessions are named by their NAS-Port (as nsctl and the CLI do). */
export function sessionView(sub: Subscriber): SessionView {
  const call = sub.l2tp.call;
  return {
    id: sub.nasPort,
    tunnelId: sub.tunnel.localId,
    l2tpSessionId: sub.l2tp.localId,
    ...(sub.username === undefined ? {} : { username: sub.username }),
    ...(sub.address === undefined ? {} : { address: formatIpv4(sub.address) }),
    online: sub.upAt !== undefined,
    ...(call.callingNumber === undefined ? {} : { callingNumber: call.callingNumber }),
    ...(call.calledNumber === undefined ? {} : { calledNumber: call.calledNumber }),
    acctSessionId: sub.acctSessionId,
    rxPackets: sub.rxPackets,
    txPackets: sub.txPackets,
    rxOctets: sub.rxOctets,
    txOctets: sub.txOctets,
    filterIds: sub.policy.filterIds,
    ciscoAvPairs: sub.policy.ciscoAvPairs,
    ...(sub.throttle === undefined ? {} : { throttle: { in: sub.throttle.up, out: sub.throttle.down } }),
    ...(sub.snoop === undefined ? {} : { snoop: { address: formatIpv4(sub.snoop.address), port: sub.snoop.port } }),
    ...(sub.garden === true ? { gardened: true } : {}),
  };
}

/** A startup-config setting by name (own keys of the settings only), as a plugin gets it. */
export function configValue(settings: StartupSettings | Readonly<Record<string, unknown>>, name: string): ConfigValue | undefined {
  const found = Object.entries(settings).find(([k]) => k === name);
  const v: unknown = found?.[1];
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === "string");
  return undefined;
}

/** The text lines a control hook left in `additional`, whatever a JavaScript plugin put there. */
function additionalLines(v: unknown): string[] {
  if (typeof v === "string") return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === "string");
  return [];
}

/** l2tpns splits a Cisco-AVPair at its first '=' (e.g. "throttle=yes"). */
function splitAvPair(pair: string): { key: string; value: string } {
  const at = pair.indexOf("=");
  return at < 0 ? { key: pair.trim(), value: "" } : { key: pair.slice(0, at).trim(), value: pair.slice(at + 1).trim() };
}

/** What the CLI's `show plugins`, `load plugin` and `remove plugin` (and running-config) need. */
export interface PluginCliHost {
  /** Loaded plugin names, in load order. */
  names(): readonly string[];
  list(): readonly PluginInfo[];
  load(name: string): Promise<{ readonly ok: true } | { readonly ok: false; readonly error: string }>;
  remove(name: string): Promise<{ readonly ok: true } | { readonly ok: false; readonly error: string }>;
}

export interface LnsdPluginsOptions {
  readonly sessions: SessionManager;
  readonly logger: Logger;
  /** The running startup-config settings (getConfig); `reconfigure` replaces them on SIGHUP. */
  readonly settings: StartupSettings;
  readonly pluginDirs?: readonly string[];
  /** The longest a hook's promise may take (ms); default the host's (5000). */
  readonly callTimeoutMs?: number;
  readonly wallClockMs?: () => number;
  /** The data workers: told the plugins with packet hooks (in load order) after each load and unload. */
  readonly packetPlugins?: (names: readonly string[], pluginDirs: readonly string[]) => void;
  /** RADIUS accounting, when on: the helper API's sendRadius. */
  readonly accounting?: { send(sub: Subscriber, status: "start" | "interim" | "stop"): boolean };
}

export class LnsdPlugins implements PluginHostControl {
  readonly host: PluginHost;
  readonly pluginDirs: readonly string[];
  private settings: StartupSettings;
  private timer: NodeJS.Timeout | undefined;
  /** This node is the master (no cluster: from becomeMaster() on). */
  private master = false;
  private timerBusy = false;

  constructor(private readonly o: LnsdPluginsOptions) {
    this.settings = o.settings;
    this.pluginDirs = o.pluginDirs ?? defaultPluginDirs();
    this.host = new PluginHost({
      pluginDirs: this.pluginDirs,
      api: (name) => this.apiFor(name),
      log: (level, reason, message) => { o.logger.log(level, reason, message); },
      ...(o.packetPlugins === undefined ? { unsupportedHooks: NO_DATA_PLANE_HOOKS } : {}),
      onChange: (list) => { o.packetPlugins?.(list.filter(usesPacketHooks).map((p) => p.name), this.pluginDirs); },
      ...(o.callTimeoutMs === undefined ? {} : { callTimeoutMs: o.callTimeoutMs }),
    });
  }

  private now(): number {
    return (this.o.wallClockMs ?? Date.now)();
  }

  /** SIGHUP: getConfig answers from the new settings. */
  reconfigure(settings: StartupSettings): void {
    this.settings = settings;
  }

  /**
   * `load plugin NAME` lines of the startup-config, in order; one already loaded is left as it is
   * (a reload runs them again, as l2tpns does). A plugin that fails is logged and skipped.
   */
  async loadConfigured(names: readonly string[]): Promise<void> {
    for (const name of names) {
      if (!this.host.isLoaded(name)) await this.host.load(name);
    }
  }

  /** The timer hook, once a second (l2tpns: plugin_timer with time_now). */
  startTimer(intervalMs = 1000): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => {
      // A tick still waiting on a slow plugin is not stacked on.
      if (!this.host.has("timer") || this.timerBusy) return;
      this.timerBusy = true;
      void this.host
        .call("timer", { timeNow: Math.floor(this.now() / 1000) })
        .catch((e: unknown) => { this.o.logger.log("error", "plugin-timer", `timer hook: ${e instanceof Error ? e.message : String(e)}`); })
        .finally(() => { this.timerBusy = false; });
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and unloads every plugin, last loaded first (each one's done). */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.host.unloadAll();
  }

  private byId(id: number): Subscriber | undefined {
    for (const s of this.o.sessions.all()) if (s.nasPort === id) return s;
    return undefined;
  }

  /** l2tpns sessionbyuser: the newest online session of the user, else their newest. */
  private byUser(username: string): Subscriber | undefined {
    let any: Subscriber | undefined;
    let online: Subscriber | undefined;
    for (const s of this.o.sessions.all()) {
      if (s.username !== username) continue;
      any = s;
      if (s.upAt !== undefined) online = s;
    }
    return online ?? any;
  }

  private notAvailable(what: string): ApiResult {
    return { ok: false, error: `${what} is not available in this lnsd build` };
  }

  private apiFor(name: string): PluginApi {
    const { logger, sessions } = this.o;
    const withSession = (id: number, act: (sub: Subscriber) => void): ApiResult => {
      const sub = this.byId(id);
      if (sub === undefined) return { ok: false, error: `no session ${id}` };
      act(sub);
      return { ok: true };
    };
    return {
      apiVersion: API_VERSION,
      log: (level, message, sessionId) => {
        logger.log(levelOf(level), `plugin-${name}`, `plugin ${name}: ${sessionId === undefined ? "" : `session ${sessionId}: `}${message}`);
      },
      findSession: (id) => {
        const sub = this.byId(id);
        return sub === undefined ? undefined : sessionView(sub);
      },
      findSessionByUser: (username) => {
        const sub = this.byUser(username);
        return sub === undefined ? undefined : sessionView(sub);
      },
      sessions: () => [...sessions.all()].map(sessionView),
      getConfig: (setting) => configValue(this.settings, setting),
      dropSession: (id, reason) =>
        withSession(id, (sub) => {
          logger.log("info", `plugin-${name}`, `plugin ${name}: dropping session ${id} (${sub.username ?? "-"}): ${reason}`);
          sessions.drop(sub, reason, "admin-reset");
        }),
      killSession: (id, reason) =>
        withSession(id, (sub) => {
          logger.log("info", `plugin-${name}`, `plugin ${name}: killing session ${id} (${sub.username ?? "-"}): ${reason}`);
          // l2tpns sessionkill: no LCP Terminate exchange; the CDN goes at once.
          sub.ppp.stop("admin-reset", reason);
        }),
      // Throttling, interception and the garden act in the data workers (SessionManager.setPolicy).
      throttle: (id, rateIn, rateOut) => {
        if (!(rateIn >= 0 && rateOut >= 0)) return { ok: false, error: "rates are kbit/s, 0 or more" };
        return withSession(id, (sub) => {
          logger.log("info", `plugin-${name}`, `plugin ${name}: session ${id} (${sub.username ?? "-"}) throttled to ${rateIn}/${rateOut} kbit/s`);
          sessions.setPolicy(sub, { throttle: rateIn === 0 && rateOut === 0 ? null : { up: rateIn, down: rateOut } });
        });
      },
      snoop: (id, address, port) => {
        const a = parseIpv4(address);
        if (port !== 0 && (a === undefined || !(port > 0 && port < 65536))) return { ok: false, error: `${address}:${port} is no snoop target` };
        return withSession(id, (sub) => {
          logger.log("info", `plugin-${name}`, `plugin ${name}: session ${id} (${sub.username ?? "-"}) ${port === 0 ? "no longer intercepted" : `intercepted to ${address}:${port}`}`);
          sessions.setPolicy(sub, { snoop: port === 0 || a === undefined ? null : { address: a, port } });
        });
      },
      garden: (id, on) =>
        withSession(id, (sub) => {
          logger.log("info", `plugin-${name}`, `plugin ${name}: session ${id} (${sub.username ?? "-"}) ${on ? "gardened" : "ungardened"}`);
          sessions.setPolicy(sub, { garden: on });
        }),
      setUsername: (id, username) => {
        if (typeof username !== "string" || username === "" || username.length > 253) return { ok: false, error: "a user name of 1 to 253 characters" };
        return withSession(id, (sub) => {
          logger.log("info", `plugin-${name}`, `plugin ${name}: session ${id} (${sub.username ?? "-"}) is now ${username}`);
          sessions.rename(sub, username);
        });
      },
      sendRadius: (id, status) => {
        const acct = this.o.accounting;
        if (acct === undefined) return this.notAvailable("RADIUS accounting (radius_accounting is off)");
        const sub = this.byId(id);
        if (sub === undefined) return { ok: false, error: `no session ${id}` };
        return acct.send(sub, status) ? { ok: true } : { ok: false, error: `session ${id} has no accounting to ${status}` };
      },
    };
  }

  /** The hooks the session manager calls (SessionManager.usePlugins). */
  readonly sessionHooks: SessionPlugins = {
    preAuth: async (sub, req) => {
      if (!this.host.has("pre_auth")) return { ok: true, req };
      const password = req.kind === "pap" ? Buffer.from(req.password).toString("utf8") : undefined;
      const p: PreAuthParams = { tunnel: tunnelView(sub.tunnel), session: sessionView(sub), username: req.username, password, protocol: req.kind === "pap" ? PPP_PAP : PPP_CHAP, continueAuth: true };
      // l2tpns: the chain's answer does not decide; continue_auth does.
      await this.host.call("pre_auth", p);
      if (!p.continueAuth) return { ok: false, message: "refused by a plugin (pre_auth)" };
      const username: unknown = p.username;
      const newPassword: unknown = p.password;
      if (typeof username !== "string" || (req.kind === "pap" && typeof newPassword !== "string")) {
        this.o.logger.log("error", "plugin-pre_auth", `session ${sub.nasPort}: a pre_auth plugin left a username or password that is not a string: ignored`);
        return { ok: true, req };
      }
      return { ok: true, req: this.rewritten(req, username, typeof newPassword === "string" && newPassword !== password ? newPassword : undefined) };
    },
    postAuth: async (sub, req, answer) => {
      let r: AuthAnswer = answer;
      // No answer at all (RADIUS unreachable) is not a refusal a plugin can turn round.
      const definite = answer.ok || answer.error !== true;
      if (definite && this.host.has("post_auth")) {
        const call = sub.l2tp.call;
        const p: PostAuthParams = {
          tunnel: tunnelView(sub.tunnel),
          session: sessionView(sub),
          username: req.username,
          authAllowed: answer.ok,
          protocol: req.kind === "pap" ? PPP_PAP : PPP_CHAP,
          ...(call.txConnectSpeed === undefined ? {} : { txConnectSpeed: call.txConnectSpeed }),
          ...(call.rxConnectSpeed === undefined ? {} : { rxConnectSpeed: call.rxConnectSpeed }),
        };
        await this.host.call("post_auth", p);
        // setrxspeed: a plugin may fill in the Rx Connect Speed the LAC did not give (RFC 2661 4.4.5).
        const rx: unknown = p.rxConnectSpeed;
        if (typeof rx === "number" && Number.isInteger(rx) && rx > 0 && rx !== call.rxConnectSpeed) call.rxConnectSpeed = rx;
        const allowed: unknown = p.authAllowed;
        if (typeof allowed === "boolean" && allowed !== answer.ok) {
          this.o.logger.log("info", "plugin-post_auth", `session ${sub.nasPort}: a plugin ${allowed ? "allowed" : "refused"} ${req.username} (authentication said ${answer.ok ? "yes" : "no"})`);
          r = allowed ? { ok: true } : { ok: false, message: "refused by a plugin (post_auth)" };
        }
      }
      // radius_response: each key=value of the accept's Cisco-AVPairs, in order.
      if (r.ok && this.host.has("radius_response")) {
        for (const pair of r.policy?.ciscoAvPairs ?? []) {
          await this.host.call("radius_response", { tunnel: tunnelView(sub.tunnel), session: sessionView(sub), ...splitAvPair(pair) });
        }
      }
      return r;
    },
    newSession: (sub) => {
      this.sessionHook("new_session", sub);
      // l2tpns: new_session_master on the master for every new session; alone, lnsd is the master.
      if (this.master) this.sessionHook("new_session_master", sub);
    },
    killSession: (sub) => {
      this.sessionHook("kill_session", sub);
    },
    // l2tpns on a CoA: radius_reset (autothrottle and autosnoop undo what the login's pairs did),
    // then radius_response for each pair of the request.
    coa: (sub, pairs) => {
      if (!this.host.has("radius_reset") && !this.host.has("radius_response")) return;
      const run = async (): Promise<void> => {
        await this.host.call("radius_reset", { tunnel: tunnelView(sub.tunnel), session: sessionView(sub) });
        for (const pair of pairs) await this.host.call("radius_response", { tunnel: tunnelView(sub.tunnel), session: sessionView(sub), ...splitAvPair(pair) });
      };
      run().catch((e: unknown) => {
        this.o.logger.log("error", "plugin-coa", `CoA hooks: ${e instanceof Error ? e.message : String(e)}`);
      });
    },
  };

  private rewritten(req: AuthRequest, username: string, password: string | undefined): AuthRequest {
    const peerId = username === req.username ? req.peerId : Buffer.from(username, "utf8");
    if (req.kind === "chap") return { ...req, username, peerId };
    return { ...req, username, peerId, ...(password === undefined ? {} : { password: Buffer.from(password, "utf8") }) };
  }

  /**
   * new_session and kill_session see the session as it is now, and run once the session manager
   * has finished what it is doing (so that a plugin that drops the session does not re-enter it).
   */
  /**
   * become_master: a node without a cluster is its own master from the start (as l2tpns alone);
   * called once the startup-config's plugins are loaded (one loaded later is not told: the node
   * was master already, as in l2tpns).
   */
  becomeMaster(): void {
    this.master = true;
    if (!this.host.has("become_master")) return;
    this.host.call("become_master", { timeNow: Math.floor(this.now() / 1000) }).catch((e: unknown) => {
      this.o.logger.log("error", "plugin-become_master", `become_master hook: ${e instanceof Error ? e.message : String(e)}`);
    });
  }

  private sessionHook(hook: "new_session" | "kill_session" | "new_session_master", sub: Subscriber): void {
    if (!this.host.has(hook)) return;
    const params = { tunnel: tunnelView(sub.tunnel), session: sessionView(sub) };
    queueMicrotask(() => {
      this.host.call(hook, params).catch((e: unknown) => {
        this.o.logger.log("error", `plugin-${hook}`, `${hook} hook: ${e instanceof Error ? e.message : String(e)}`);
      });
    });
  }

  /** radius_account: what the plugins add to a session's Accounting-Request (autothrottle: its rates). */
  async accountAttributes(sub: Subscriber, status: "start" | "interim" | "stop"): Promise<{ type: number; value: Buffer }[]> {
    if (!this.host.has("radius_account")) return [];
    const p: RadiusAccountParams = { tunnel: tunnelView(sub.tunnel), session: sessionView(sub), statusType: status, attributes: [] };
    await this.host.call("radius_account", p);
    const attrs: unknown = p.attributes;
    if (!Array.isArray(attrs)) return [];
    const out: { type: number; value: Buffer }[] = [];
    for (const a of attrs as unknown[]) {
      // What a plugin pushed is checked: a RADIUS attribute type and at most 253 octets (RFC 2865 5).
      if (typeof a !== "object" || a === null || !("type" in a) || !("value" in a)) continue;
      const { type, value } = a;
      if (typeof type === "number" && Number.isInteger(type) && type > 0 && type < 256 && value instanceof Uint8Array && value.length <= 253) out.push({ type, value: Buffer.from(value) });
    }
    return out;
  }

  // nsctl (PluginHostControl): l2tpns's answers.

  async load(name: string): Promise<ControlResponse> {
    const r = await this.host.load(name);
    if (r.ok) return ok();
    return r.code === "already-loaded" ? err("plugin already loaded") : err(`error loading plugin ${name}: ${r.message}`);
  }

  async unload(name: string): Promise<ControlResponse> {
    const r = await this.host.unload(name);
    return r.ok ? ok() : err(`plugin not loaded: ${name}`);
  }

  helpLines(): readonly string[] {
    return this.host.helpLines();
  }

  /** An nsctl command for the plugins' control hooks (l2tpns processcontrol). */
  async control(args: readonly string[]): Promise<ControlResponse> {
    const p: ControlParams = { iamMaster: true, argv: [...args], response: undefined, additional: undefined };
    const out = await this.host.call("control", p);
    const lines = additionalLines(p.additional);
    if (out.result === PLUGIN_RET_ERROR) return err(...(lines.length > 0 ? lines : [NSCTL_TEXT.backendError]));
    if (out.result === PLUGIN_RET_NOTMASTER) return err("must be run on master: none elected");
    const response: unknown = p.response;
    if (response === undefined) return err(NSCTL_TEXT.unhandled);
    if (response === "ok") return ok(...lines);
    if (response === "error") return err(...lines);
    return err("unrecognised response value from plugin");
  }

  // The CLI (PluginCliHost).

  names(): readonly string[] {
    return this.host.names();
  }

  list(): readonly PluginInfo[] {
    return this.host.list();
  }

  async remove(name: string): Promise<{ readonly ok: true } | { readonly ok: false; readonly error: string }> {
    const r = await this.host.unload(name);
    return r.ok ? { ok: true } : { ok: false, error: "Plugin is not loaded" };
  }

  /** `load plugin NAME` from the CLI; the nsctl face is `load`. */
  async loadForCli(name: string): Promise<{ readonly ok: true } | { readonly ok: false; readonly error: string }> {
    const r = await this.host.load(name);
    if (r.ok) return { ok: true };
    return { ok: false, error: r.code === "already-loaded" ? "Plugin is already loaded" : `Plugin load failed: ${r.message}` };
  }

  /** The CLI's view: `load` there answers as the CLI does. */
  get cli(): PluginCliHost {
    return { names: () => this.names(), list: () => this.list(), load: (name) => this.loadForCli(name), remove: (name) => this.remove(name) };
  }
}
