// The child side of netns.ts's LineChild: JSON lines out, command lines in (stdin closing means
// stop), and what the kernel counted as dropped on a UDP socket of this namespace.
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";

export function emit(key: string, value: unknown): void {
  process.stdout.write(JSON.stringify({ [key]: value }) + "\n");
}

/** Calls `handle` with each command line, one at a time; `handle("eof")` when stdin closes. */
export function commands(handle: (words: string[]) => Promise<void>): void {
  const rl = createInterface({ input: process.stdin });
  let chain = Promise.resolve();
  const run = (words: string[]): void => {
    chain = chain.then(() => handle(words)).catch((e: unknown) => {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(2);
    });
  };
  rl.on("line", (line) => { run(line.trim().split(/\s+/)); });
  rl.on("close", () => { run(["eof"]); });
}

/** /proc/net/udp's drops column for the socket bound to `port` (0 when there is none). */
export function udpDrops(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  for (const line of readFileSync("/proc/net/udp", "utf8").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1]?.endsWith(`:${hex}`) === true) return Number(f[12] ?? 0);
  }
  return 0;
}

export async function until(cond: () => boolean, ms: number, stepMs = 25): Promise<boolean> {
  for (let waited = 0; waited < ms && !cond(); waited += stepMs) await new Promise((r) => setTimeout(r, stepMs));
  return cond();
}
