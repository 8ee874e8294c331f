// Test plumbing for the root tests that build a small network of namespaces: namespaces named with
// the test's prefix (removed in teardown), veth links with fixed MACs and permanent neighbours (no
// ARP on the path while a test counts packets), and child processes inside a namespace that talk
// JSON lines: the child prints {"key": value} lines, the test waits for a key and writes commands.
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";

import { until } from "./child-io.js";

export { until };

export const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };

/** `ip netns exec ns cmd args`, synchronously; its stdout. */
export function nsRun(ns: string, cmd: string, args: readonly string[], timeoutMs = 20_000): string {
  return execFileSync("ip", ["netns", "exec", ns, cmd, ...args], { encoding: "utf8", timeout: timeoutMs, env, stdio: ["ignore", "pipe", "pipe"] });
}

/** `ip netns exec ns cmd args`; resolves with its exit code and its output, stdout then stderr. */
export function nsRunAsync(ns: string, cmd: string, args: readonly string[], timeoutMs = 20_000): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn("ip", ["netns", "exec", ns, cmd, ...args], { env, stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs });
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.once("exit", (code) => { resolve({ code, out, err }); });
  });
}

export function ip(args: readonly string[]): void {
  execFileSync("ip", args, { env, stdio: ["ignore", "ignore", "pipe"] });
}

/** sysctl -w in a namespace. */
export function sysctl(ns: string, settings: readonly string[]): void {
  nsRun(ns, "sysctl", ["-qw", ...settings]);
}

/** A namespace with lo up, forwarding as asked, no reverse-path filter; deleted by `remove`. */
export function addNamespace(name: string, forwarding: boolean): void {
  ip(["netns", "add", name]);
  ip(["-n", name, "link", "set", "lo", "up"]);
  sysctl(name, [`net.ipv4.ip_forward=${forwarding ? 1 : 0}`, "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0"]);
}

export function removeNamespace(name: string): void {
  try {
    ip(["netns", "del", name]);
  } catch {
    // Already gone.
  }
}

export interface VethEnd {
  readonly ns: string;
  readonly dev: string;
  /** CIDR, e.g. 10.99.1.1/24. */
  readonly address: string;
  readonly mac: string;
}

/** A veth pair between two namespaces, addressed, up, each end with a permanent neighbour entry for the other. */
export function link(a: VethEnd, b: VethEnd): void {
  ip(["-n", a.ns, "link", "add", a.dev, "address", a.mac, "type", "veth", "peer", "name", b.dev, "address", b.mac, "netns", b.ns]);
  for (const [me, peer] of [[a, b], [b, a]] as const) {
    ip(["-n", me.ns, "addr", "add", me.address, "dev", me.dev]);
    ip(["-n", me.ns, "link", "set", me.dev, "up"]);
    ip(["-n", me.ns, "neigh", "replace", peer.address.split("/")[0] ?? "", "lladdr", peer.mac, "dev", me.dev, "nud", "permanent"]);
  }
}

/** A process in a namespace that speaks JSON lines on stdout and takes command lines on stdin. */
export interface LineChild {
  /** The value of the first line {key: value} not yet taken; rejects after timeoutMs or when the child exits first. */
  next<T>(key: string, timeoutMs: number): Promise<T>;
  /** One command line to the child's stdin. */
  send(line: string): void;
  /** stdout and stderr so far (the last 20,000 characters), for failure messages. */
  output(): string;
  readonly exited: Promise<number | null>;
  /** A signal (SIGKILL by default) if still running; resolves when it has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function spawnLineChild(ns: string, cmd: string, args: readonly string[]): LineChild {
  const p: ChildProcessWithoutNullStreams = spawn("ip", ["netns", "exec", ns, cmd, ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
  const pending: Record<string, unknown>[] = [];
  const wakers = new Set<() => void>();
  let partial = "";
  let log = "";
  const keep = (s: string): void => { log = (log + s).slice(-20_000); };
  p.stdout.on("data", (d: Buffer) => {
    const s = d.toString();
    keep(s);
    partial += s;
    const lines = partial.split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      if (!line.startsWith("{")) continue;
      try {
        pending.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // Not ours.
      }
    }
    for (const w of wakers) w();
  });
  p.stderr.on("data", (d: Buffer) => { keep(d.toString()); });
  p.stdin.on("error", () => undefined);
  // Should the test process end without its teardown, the child goes with it (SIGTERM: a child
  // that started processes of its own stops them on SIGTERM).
  const reap = (): void => { p.kill("SIGTERM"); };
  process.once("exit", reap);
  const exited = new Promise<number | null>((resolve) =>
    p.once("exit", (code) => {
      process.off("exit", reap);
      resolve(code);
      for (const w of wakers) w();
    }),
  );
  return {
    next: <T>(key: string, timeoutMs: number) =>
      new Promise<T>((resolve, reject) => {
        const look = (): void => {
          const i = pending.findIndex((m) => key in m);
          const m = pending[i];
          if (m !== undefined) {
            pending.splice(i, 1);
            done();
            resolve(m[key] as T);
          } else if (p.exitCode !== null || p.signalCode !== null) {
            done();
            reject(new Error(`${cmd} ${args.join(" ")} exited (${String(p.exitCode ?? p.signalCode)}) before saying ${key}:\n${log.slice(-4000)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${key} from ${args[0] ?? cmd} within ${timeoutMs} ms:\n${log.slice(-4000)}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          wakers.delete(look);
        };
        wakers.add(look);
        look();
      }),
    send: (line) => { p.stdin.write(`${line}\n`); },
    output: () => log,
    exited,
    kill: async (signal = "SIGKILL") => {
      if (p.exitCode === null && p.signalCode === null) p.kill(signal);
      await exited;
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** bin/lnsd running in a namespace, its log kept (the last part of it). */
export interface NsLnsd {
  /** What lnsd has logged so far (stdout and stderr). */
  log(): string;
  /** SIGQUIT (tear down), then SIGKILL if it lingers; resolves when it has exited. */
  stop(): Promise<void>;
  readonly exited: () => boolean;
  /** `signal` to lnsd's PID (SIGTERM keeps the sessions, SIGKILL is a crash); resolves when it has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

/**
 * Starts the compiled daemon (`entry`) in `ns` with the startup-config at `configPath`, and waits
 * until it listens for L2TP (or has exited). It is killed if the test process ends without stop().
 * `asInProduction`: without the NODE_OPTIONS that tap gives every child process (its process-info
 * loader hooks, which slow every import), for a test that times lnsd's start.
 */
export async function startLnsdIn(ns: string, entry: string, configPath: string, keepLogChars = 300_000, asInProduction = false): Promise<NsLnsd> {
  const command = [process.execPath, entry, "-c", configPath];
  const proc = spawn("ip", ["netns", "exec", ns, ...(asInProduction ? ["env", "-u", "NODE_OPTIONS", ...command] : command)], { stdio: ["ignore", "pipe", "pipe"], env });
  let out = "";
  const keep = (d: Buffer): void => { out = (out + d.toString()).slice(-keepLogChars); };
  proc.stdout.on("data", keep);
  proc.stderr.on("data", keep);
  const reap = (): void => { proc.kill("SIGKILL"); };
  process.once("exit", reap);
  const exited = new Promise<void>((r) =>
    proc.on("exit", () => {
      process.off("exit", reap);
      r();
    }),
  );
  const running = (): boolean => proc.exitCode === null && proc.signalCode === null;
  await until(() => out.includes("listening for L2TP") || !running(), 10_000);
  return {
    log: () => out,
    exited: () => !running(),
    kill: async (signal) => {
      if (running()) proc.kill(signal);
      await exited;
    },
    stop: async () => {
      if (running()) {
        proc.kill("SIGQUIT");
        await Promise.race([exited, sleep(5000)]);
      }
      if (running()) proc.kill("SIGKILL");
      await exited;
    },
  };
}

/** What a root test undoes at its end: pushed as it goes, run last first. */
export type Cleanups = (() => unknown)[];

/**
 * The namespaces of a root test, each added with lo up and its forwarding as given: the returned
 * list is undone last first in the test's teardown (a failure there is a comment, not an error),
 * and the namespaces are removed even if the process ends without its teardown.
 */
export function namespaceLab(t: { teardown(f: () => unknown): void; comment(message: string): void }, namespaces: readonly (readonly [name: string, forwarding: boolean])[]): Cleanups {
  const cleanups: Cleanups = [];
  t.teardown(async () => {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (e) {
        t.comment(`cleanup: ${String(e)}`);
      }
    }
  });
  process.once("exit", () => { for (const [ns] of namespaces) removeNamespace(ns); });
  for (const [ns, forwarding] of namespaces) {
    addNamespace(ns, forwarding);
    cleanups.push(() => { removeNamespace(ns); });
  }
  return cleanups;
}

/** The test FreeRADIUS (lib/radius-child) in a namespace, stopped by the cleanups; its auth port. */
export async function startRadiusChild(ns: string, node: string, script: string, secret: string, users: string, cleanups: Cleanups): Promise<{ child: LineChild; authPort: number }> {
  const child = spawnLineChild(ns, node, [script, secret, users]);
  cleanups.push(async () => {
    child.send("eof");
    await Promise.race([child.exited, sleep(6000)]);
    await child.kill("SIGTERM");
  });
  const { authPort } = await child.next<{ authPort: number }>("ready", 20_000);
  return { child, authPort };
}
