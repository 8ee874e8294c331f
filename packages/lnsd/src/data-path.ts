// Between the session manager and the worker data plane: a session that comes online is published
// in the shared table (the workers forward its packets from then on), one that ends is withdrawn,
// and the workers' per-session counters are added into the session every second (accounting,
// Idle-Timeout and the CLI read them there). Control thread.
import type { CounterDelta, DataPlane, RecordPolicy } from "@lnsd/dataplane";
import { parseIpv4 } from "@lnsd/wire";
import type { Clock } from "@lnsd/io";
import type { Session, Tunnel } from "@lnsd/l2tp";
import type { PppServerSession, PppServerUpInfo } from "@lnsd/ppp";
import type { Logger } from "./log.js";

/**
 * What the data path reads of a session and the counters it adds into: the session manager's
 * Subscriber is one (kept apart so that this module does not import the session manager).
 */
export interface ForwardedSession {
  readonly tunnel: Tunnel;
  readonly l2tp: Session;
  readonly ppp: Pick<PppServerSession, "noteActivity">;
  readonly address?: number;
  readonly up?: Pick<PppServerUpInfo, "address" | "ipv6">;
  readonly nasPort: number;
  readonly throttle?: { readonly up: number; readonly down: number };
  readonly snoop?: { readonly address: number; readonly port: number };
  readonly filterIn?: string;
  readonly filterOut?: string;
  readonly garden?: boolean;
  rxPackets: number;
  txPackets: number;
  rxOctets: number;
  txOctets: number;
}

/** What the session manager tells the data path. */
export interface DataPath {
  /** IPCP is open and the session has its address: forward its traffic. */
  online(sub: ForwardedSession): void;
  /** An NCP opened or closed later (IPV6CP after IPCP, a renegotiation): what is forwarded follows. */
  update(sub: ForwardedSession): void;
  /** The session ends: stop forwarding (its last counters are added first). */
  offline(sub: ForwardedSession): void;
  /** The session's throttle, interception, filters or garden changed. */
  setPolicy(sub: ForwardedSession): void;
  /** Brings the session's counters up to date (before an accounting Stop). */
  sync(sub: ForwardedSession): void;
}

const HARVEST_MS = 1000;

export class WorkerDataPath implements DataPath {
  private readonly slots = new Map<ForwardedSession, number>();
  private readonly adopted = new Map<string, number>();
  private readonly delta: CounterDelta = { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, drops: 0 };

  constructor(
    readonly plane: DataPlane,
    clock: Clock,
    private readonly logger: Logger,
  ) {
    // Every second while lnsd runs (a session's last counters are taken as it ends, in offline()).
    const tick = (): void => {
      this.harvestAll();
      clock.setTimeout(tick, HARVEST_MS);
    };
    clock.setTimeout(tick, HARVEST_MS);
  }

  /**
   * Table entries another owner published for these sessions ("tunnel/session" -> slot): a cluster
   * slave's, from its replica, as it takes over. Each is replaced by the session's own entry as it
   * is restored (one after the other in the same call: its traffic is not interrupted); the rest
   * go with releaseAdopted().
   */
  adopt(slots: ReadonlyMap<string, number>): void {
    for (const [k, v] of slots) this.adopted.set(k, v);
  }

  releaseAdopted(): void {
    for (const slot of this.adopted.values()) this.plane.table.unpublish(slot);
    this.adopted.clear();
  }

  online(sub: ForwardedSession): void {
    if (sub.address === undefined) return;
    const key = `${String(sub.tunnel.localId)}/${String(sub.l2tp.localId)}`;
    const prior = this.adopted.get(key);
    if (prior !== undefined) {
      this.adopted.delete(key);
      this.plane.table.unpublish(prior);
    }
    const old = this.slots.get(sub);
    if (old !== undefined) {
      // IPCP again (renegotiation): publish afresh with what is current.
      this.add(sub, old);
      sub.l2tp.dataSequence.detach();
      this.plane.table.unpublish(old);
      this.slots.delete(sub);
    }
    const peerAddress = parseIpv4(sub.tunnel.address.address);
    if (peerAddress === undefined) {
      this.logger.log("warn", "dataplane-ipv6-lac", `session ${sub.tunnel.localId}/${sub.l2tp.localId}: the data plane forwards for IPv4 LACs only`);
      return;
    }
    const slot = this.plane.table.publish({
      localTunnelId: sub.tunnel.localId,
      localSessionId: sub.l2tp.localId,
      peerTunnelId: sub.tunnel.peerId,
      peerSessionId: sub.l2tp.peerId,
      peerAddress,
      peerPort: sub.tunnel.address.port,
      ipv4: sub.address,
      routes: [],
      sequencing: sub.l2tp.call.sequencingRequired === true,
      ipv4Up: sub.up?.address !== undefined,
      ipv6Up: sub.up?.ipv6 !== undefined,
      policy: this.policyOf(sub),
      sessionId: sub.nasPort,
    });
    if (slot < 0) {
      this.logger.log("error", "dataplane-full", `session ${sub.tunnel.localId}/${sub.l2tp.localId}: the session table is full (max_sessions): no traffic`);
      return;
    }
    this.slots.set(sub, slot);
    // RFC 2661 5.4: the control thread's frames take their Ns from the counter the workers share.
    sub.l2tp.dataSequence.attach(this.plane.table.dataSequence(slot));
  }

  update(sub: ForwardedSession): void {
    const slot = this.slots.get(sub);
    if (slot === undefined) this.online(sub);
    else this.plane.table.setUp(slot, sub.up?.address !== undefined, sub.up?.ipv6 !== undefined);
  }

  setPolicy(sub: ForwardedSession): void {
    const slot = this.slots.get(sub);
    if (slot !== undefined) this.plane.table.setPolicy(slot, this.policyOf(sub));
  }

  /** The session's policy as the workers read it; a filter naming no loaded list is left out (and said). */
  private policyOf(sub: ForwardedSession): RecordPolicy {
    const list = (name: string | undefined, dir: string): number | undefined => {
      if (name === undefined) return undefined;
      const i = this.plane.filters.indexOf(name);
      if (i < 0) this.logger.log("warn", "filter-unknown", `session ${sub.tunnel.localId}/${sub.l2tp.localId}: no access-list ${name} for its ${dir} filter: not filtered`);
      return i < 0 ? undefined : i;
    };
    const filterUp = list(sub.filterIn, "in");
    const filterDown = list(sub.filterOut, "out");
    return {
      ...(sub.throttle === undefined ? {} : { rateUp: sub.throttle.up, rateDown: sub.throttle.down }),
      ...(sub.snoop === undefined ? {} : { snoop: sub.snoop }),
      ...(filterUp === undefined ? {} : { filterUp }),
      ...(filterDown === undefined ? {} : { filterDown }),
      ...(sub.garden === true ? { garden: true } : {}),
    };
  }

  offline(sub: ForwardedSession): void {
    const slot = this.slots.get(sub);
    if (slot === undefined) return;
    this.add(sub, slot);
    this.slots.delete(sub);
    sub.l2tp.dataSequence.detach();
    this.plane.table.unpublish(slot);
  }

  sync(sub: ForwardedSession): void {
    const slot = this.slots.get(sub);
    if (slot !== undefined) this.add(sub, slot);
  }

  harvestAll(): void {
    for (const [sub, slot] of this.slots) this.add(sub, slot);
  }

  private add(sub: ForwardedSession, slot: number): void {
    const d = this.delta;
    this.plane.table.harvest(slot, d);
    sub.rxPackets += d.rxPackets;
    sub.rxOctets += d.rxBytes;
    // The subscriber sent something: PPP knows the link is alive (ppp_keepalive: no LCP Echo on a
    // busy link, and idle_echo_timeout counts from here).
    if (d.rxPackets > 0) sub.ppp.noteActivity();
    sub.txPackets += d.txPackets;
    sub.txOctets += d.txBytes;
  }
}
