// The cluster transport in memory, for in-process tests: nodes on one MemoryClusterNetwork see each
// other's multicast and open streams to each other; every frame is delivered through `schedule`
// (a fake clock's timer), and a test can cut a node off (partition) or kill it (nothing more in or
// out). Frames are copied, as a network would.
import type { ClusterTransport, StreamLink } from "./transport.js";

interface MemoryNode {
  /** While set, what arrives for the node waits here (a stopped process: SIGSTOP). */
  paused: (() => void)[] | undefined;
  multicast: ((frame: Buffer, from: string) => void) | undefined;
  listen: ((link: StreamLink) => void) | undefined;
  dead: boolean;
  readonly links: Set<MemoryLink>;
}

class MemoryLink implements StreamLink {
  other: MemoryLink | undefined;
  private frameHandler: (frame: Buffer) => void = () => undefined;
  private closeHandler: (why: string) => void = () => undefined;
  closed = false;
  pendingBytes = 0;

  constructor(
    readonly remote: string,
    private readonly owner: MemoryNode,
    private readonly net: MemoryClusterNetwork,
  ) {
    owner.links.add(this);
  }

  send(frame: Buffer): boolean {
    if (this.closed) return false;
    const other = this.other;
    const copy = Buffer.from(frame);
    this.net.schedule(() => {
      if (other === undefined || other.closed || this.net.cut(this.remote, other.remote)) return;
      other.deliver(() => { if (!other.closed) other.frameHandler(copy); });
    });
    return true;
  }

  onFrame(h: (frame: Buffer) => void): void {
    this.frameHandler = h;
  }

  onClose(h: (why: string) => void): void {
    this.closeHandler = h;
  }

  close(): void {
    this.end("closed here");
    const other = this.other;
    if (other !== undefined) this.net.schedule(() => { other.end("closed by the other end"); });
  }

  /** Runs fn now, or when the owning node runs again. */
  deliver(fn: () => void): void {
    if (this.owner.paused === undefined) fn();
    else this.owner.paused.push(fn);
  }

  end(why: string): void {
    if (this.closed) return;
    this.closed = true;
    this.owner.links.delete(this);
    this.closeHandler(why);
  }
}

export class MemoryClusterNetwork {
  private readonly nodes = new Map<string, MemoryNode>();
  /** Pairs "a|b" that cannot reach each other (both ways). */
  private readonly partitions = new Set<string>();
  /** Pairs whose multicast is lost (a filter, IGMP snooping) while their streams work. */
  private readonly multicastCuts = new Set<string>();

  constructor(readonly schedule: (fn: () => void) => void) {}

  cut(a: string, b: string): boolean {
    return this.partitions.has(`${a}|${b}`) || this.partitions.has(`${b}|${a}`);
  }

  /** a and b no longer reach each other (true) or do again (false); "multicast": only multicast is lost. */
  partition(a: string, b: string, cut: boolean, what: "all" | "multicast" = "all"): void {
    const set = what === "all" ? this.partitions : this.multicastCuts;
    if (cut) set.add(`${a}|${b}`);
    else {
      set.delete(`${a}|${b}`);
      set.delete(`${b}|${a}`);
    }
  }

  private multicastCut(a: string, b: string): boolean {
    return this.cut(a, b) || this.multicastCuts.has(`${a}|${b}`) || this.multicastCuts.has(`${b}|${a}`);
  }

  /** SIGSTOP (true) and SIGCONT (false): while stopped, what arrives for the node waits. */
  pause(address: string, stopped: boolean): void {
    const n = this.nodes.get(address);
    if (n === undefined) return;
    if (stopped) {
      n.paused ??= [];
      return;
    }
    const waiting = n.paused ?? [];
    n.paused = undefined;
    for (const fn of waiting) fn();
  }

  /** kill -9: nothing more from or to the node; its streams stay half-open as TCP would until reset. */
  kill(address: string): void {
    const n = this.nodes.get(address);
    if (n === undefined) return;
    n.dead = true;
    // The peers' ends see a reset (the kernel closes a dead process's sockets).
    for (const l of [...n.links]) l.close();
    this.nodes.delete(address);
  }

  transport(self: string): ClusterTransport {
    const node: MemoryNode = { paused: undefined, multicast: undefined, listen: undefined, dead: false, links: new Set() };
    this.nodes.set(self, node);
    return {
      self,
      multicast: (frame) => {
        if (node.dead) return;
        const copy = Buffer.from(frame);
        for (const [addr, other] of this.nodes) {
          if (addr === self || other.dead || this.multicastCut(self, addr)) continue;
          this.schedule(() => {
            if (other.dead || this.multicastCut(self, addr)) return;
            const fn = (): void => { other.multicast?.(copy, self); };
            if (other.paused === undefined) fn();
            else other.paused.push(fn);
          });
        }
      },
      onMulticast: (h) => { node.multicast = h; },
      listen: (onLink) => {
        node.listen = onLink;
        return Promise.resolve(32792);
      },
      connect: (address) => {
        const mine = new MemoryLink(address, node, this);
        const target = this.nodes.get(address);
        this.schedule(() => {
          if (target === undefined || target.dead || target.listen === undefined || this.cut(self, address)) {
            mine.end("connection refused");
            return;
          }
          const theirs = new MemoryLink(self, target, this);
          mine.other = theirs;
          theirs.other = mine;
          const listen = target.listen;
          theirs.deliver(() => { listen(theirs); });
        });
        // Frames sent before the connection is made wait for it.
        const send = mine.send.bind(mine);
        const early: Buffer[] = [];
        mine.send = (frame) => {
          if (mine.other === undefined && !mine.closed) {
            early.push(Buffer.from(frame));
            this.schedule(() => { if (mine.other !== undefined) for (const f of early.splice(0)) send(f); });
            return true;
          }
          return send(frame);
        };
        return mine;
      },
      close: () => { this.kill(self); },
    };
  }
}
