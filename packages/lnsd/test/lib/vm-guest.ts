// What the vm-lac tests (vm-lac.root.test, vm-lac-cluster.root.test) share: the guest console's
// sections, and a busybox ping of the client's PPP address that records when each reply came.
import { spawn } from "node:child_process";

/** A section of the guest's console: VMLAC-BEGIN name ... VMLAC-END name. */
export function guestLog(console: string, name: string): string {
  const m = new RegExp(`^VMLAC-BEGIN ${name.replace(".", "\\.")}\\n([\\s\\S]*?)^VMLAC-END ${name.replace(".", "\\.")}$`, "m").exec(console);
  return m?.[1] ?? "";
}

export interface ReplyLog {
  /** ICMP sequence number -> when its first reply came (epoch ms). */
  readonly replies: Map<number, number>;
  /** SIGINT, and resolves once ping has exited. */
  stop(): Promise<void>;
}

/** busybox ping from namespace `ns` to `address` every `intervalS`, each reply's time recorded. */
export function pingFrom(ns: string, address: string, intervalS: number): ReplyLog {
  const replies = new Map<number, number>();
  const ping = spawn("ip", ["netns", "exec", ns, "busybox", "ping", "-i", String(intervalS), address], { stdio: ["ignore", "pipe", "pipe"] });
  const done = new Promise<void>((r) => ping.on("exit", () => { r(); }));
  let partial = "";
  ping.stdout.on("data", (d: Buffer) => {
    const lines = (partial + d.toString()).split("\n");
    partial = lines.pop() ?? "";
    for (const l of lines) {
      const seq = /bytes from .* seq=(\d+)/.exec(l)?.[1];
      if (seq !== undefined && !replies.has(Number(seq))) replies.set(Number(seq), Date.now());
    }
  });
  return {
    replies,
    stop: async () => {
      if (ping.exitCode === null && ping.signalCode === null) ping.kill("SIGINT");
      await done;
    },
  };
}

/**
 * pppd's and xl2tpd's logs from the guest's console (console.txt), each cut at the client's own
 * teardown at the end of its hold: pppd's SIGTERM, then xl2tpd's CDN and StopCCN.
 */
export function clientLogs(consoleText: string): { pppdSession: string; pppdTeardown: string; xl2tpdSession: string } {
  const [pppdSession = "", pppdTeardown = ""] = guestLog(consoleText, "pppd.log").split(/^Terminating on signal 15\.?$/m);
  const [xl2tpdSession = ""] = guestLog(consoleText, "xl2tpd.log").split(/^.*child_handler : pppd exited.*$/m);
  return { pppdSession, pppdTeardown, xl2tpdSession };
}
