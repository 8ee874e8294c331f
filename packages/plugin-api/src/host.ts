// The plugin host: finds a plugin by name in the plugin directories, imports it, checks what it
// exports against the contract (each refusal with a code and a precise message), calls its init,
// and runs the hooks of the loaded plugins in load order with l2tpns's OK / STOP / ERROR rules.
// A hook that throws, rejects, times out or answers nonsense is logged, counted and taken as ERROR.
// Runs on the control thread; `callPacket` is the synchronous runner the data workers will use.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  API_VERSION,
  HOOK_NAMES,
  MIN_API_VERSION,
  PACKET_HOOKS,
  PLUGIN_RET_ERROR,
  PLUGIN_RET_NOTMASTER,
  PLUGIN_RET_OK,
  PLUGIN_RET_STOP,
  isHookName,
  isPluginResult,
  pluginNameProblem,
  type HookName,
  type HookParams,
  type PacketHookName,
  type Plugin,
  type PluginApi,
  type PluginLogLevel,
  type PluginResult,
} from "./contract.js";

/** Why a plugin could not be loaded or unloaded. */
export type PluginErrorCode =
  /** Not a bare name (nsctl, CLI and startup-config give names, not paths). */
  | "bad-name"
  | "already-loaded"
  /** Being loaded by an earlier request that has not finished. */
  | "loading"
  | "not-loaded"
  /** Neither NAME.js, NAME.mjs nor a folder NAME/ in any plugin directory. */
  | "not-found"
  /** A folder NAME/ whose entry file (package.json exports or main, else index.js) is missing: not built? */
  | "no-entry"
  /** The module threw while being imported (syntax error, missing dependency...). */
  | "import-failed"
  /** The module has no `plugin` export. */
  | "no-export"
  /** `plugin` is not an object of the contract's shape (a field of the wrong type). */
  | "bad-shape"
  /** `plugin.name` is not the name it was loaded by. */
  | "name-mismatch"
  /** `plugin.apiVersion` is not one this host implements. */
  | "api-version"
  /** A hook name that is not one of HOOK_NAMES. */
  | "unknown-hook"
  | "hook-not-function"
  /** A hook this daemon does not run (yet): refused rather than silently never called. */
  | "unsupported-hook"
  /** init threw, rejected or took too long. */
  | "init-failed";

export type LoadResult = { readonly ok: true; readonly info: PluginInfo } | { readonly ok: false; readonly code: PluginErrorCode; readonly message: string };
export type UnloadResult = { readonly ok: true } | { readonly ok: false; readonly code: PluginErrorCode; readonly message: string };

/** What `list()` tells about a loaded plugin. */
export interface PluginInfo {
  readonly name: string;
  readonly description?: string;
  readonly apiVersion: number;
  readonly hooks: readonly HookName[];
  /** The file imported. */
  readonly path: string;
  readonly controlHelp: readonly string[];
}

/** Per plugin and hook: how often it was called and what came of it. */
export interface HookCounters {
  calls: number;
  ok: number;
  stop: number;
  error: number;
  notMaster: number;
  /** Threw or rejected (also counted in `error`). */
  thrown: number;
  /** Answered something that is not a PluginResult (also counted in `error`). */
  invalid: number;
  /** Took longer than callTimeoutMs (also counted in `error`). */
  timedOut: number;
}

export interface PluginStats {
  readonly name: string;
  readonly hooks: Readonly<Partial<Record<HookName, Readonly<HookCounters>>>>;
}

/** The outcome of a chain: the last answer, and which plugin gave it when it was not OK. */
export interface CallOutcome {
  readonly result: PluginResult;
  readonly by?: string;
}

export interface PluginHostOptions {
  /** Searched in order for NAME.js, NAME.mjs or NAME/ (a package). */
  readonly pluginDirs: readonly string[];
  /** The helper API for one plugin (each gets its own, so that its log lines carry its name). */
  readonly api: (pluginName: string) => PluginApi;
  /** The host's own lines: loads, unloads, hook failures. `reason` groups them for rate limits. */
  readonly log?: (level: PluginLogLevel, reason: string, message: string) => void;
  /** Hooks this daemon does not run, with why: a plugin declaring one is refused. */
  readonly unsupportedHooks?: Readonly<Partial<Record<HookName, string>>>;
  /** The longest a hook's promise (or init, done) may take before it counts as ERROR; default 5000. */
  readonly callTimeoutMs?: number;
  /** How a module is imported (tests); default import(). */
  readonly importModule?: (url: string) => Promise<unknown>;
  /** Told after each load and unload (the data plane: which plugins the workers must load). */
  readonly onChange?: (plugins: readonly PluginInfo[]) => void;
}

interface Entry {
  readonly plugin: Plugin;
  readonly info: PluginInfo;
  readonly api: PluginApi;
  readonly counters: Map<HookName, HookCounters>;
  unloaded: boolean;
}

const TIMED_OUT: unique symbol = Symbol("timed out");

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === "object" || typeof v === "function") && v !== null && "then" in v && typeof v.then === "function";
}

/** A hook name as someone might misspell it ("preauth", "plugin_pre_auth", "preAuth"). */
function suggestHook(name: string): HookName | undefined {
  const norm = (s: string): string => s.toLowerCase().replace(/^plugin_/, "").replace(/[_-]/g, "");
  return HOOK_NAMES.find((h) => norm(h) === norm(name));
}

/** The file a plugin folder's package.json points at ("exports" ".", then "main"), else index.js. */
function packageEntry(dir: string): string {
  const pkgPath = join(dir, "package.json");
  if (!existsSync(pkgPath)) return join(dir, "index.js");
  let pkg: unknown;
  try {
    pkg = JSON.parse(readFileSync(pkgPath, "utf8"));
  } catch {
    return join(dir, "index.js");
  }
  const pick = (v: unknown): string | undefined => {
    if (typeof v === "string") return v;
    if (typeof v !== "object" || v === null) return undefined;
    if ("." in v) return pick(v["."]);
    if ("import" in v) return pick(v.import);
    if ("default" in v) return pick(v.default);
    return undefined;
  };
  if (typeof pkg === "object" && pkg !== null) {
    const fromExports = "exports" in pkg ? pick(pkg.exports) : undefined;
    const main = "main" in pkg && typeof pkg.main === "string" ? pkg.main : undefined;
    const entry = fromExports ?? main;
    if (entry !== undefined) return resolve(dir, entry);
  }
  return join(dir, "index.js");
}

type Located = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly code: "not-found" | "no-entry"; readonly message: string };

/** Where plugin `name` is: the first directory holding NAME.js, NAME.mjs or NAME/. */
export function locatePlugin(dirs: readonly string[], name: string): Located {
  for (const dir of dirs) {
    for (const file of [`${name}.js`, `${name}.mjs`]) {
      const p = join(dir, file);
      if (existsSync(p) && statSync(p).isFile()) return { ok: true, path: p };
    }
    const folder = join(dir, name);
    if (existsSync(folder) && statSync(folder).isDirectory()) {
      const entry = packageEntry(folder);
      if (existsSync(entry)) return { ok: true, path: entry };
      return { ok: false, code: "no-entry", message: `${folder} has no ${entry.slice(folder.length + 1)} (is the plugin built?)` };
    }
  }
  return { ok: false, code: "not-found", message: `no ${name}.js, ${name}.mjs or ${name}/ in ${dirs.length === 0 ? "(no plugin directory)" : dirs.join(", ")}` };
}

/**
 * The module's `plugin` export; a module Node took for CommonJS (a .js file with no package.json
 * saying "type": "module", or `exports.plugin = ...`) has it under `default`.
 */
function pluginExport(mod: unknown): unknown {
  if (typeof mod !== "object" || mod === null) return undefined;
  if ("plugin" in mod) return mod.plugin;
  const d: unknown = "default" in mod ? mod.default : undefined;
  return typeof d === "object" && d !== null && "plugin" in d ? d.plugin : undefined;
}

interface Problem {
  readonly code: PluginErrorCode;
  readonly text: string;
}

/**
 * Checks what a module exports as `plugin` against the contract; every problem is recorded.
 * A type guard: when it holds, `v` is a Plugin in every field the host relies on.
 */
export function checkPlugin(v: unknown, expectedName: string, problems: Problem[], unsupported: Readonly<Partial<Record<HookName, string>>> = {}): v is Plugin {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    problems.push({ code: "bad-shape", text: `'plugin' is ${describe(v)}, not an object` });
    return false;
  }
  const name: unknown = "name" in v ? v.name : undefined;
  if (typeof name !== "string") problems.push({ code: "bad-shape", text: `plugin.name is ${describe(name)}, not a string` });
  else if (name !== expectedName) problems.push({ code: "name-mismatch", text: `plugin.name is '${name}' but it was loaded as '${expectedName}'` });
  const version: unknown = "apiVersion" in v ? v.apiVersion : undefined;
  if (typeof version !== "number" || !Number.isInteger(version)) {
    problems.push({ code: "api-version", text: `plugin.apiVersion is ${describe(version)}, not an integer (this lnsd implements plugin API ${API_VERSION})` });
  } else if (version > API_VERSION || version < MIN_API_VERSION) {
    const range = MIN_API_VERSION === API_VERSION ? `${API_VERSION}` : `${MIN_API_VERSION} to ${API_VERSION}`;
    problems.push({ code: "api-version", text: `written for plugin API ${version}; this lnsd implements API ${range}` });
  }
  const hooks: unknown = "hooks" in v ? v.hooks : undefined;
  if (typeof hooks !== "object" || hooks === null || Array.isArray(hooks)) {
    problems.push({ code: "bad-shape", text: `plugin.hooks is ${describe(hooks)}, not an object of hook functions` });
  } else {
    for (const [hook, fn] of Object.entries(hooks)) {
      const value: unknown = fn;
      if (!isHookName(hook)) {
        const hint = suggestHook(hook);
        problems.push({ code: "unknown-hook", text: `unknown hook '${hook}'${hint === undefined ? "" : ` (did you mean '${hint}'?)`}; hooks are ${HOOK_NAMES.join(", ")}` });
        continue;
      }
      if (typeof value !== "function") problems.push({ code: "hook-not-function", text: `hook '${hook}' is ${describe(value)}, not a function` });
      const why = unsupported[hook];
      if (why !== undefined) problems.push({ code: "unsupported-hook", text: `hook '${hook}' is not run by this lnsd: ${why}` });
    }
  }
  const help: unknown = "controlHelp" in v ? v.controlHelp : undefined;
  if (help !== undefined && !(Array.isArray(help) && help.every((l) => typeof l === "string"))) {
    problems.push({ code: "bad-shape", text: `plugin.controlHelp is ${describe(help)}, not an array of strings` });
  }
  const description: unknown = "description" in v ? v.description : undefined;
  if (description !== undefined && typeof description !== "string") problems.push({ code: "bad-shape", text: `plugin.description is ${describe(description)}, not a string` });
  for (const f of ["init", "done"] as const) {
    const fn: unknown = f in v ? Reflect.get(v, f) : undefined;
    if (fn !== undefined && typeof fn !== "function") problems.push({ code: "bad-shape", text: `plugin.${f} is ${describe(fn)}, not a function` });
  }
  return problems.length === 0;
}

function newCounters(): HookCounters {
  return { calls: 0, ok: 0, stop: 0, error: 0, notMaster: 0, thrown: 0, invalid: 0, timedOut: 0 };
}

export class PluginHost {
  /** Loaded plugins, in load order. */
  private entries: Entry[] = [];
  private readonly loading = new Set<string>();
  /** How many loaded plugins declare each hook: `has()` is one lookup. */
  private readonly users = new Map<HookName, number>();
  private loads = 0;
  /** Loads refused (any code but already-loaded). */
  loadFailures = 0;

  constructor(private readonly o: PluginHostOptions) {}

  private log(level: PluginLogLevel, reason: string, text: string): void {
    try {
      this.o.log?.(level, reason, text);
    } catch {
      // A logger that throws must not take a hook chain down with it.
    }
  }

  private get timeoutMs(): number {
    return this.o.callTimeoutMs ?? 5000;
  }

  /** Whether any loaded plugin declares the hook: callers skip building parameters when not. */
  has(hook: HookName): boolean {
    return (this.users.get(hook) ?? 0) > 0;
  }

  /** Loaded plugin names, in load order. */
  names(): string[] {
    return this.entries.map((e) => e.info.name);
  }

  list(): PluginInfo[] {
    return this.entries.map((e) => e.info);
  }

  isLoaded(name: string): boolean {
    return this.entries.some((e) => e.info.name === name);
  }

  /** Each loaded plugin's control help lines, in load order (nsctl help). */
  helpLines(): string[] {
    return this.entries.flatMap((e) => e.info.controlHelp);
  }

  stats(): PluginStats[] {
    return this.entries.map((e) => ({ name: e.info.name, hooks: Object.fromEntries([...e.counters].map(([h, c]) => [h, { ...c }])) }));
  }

  private fail(name: string, code: PluginErrorCode, text: string): LoadResult {
    if (code !== "already-loaded" && code !== "loading") this.loadFailures++;
    this.log("error", "plugin-load", `Plugin load failed: ${name}: ${text}`);
    return { ok: false, code, message: text };
  }

  /** Finds, imports, checks and initialises plugin `name`, then appends it to the load order. */
  async load(name: string): Promise<LoadResult> {
    const bad = pluginNameProblem(name);
    if (bad !== undefined) return this.fail(name, "bad-name", bad);
    if (this.isLoaded(name)) return this.fail(name, "already-loaded", "plugin already loaded");
    if (this.loading.has(name)) return this.fail(name, "loading", "plugin is being loaded");
    this.loading.add(name);
    try {
      return await this.loadLocked(name);
    } finally {
      this.loading.delete(name);
    }
  }

  private async loadLocked(name: string): Promise<LoadResult> {
    const where = locatePlugin(this.o.pluginDirs, name);
    if (!where.ok) return this.fail(name, where.code, where.message);
    this.log("info", "plugin-load", `Loading plugin from ${where.path}`);
    // A fresh module instance each load, so that unload and load again starts the plugin anew.
    const url = `${pathToFileURL(where.path).href}?load=${++this.loads}`;
    let mod: unknown;
    try {
      mod = await (this.o.importModule ?? ((u: string): Promise<unknown> => import(u)))(url);
    } catch (e) {
      return this.fail(name, "import-failed", `${where.path}: ${message(e)}`);
    }
    const candidate = pluginExport(mod);
    if (candidate === undefined) {
      return this.fail(name, "no-export", `${where.path} exports no 'plugin' (a plugin module has \`export const plugin: Plugin = {...}\`)`);
    }
    const problems: Problem[] = [];
    if (!checkPlugin(candidate, name, problems, this.o.unsupportedHooks)) {
      const first = problems[0];
      return this.fail(name, first?.code ?? "bad-shape", `${where.path}: ${problems.map((p) => p.text).join("; ")}`);
    }
    const plugin = candidate;
    const api = this.o.api(name);
    if (plugin.init !== undefined) {
      try {
        const r = await this.timed(Promise.resolve(plugin.init(api)));
        if (r === TIMED_OUT) return this.fail(name, "init-failed", `init did not finish within ${this.timeoutMs} ms`);
      } catch (e) {
        return this.fail(name, "init-failed", `init failed: ${message(e)}`);
      }
    }
    if (this.isLoaded(name)) return this.fail(name, "already-loaded", "plugin already loaded");
    const hooks = HOOK_NAMES.filter((h) => plugin.hooks[h] !== undefined);
    const info: PluginInfo = {
      name,
      ...(plugin.description === undefined ? {} : { description: plugin.description }),
      apiVersion: plugin.apiVersion,
      hooks,
      path: where.path,
      controlHelp: [...(plugin.controlHelp ?? [])],
    };
    this.entries = [...this.entries, { plugin, info, api, counters: new Map(), unloaded: false }];
    for (const h of hooks) {
      this.users.set(h, (this.users.get(h) ?? 0) + 1);
      this.log("debug", "plugin-load", `   Supports function "${h}"`);
    }
    this.log("info", "plugin-load", `Loaded plugin ${name}${hooks.length === 0 ? "" : ` (${hooks.join(", ")})`}`);
    this.changed();
    return { ok: true, info };
  }

  /** Takes plugin `name` out of the load order, then calls its done. */
  async unload(name: string): Promise<UnloadResult> {
    const entry = this.entries.find((e) => e.info.name === name);
    if (entry === undefined) return { ok: false, code: "not-loaded", message: "plugin not loaded" };
    entry.unloaded = true;
    this.entries = this.entries.filter((e) => e !== entry);
    for (const h of entry.info.hooks) this.users.set(h, (this.users.get(h) ?? 1) - 1);
    this.changed();
    if (entry.plugin.done !== undefined) {
      try {
        const r = await this.timed(Promise.resolve(entry.plugin.done()));
        if (r === TIMED_OUT) this.log("warn", "plugin-unload", `plugin ${name}: done did not finish within ${this.timeoutMs} ms`);
      } catch (e) {
        this.log("error", "plugin-unload", `plugin ${name}: done failed: ${message(e)}`);
      }
    }
    this.log("info", "plugin-unload", `Removed plugin ${name}`);
    return { ok: true };
  }

  /** Every plugin, last loaded first (shutdown). */
  async unloadAll(): Promise<void> {
    for (const name of this.names().reverse()) await this.unload(name);
  }

  private changed(): void {
    try {
      this.o.onChange?.(this.list());
    } catch (e) {
      this.log("error", "plugin-change", `plugin change listener failed: ${message(e)}`);
    }
  }

  private async timed<T>(p: Promise<T>): Promise<T | typeof TIMED_OUT> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMED_OUT>((r) => {
      timer = setTimeout(() => { r(TIMED_OUT); }, this.timeoutMs);
    });
    try {
      return await Promise.race([p, timeout]);
    } finally {
      clearTimeout(timer);
      // A late rejection of an abandoned promise is not an unhandled one.
      p.catch(() => undefined);
    }
  }

  private counter(e: Entry, hook: HookName): HookCounters {
    let c = e.counters.get(hook);
    if (c === undefined) {
      c = newCounters();
      e.counters.set(hook, c);
    }
    return c;
  }

  /** Counts an answer; anything not a PluginResult is logged and becomes ERROR. */
  private settle(e: Entry, hook: HookName, c: HookCounters, r: unknown): PluginResult {
    if (!isPluginResult(r)) {
      c.invalid++;
      c.error++;
      this.log("error", `plugin-${e.info.name}-${hook}-invalid`, `plugin ${e.info.name}: ${hook} answered ${describe(r)} (${String(r)}), not a plugin result: taken as ERROR`);
      return PLUGIN_RET_ERROR;
    }
    switch (r) {
      case PLUGIN_RET_OK:
        c.ok++;
        break;
      case PLUGIN_RET_STOP:
        c.stop++;
        break;
      case PLUGIN_RET_ERROR:
        c.error++;
        break;
      case PLUGIN_RET_NOTMASTER:
        c.notMaster++;
        break;
      default: {
        const never: never = r;
        return never;
      }
    }
    return r;
  }

  private thrown(e: Entry, hook: HookName, c: HookCounters, err: unknown): PluginResult {
    c.thrown++;
    c.error++;
    this.log("error", `plugin-${e.info.name}-${hook}-threw`, `plugin ${e.info.name}: ${hook} threw: ${message(err)}: taken as ERROR`);
    return PLUGIN_RET_ERROR;
  }

  /** The loaded plugins that declare `hook`, in load order, as of now. */
  private chain(hook: HookName): Entry[] {
    return this.has(hook) ? this.entries.filter((e) => e.plugin.hooks[hook] !== undefined) : [];
  }

  /**
   * Runs `hook` in load order (l2tpns run_plugins): each plugin gets the same params object (so a
   * change one makes, the next sees); the first answer that is not OK ends the chain and is the
   * outcome. A plugin unloaded while the chain runs is skipped.
   */
  async call<H extends Exclude<HookName, PacketHookName>>(hook: H, params: HookParams[H]): Promise<CallOutcome> {
    for (const e of this.chain(hook)) {
      if (e.unloaded) continue;
      const fn = e.plugin.hooks[hook];
      if (fn === undefined) continue;
      const c = this.counter(e, hook);
      c.calls++;
      let result: PluginResult;
      try {
        const raw: unknown = fn(params, e.api);
        if (isThenable(raw)) {
          const r = await this.timed(Promise.resolve(raw));
          if (r === TIMED_OUT) {
            c.timedOut++;
            c.error++;
            this.log("error", `plugin-${e.info.name}-${hook}-timeout`, `plugin ${e.info.name}: ${hook} did not answer within ${this.timeoutMs} ms: taken as ERROR`);
            result = PLUGIN_RET_ERROR;
          } else {
            result = this.settle(e, hook, c, r);
          }
        } else {
          result = this.settle(e, hook, c, raw);
        }
      } catch (err) {
        result = this.thrown(e, hook, c, err);
      }
      if (result !== PLUGIN_RET_OK) return { result, by: e.info.name };
    }
    return { result: PLUGIN_RET_OK };
  }

  /** The synchronous runner for the packet hooks (a promise is an invalid answer there). */
  callPacket(hook: PacketHookName, params: HookParams[PacketHookName]): CallOutcome {
    if (!this.has(hook)) return { result: PLUGIN_RET_OK };
    for (const e of this.chain(hook)) {
      const fn = e.plugin.hooks[hook];
      if (fn === undefined) continue;
      const c = this.counter(e, hook);
      c.calls++;
      let result: PluginResult;
      try {
        result = this.settle(e, hook, c, fn(params, e.api));
      } catch (err) {
        result = this.thrown(e, hook, c, err);
      }
      if (result !== PLUGIN_RET_OK) return { result, by: e.info.name };
    }
    return { result: PLUGIN_RET_OK };
  }
}

/** Whether a plugin declares a packet hook (so it must also be loaded in the data workers). */
export function usesPacketHooks(info: PluginInfo): boolean {
  return info.hooks.some((h) => PACKET_HOOKS.includes(h));
}

