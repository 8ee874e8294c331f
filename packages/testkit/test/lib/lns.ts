// Test rig: an LNS L2tpNode on a real UDP socket on 127.0.0.1 (ephemeral port), with its events
// recorded, plus small helpers for waiting on real time.
import { openUdpEndpoint, type PeerAddress } from "@lnsd/io";
import { L2tpNode, type L2tpConfig, type L2tpNodeEvents, type Session, type Tunnel, type TunnelEnd } from "@lnsd/l2tp";

export interface TestLns {
  readonly node: L2tpNode;
  readonly address: PeerAddress;
  readonly events: L2tpNodeEvents;
  /** Sessions that reached established, in order. */
  readonly up: Session[];
  /** How each tunnel that left the tables ended. */
  readonly tunnelEnds: (TunnelEnd | undefined)[];
  readonly logs: string[];
  close(): void;
}

export async function startLns(config: Partial<L2tpConfig> = {}): Promise<TestLns> {
  const endpoint = await openUdpEndpoint("127.0.0.1", 0);
  const up: Session[] = [];
  const tunnelEnds: (TunnelEnd | undefined)[] = [];
  const logs: string[] = [];
  const events: L2tpNodeEvents = {
    sessionUp: (_t: Tunnel, s: Session) => { up.push(s); },
    tunnelDown: (t: Tunnel) => { tunnelEnds.push(t.end); },
    log: (level, reason, message) => {
      if (logs.length < 10_000) logs.push(`${level} ${reason}: ${message}`);
    },
  };
  const node = new L2tpNode(endpoint, { config: { hostName: "test-lns", ...config }, events });
  return { node, address: endpoint.local, events, up, tunnelEnds, logs, close: () => { node.close(); } };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls cond every stepMs until it holds (true) or timeoutMs passes (false). */
export async function until(cond: () => boolean, timeoutMs: number, stepMs = 10): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (cond()) return true;
    if (performance.now() >= deadline) return false;
    await sleep(stepMs);
  }
}

/** Sessions per state over all tunnels of a node. */
export function sessionStates(node: L2tpNode): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of node.tunnels.values()) for (const s of t.sessions.values()) out[s.state] = (out[s.state] ?? 0) + 1;
  return out;
}
