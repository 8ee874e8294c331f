// The control loop's guard and watch. Every entry point that outside input reaches (L2TP datagrams,
// RADIUS replies, DAE, nsctl, the CLI's backend, timers) runs through `call`: a throw there drops
// that one input, is counted by site and logged (rate-limited), and never ends the process. Each
// call is timed; a sampler measures how late the event loop turns (a Prometheus histogram) and logs
// a turn held up for more than 100 ms, naming the handler that ran longest in it. Control thread.
import { epochMsOf, type Clock, type PeerAddress, type UdpEndpoint, type UdpEndpointFactory } from "@lnsd/io";
import type { Logger } from "./log.js";

/** Where input enters the control loop. */
export type WatchSite = "l2tp" | "radius" | "dae" | "nsctl" | "cli" | "timer" | "process";

/** A turn of the event loop later than this is logged. */
export const SLOW_TURN_MS = 100;

export class LoopWatch {
  /** Inputs dropped after a throw, by site. */
  readonly errors = new Map<WatchSite, number>();
  /** Told of each sampled lag, in seconds (the metrics' histogram). */
  onLag: ((seconds: number) => void) | undefined;
  /** The longest handler since the last sample. */
  private longest: { site: WatchSite; ms: number } | undefined;
  private sampler: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Runs f for one input; a throw (or a rejected promise) is contained to it. */
  call<T>(site: WatchSite, f: () => T): T | undefined {
    const start = this.now();
    try {
      const r = f();
      if (r instanceof Promise) r.catch((e: unknown) => { this.fault(site, e); });
      return r;
    } catch (e) {
      this.fault(site, e);
      return undefined;
    } finally {
      const ms = this.now() - start;
      if (this.longest === undefined || ms > this.longest.ms) this.longest = { site, ms };
    }
  }

  /** f, contained and timed under `site`. */
  wrap<A extends unknown[]>(site: WatchSite, f: (...args: A) => unknown): (...args: A) => void {
    return (...args: A): void => { this.call(site, () => f(...args)); };
  }

  fault(site: WatchSite, e: unknown): void {
    this.errors.set(site, (this.errors.get(site) ?? 0) + 1);
    const message = e instanceof Error ? e.message : String(e);
    this.logger.log("error", `handler-error-${site}`, `${site}: one input dropped after an internal error: ${message} (lnsd carries on; please report this with the debug log)`);
    if (e instanceof Error && e.stack !== undefined) this.logger.log("debug", `handler-stack-${site}`, e.stack);
  }

  /** An endpoint (L2TP's by default) whose datagrams are handled under the watch. */
  endpoint(endpoint: UdpEndpoint, site: WatchSite = "l2tp"): UdpEndpoint {
    return {
      local: endpoint.local,
      send: (packet, to) => { endpoint.send(packet, to); },
      onMessage: (h) => { endpoint.onMessage((packet: Buffer, from: PeerAddress) => { this.call(site, () => { h(packet, from); }); }); },
      close: () => { endpoint.close(); },
    };
  }

  /** Endpoints bound for RADIUS (client or DAE) whose datagrams are handled under the watch. */
  udp(factory: UdpEndpointFactory, site: WatchSite): UdpEndpointFactory {
    return { bind: async (address, port) => this.endpoint(await factory.bind(address, port), site) };
  }

  /** A clock whose timers fire under the watch. */
  clock(clock: Clock): Clock {
    return {
      now: () => clock.now(),
      setTimeout: (fn, ms) => clock.setTimeout(() => { this.call("timer", fn); }, ms),
      epochMs: epochMsOf(clock),
    };
  }

  /** Samples the event loop's lag every intervalMs until stop(). */
  start(intervalMs = 20): void {
    this.stop();
    let expected = this.now() + intervalMs;
    this.sampler = setInterval(() => {
      const t = this.now();
      const lagMs = Math.max(0, t - expected);
      expected = t + intervalMs;
      this.onLag?.(lagMs / 1000);
      if (lagMs > SLOW_TURN_MS) {
        const l = this.longest;
        const what = l === undefined || l.ms < 1 ? "no watched handler ran long (start-up, garbage collection or an unwatched task)" : `the longest handler was ${l.site}, ${Math.round(l.ms)} ms`;
        this.logger.log("warn", "control-loop-slow", `control loop held up for ${Math.round(lagMs)} ms: ${what}`);
      }
      this.longest = undefined;
    }, intervalMs);
    this.sampler.unref();
  }

  stop(): void {
    if (this.sampler !== undefined) clearInterval(this.sampler);
    this.sampler = undefined;
  }
}
