// The daemon's reloadable parts share one lifecycle (STYLE: BIRD's reconfigure): a reload is
// prepare (parse, validate, open new sockets: may fail, and then changes nothing) then commit
// (swap in, close the old). Control thread.
import type { StartupSettings } from "@lnsd/config";
import type { Logger } from "./log.js";

/** A prepared change: commit applies it, abort undoes what prepare opened. */
export type Prepared = { readonly ok: true; commit(): void; abort(): void } | { readonly ok: false; readonly errors: readonly string[] };

export interface Component {
  readonly name: string;
  prepare(next: StartupSettings): Promise<Prepared>;
}

/** Nothing to do for this reload. */
export const UNCHANGED: Prepared = { ok: true, commit: () => undefined, abort: () => undefined };

function addressInUse(e: unknown): boolean {
  return e instanceof Error && "code" in e && e.code === "EADDRINUSE";
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Every component's prepare, in order. When all succeed, one commit applies them all; when any
 * fails, what the others prepared is undone and the reload is refused with every reason.
 */
export async function prepareAll(components: readonly Component[], next: StartupSettings): Promise<{ ok: true; commit: () => void } | { ok: false; errors: string[] }> {
  const prepared: { commit(): void; abort(): void }[] = [];
  const errors: string[] = [];
  for (const c of components) {
    let r: Prepared;
    try {
      r = await c.prepare(next);
    } catch (e) {
      r = { ok: false, errors: [`${c.name}: ${message(e)}`] };
    }
    if (r.ok) prepared.push(r);
    else errors.push(...r.errors);
  }
  if (errors.length > 0) {
    for (const p of prepared) p.abort();
    return { ok: false, errors };
  }
  return { ok: true, commit: () => { for (const p of prepared) p.commit(); } };
}

/** How to make one listener (a socket or server) from the settings. */
export interface ListenerSpec<L> {
  readonly name: string;
  /** The settings it is made from, as text ("address:port"): a reload that changes it reopens it. */
  where(s: StartupSettings): string;
  port(s: StartupSettings): number;
  /** Opens it; undefined when the settings turn it off; throws when it cannot be had. */
  open(s: StartupSettings): Promise<L | undefined>;
  close(l: L): void;
  /** The log line once it is in use. */
  opened(l: L): string;
  /** Settings applied in place at commit, to the listener kept or the new one. */
  adopt?(l: L, next: StartupSettings): void;
}

/**
 * A listener as a component: prepare opens the new one only when its address or port changed (a
 * bind failure refuses the reload), commit closes the old one and keeps the new.
 */
export class Listener<L> implements Component {
  private constructor(
    private readonly spec: ListenerSpec<L>,
    private readonly logger: Logger,
    private settings: StartupSettings,
    private listener: L | undefined,
  ) {}

  private get where(): string {
    return this.spec.where(this.settings);
  }

  get name(): string {
    return this.spec.name;
  }

  get current(): L | undefined {
    return this.listener;
  }

  /** Opens it at start; lnsd runs on without it when it cannot be had (logged). */
  static async start<L>(spec: ListenerSpec<L>, settings: StartupSettings, logger: Logger): Promise<Listener<L>> {
    const where = spec.where(settings);
    let l: L | undefined;
    try {
      l = await spec.open(settings);
      if (l !== undefined) logger.log("info", spec.name, spec.opened(l));
    } catch (e) {
      logger.log("error", spec.name, `no ${spec.name} on ${where}: ${message(e)}`);
    }
    return new Listener(spec, logger, settings, l);
  }

  async prepare(next: StartupSettings): Promise<Prepared> {
    const where = this.spec.where(next);
    const adopt = (l: L | undefined): void => { if (l !== undefined) this.spec.adopt?.(l, next); };
    if (where === this.where) return { ok: true, commit: () => { adopt(this.listener); }, abort: () => undefined };
    let l: L | undefined;
    try {
      l = await this.spec.open(next);
    } catch (e) {
      if (this.listener !== undefined && this.spec.port(next) === this.spec.port(this.settings) && addressInUse(e)) return { ok: true, abort: () => undefined, commit: () => { this.moveAtCommit(next); } };
      return { ok: false, errors: [`${this.spec.name}: cannot listen on ${where}: ${message(e)}`] };
    }
    return {
      ok: true,
      abort: () => { if (l !== undefined) this.spec.close(l); },
      commit: () => {
        if (this.listener !== undefined) this.spec.close(this.listener);
        this.listener = l;
        this.settings = next;
        adopt(l);
        this.logger.log("info", this.spec.name, l === undefined ? `${this.spec.name} off` : this.spec.opened(l));
      },
    };
  }

  /**
   * Another address on the same port: Linux will not let a TCP listener on 0.0.0.0:P and one on
   * A:P (either way round) exist at once, so the old one is closed at commit and the new opened
   * then; when that fails the old one is opened again, and the error logged.
   */
  private moveAtCommit(next: StartupSettings): void {
    const old = this.settings;
    if (this.listener !== undefined) this.spec.close(this.listener);
    this.listener = undefined;
    this.settings = next;
    const reopen = async (s: StartupSettings): Promise<void> => {
      const l = await this.spec.open(s);
      if (this.settings !== s) {
        if (l !== undefined) this.spec.close(l);
        return;
      }
      this.listener = l;
      if (l !== undefined) {
        this.spec.adopt?.(l, s);
        this.logger.log("info", this.spec.name, this.spec.opened(l));
      }
    };
    void reopen(next).catch((e: unknown) => {
      this.logger.log("error", this.spec.name, `${this.spec.name}: cannot listen on ${this.spec.where(next)}: ${message(e)}: back on ${this.spec.where(old)}`);
      this.settings = old;
      return reopen(old);
    }).catch((e: unknown) => {
      this.logger.log("error", this.spec.name, `no ${this.spec.name} on ${this.spec.where(old)}: ${message(e)}`);
    });
  }

  stop(): void {
    if (this.listener !== undefined) this.spec.close(this.listener);
    this.listener = undefined;
  }
}
