// An L2TP node: one UDP endpoint (port 1701 for an LNS), its tunnels in either role, id allocation,
// admission control and the demultiplexing of what arrives. Runs on the control thread.
import { randomBytes } from "node:crypto";
import * as wire from "@lnsd/wire";
import { CdnResultCode, decodeL2tpHeader, L2tpErrorCode, StopCcnResultCode, L2tpMessageType, type L2tpControlHeader, type L2tpDataHeader } from "@lnsd/wire";
import { epochMsOf, peerKey, systemClock, type Clock, type PeerAddress, type UdpEndpoint } from "@lnsd/io";
import { DEFAULT_L2TP_CONFIG, type L2tpConfig } from "./config.js";
import { IdAllocator } from "./ids.js";
import type { Session, SessionRecord } from "./session.js";
import { Tunnel, type LogLevel, type PlaceCallOptions, type TunnelHost, type TunnelRecord } from "./tunnel.js";

export interface L2tpNodeEvents {
  tunnelUp?(t: Tunnel): void;
  /** The tunnel is closing: StopCCN sent or received; its sessions are gone (see t.end). */
  tunnelClosing?(t: Tunnel): void;
  /** The tunnel left the tables (after StopCCN hold, a timeout, or replacement). */
  tunnelDown?(t: Tunnel): void;
  /** A session reached established (LNS: ICCN received; LAC: ICCN sent). */
  sessionUp?(t: Tunnel, s: Session): void;
  sessionDown?(t: Tunnel, s: Session): void;
  /** An L2TP data message for an established session: the PPP frame is packet[offset..offset+length). */
  data?(t: Tunnel, s: Session, packet: Buffer, header: L2tpDataHeader): void;
  log?(level: LogLevel, reason: string, message: string): void;
  /**
   * A tunnel rebuilt by restore(), its sessions inside in their recorded states. Instead of
   * tunnelUp and sessionUp: the owner rebuilds its side (PPP, data plane) from here.
   */
  tunnelRestored?(t: Tunnel): void;
  /**
   * A record changed (issue 13's journal): the tunnel's own (s undefined: state, Ns/Nr, queue) or
   * one session's. Read it with tunnelRecord/sessionRecord; one no longer in t.sessions (or a
   * tunnel no longer in `tunnels`) is gone. Fired before the output the change causes leaves, so
   * the owner can record it first (the output commit).
   */
  recordChanged?(t: Tunnel, s: Session | undefined): void;
}

/** The version of L2tpSnapshot's layout; restore() refuses any other. */
export const L2TP_SNAPSHOT_VERSION = 1;

/** Every tunnel of a node, sessions inside, as plain data (JSON.stringify-able as it is). */
export interface L2tpSnapshot {
  readonly version: number;
  /** Wall-clock epoch ms when it was taken. */
  readonly takenAt: number;
  readonly tunnels: readonly TunnelRecord[];
}

export interface L2tpNodeOptions {
  readonly config?: Partial<L2tpConfig>;
  readonly clock?: Clock;
  readonly random?: (n: number) => Buffer;
  readonly events?: L2tpNodeEvents;
  /**
   * Wall-clock epoch ms, for the deadlines in records (snapshot, restore). Defaults to Date.now
   * with the system clock, and to the clock's own now() with another clock (a fake clock is its
   * own wall clock, so tests stay deterministic).
   */
  readonly wallClock?: () => number;
}

function controlHeader(tunnelId: number, ns: number, nr: number, length: number): L2tpControlHeader {
  return { kind: "control", tunnelId, sessionId: 0, ns, nr, length, payloadOffset: 12, payloadLength: length - 12 };
}

function isEstablished(s: Session): boolean {
  return s.state === "established";
}

/** Data messages kept per session while its ICCN is still on the way. */
const EARLY_DATA_LIMIT = 8;

export class L2tpNode {
  private settings: L2tpConfig;
  readonly clock: Clock;
  readonly tunnels = new Map<number, Tunnel>();
  /** Drops and refusals by reason: `show counters`, metrics and tests read them. */
  readonly counters = new Map<string, number>();
  private tunnelIds = new IdAllocator();
  /** Tunnels by peer address and the peer's Assigned Tunnel ID: SCCRQ retransmissions and restarts. */
  private readonly byPeerTunnel = new Map<string, Tunnel>();
  private sessions = 0;
  /** Data that arrived for a call in wait-connect, delivered once it is established. */
  private readonly early = new Map<Session, { packet: Buffer; header: L2tpDataHeader }[]>();
  private sessionsInSetup = 0;
  private readonly events: L2tpNodeEvents;
  private readonly random: (n: number) => Buffer;
  private readonly host: TunnelHost;
  private readonly wallClock: () => number;

  constructor(
    readonly endpoint: UdpEndpoint,
    opts: L2tpNodeOptions = {},
  ) {
    this.settings = { ...DEFAULT_L2TP_CONFIG, ...opts.config };
    this.clock = opts.clock ?? systemClock;
    const clock = this.clock;
    this.wallClock = opts.wallClock ?? epochMsOf(clock);
    this.random = opts.random ?? randomBytes;
    this.events = opts.events ?? {};
    this.host = this.makeHost();
    endpoint.onMessage((p, from) => { this.receive(p, from); });
  }

  get config(): L2tpConfig {
    return this.settings;
  }

  /**
   * New settings (SIGHUP). They apply from now on: the secret and authentication to the next
   * message decoded and the next tunnel, limits to the next admission, timers when next armed;
   * a tunnel's reliable-delivery settings stay those it opened with.
   */
  reconfigure(change: Partial<L2tpConfig>): void {
    this.settings = { ...this.settings, ...change };
  }

  get sessionCount(): number {
    return this.sessions;
  }

  get sessionsInSetupCount(): number {
    return this.sessionsInSetup;
  }

  counter(name: string): number {
    return this.counters.get(name) ?? 0;
  }

  /** Every tunnel and its sessions as plain data, for a journal or another process (issue 13). */
  snapshot(): L2tpSnapshot {
    const offset = this.epochOffset();
    const tunnels: TunnelRecord[] = [];
    for (const t of this.tunnels.values()) if (t.state !== "closed") tunnels.push(t.record(offset));
    return { version: L2TP_SNAPSHOT_VERSION, takenAt: this.wallClock(), tunnels };
  }

  /**
   * Takes over the tunnels of a snapshot, before the node has any of its own (before the first
   * datagram). Each control channel continues with its Ns/Nr: unacknowledged messages are resent
   * when their retransmission is due (RFC 2661 5.8), HELLO keeps going, sessions stay in their
   * states. Nothing is sent to the peers and no up/down events fire: tunnelRestored fires once
   * per tunnel instead. Refused whole, with nothing changed, when the snapshot does not fit.
   */
  restore(snapshot: L2tpSnapshot): { ok: true; tunnels: number; sessions: number } | { ok: false; error: string } {
    if (snapshot.version !== L2TP_SNAPSHOT_VERSION) return { ok: false, error: `snapshot version ${String(snapshot.version)}, expected ${String(L2TP_SNAPSHOT_VERSION)}` };
    if (this.tunnels.size > 0) return { ok: false, error: "the node already has tunnels" };
    const ids = new Set<number>();
    for (const r of snapshot.tunnels) {
      if (r.localId < 1 || r.localId > 0xffff || ids.has(r.localId)) return { ok: false, error: `tunnel id ${String(r.localId)} invalid or used twice` };
      ids.add(r.localId);
      const sids = new Set(r.sessions.map((x) => x.localId));
      if (sids.size !== r.sessions.length || sids.has(0)) return { ok: false, error: `tunnel ${String(r.localId)}: a session id is 0 or used twice` };
    }
    const offset = this.epochOffset();
    const restored: Tunnel[] = [];
    for (const r of snapshot.tunnels) {
      if (r.state === "closed") continue;
      const t = Tunnel.fromRecord(this.host, r, offset);
      this.tunnels.set(t.localId, t);
      if (t.role === "lns" && t.openingSccrq !== undefined) this.byPeerTunnel.set(`${peerKey(t.address)}/${String(t.peerId)}`, t);
      for (const s of t.sessions.values()) {
        this.sessions++;
        if (s.inSetup || s.state === "idle") this.sessionsInSetup++;
      }
      restored.push(t);
    }
    this.tunnelIds = IdAllocator.withInUse(this.tunnels.keys());
    for (const t of restored) this.events.tunnelRestored?.(t);
    return { ok: true, tunnels: restored.length, sessions: this.sessions };
  }

  /**
   * One tunnel's record without its sessions (the journal writes them apart) and, withPackets
   * false, without the bytes of its queued control messages (messageNumbers, messagePacketHex).
   */
  tunnelRecord(t: Tunnel, withPackets = true): TunnelRecord {
    return t.headerRecord(this.epochOffset(), withPackets);
  }

  /** The Ns of a tunnel's control messages not yet acknowledged (in flight or waiting). */
  messageNumbers(t: Tunnel): number[] {
    return t.transport.messageNumbers();
  }

  /** The bytes (hex) of one of them. */
  messagePacketHex(t: Tunnel, ns: number): string | undefined {
    return t.transport.messagePacket(ns)?.toString("hex");
  }

  /** One session's record (see Tunnel.sessionRecord). */
  sessionRecord(t: Tunnel, s: Session): SessionRecord {
    return t.sessionRecord(s, this.epochOffset());
  }

  /** Epoch ms minus clock time: turns the clock's deadlines into wall-clock ones and back. */
  private epochOffset(): number {
    return this.wallClock() - this.clock.now();
  }

  /** LAC: opens a control connection to an LNS. */
  openTunnel(to: PeerAddress): Tunnel | undefined {
    if (this.tunnels.size >= this.config.maxTunnels) return undefined;
    const id = this.tunnelIds.allocate();
    if (id === undefined) return undefined;
    const t = new Tunnel(this.host, "lac", id, to);
    this.tunnels.set(id, t);
    t.open();
    return t;
  }

  /** LAC: places an incoming call in a tunnel opened with openTunnel. */
  placeCall(t: Tunnel, opts?: PlaceCallOptions): Session | undefined {
    return t.placeCall(opts);
  }

  /** StopCCN on every tunnel (SIGQUIT, or an orderly stop). */
  shutdown(message = "LNS shutting down"): void {
    for (const t of [...this.tunnels.values()]) t.stop(StopCcnResultCode.ShuttingDown, undefined, message);
  }

  /**
   * Forgets every tunnel at once, without a word to the peers, and closes the endpoint: for tests
   * and for process exit after shutdown(). Sessions and tunnels go down with their events.
   */
  close(): void {
    for (const t of [...this.tunnels.values()]) t.discard();
    this.endpoint.close();
  }

  /** One datagram from the network. Every path ends in a handler or a counted drop. */
  receive(packet: Buffer, from: PeerAddress): void {
    const h = decodeL2tpHeader(packet);
    if (!h.ok) {
      this.count(`bad-header:${h.error.code}`);
      this.log("debug", `bad-header:${h.error.code}`, `from ${peerKey(from)}: ${h.error.reason}`);
      return;
    }
    const header = h.value;
    if (header.kind === "data") {
      const t = this.tunnels.get(header.tunnelId);
      const s = t?.sessionFor(header.sessionId);
      if (t === undefined || s === undefined || (s.state !== "established" && s.state !== "wait-connect")) {
        this.count("data-unknown-session");
        return;
      }
      if (t.address.address !== from.address) {
        // Another host's packets never reach a tunnel's sessions.
        this.count("data-wrong-peer");
        return;
      }
      if (s.state === "wait-connect") {
        // The LAC may send PPP as soon as it has sent ICCN, and data is not sequenced with control
        // messages: the first LCP Configure-Request can overtake the ICCN. Keep a few frames until
        // the ICCN arrives rather than lose them (a lost ConfReq costs the client a 3 s restart).
        let q = this.early.get(s);
        if (q === undefined) {
          q = [];
          this.early.set(s, q);
        }
        if (q.length < EARLY_DATA_LIMIT) q.push({ packet: Buffer.from(packet), header });
        else this.count("data-before-iccn-dropped");
        return;
      }
      s.rxPackets++;
      this.events.data?.(t, s, packet, header);
      return;
    }
    if (header.tunnelId === 0) {
      this.onNewTunnel(packet, header.ns, from);
      return;
    }
    const t = this.tunnels.get(header.tunnelId);
    if (t === undefined) {
      this.count("control-unknown-tunnel");
      this.log("debug", "unknown-tunnel", `from ${peerKey(from)}: control message for unknown tunnel ${header.tunnelId}`);
      return;
    }
    if (t.address.address !== from.address || t.address.port !== from.port) {
      // RFC 2661 8.1: the recipient of the SCCRQ may answer from another port, which the initiator
      // follows; after that the ports "MUST remain static for the life of the tunnel". So only a
      // LAC waiting for SCCRP follows a new port; anything else from elsewhere is dropped.
      if (t.address.address !== from.address || t.role !== "lac" || t.state !== "wait-ctl-reply") {
        this.count("control-wrong-peer");
        this.log("debug", "wrong-peer", `from ${peerKey(from)}: control message for tunnel ${t.localId} of ${peerKey(t.address)}`);
        return;
      }
      (t as { address: PeerAddress }).address = from;
    }
    t.receive(packet, header);
    // Its Nr (what the peer sent) and its queue (what the peer acknowledged) may have moved with
    // no datagram of ours in this turn (the ZLB is delayed): the record follows now, so that the
    // state kept before any later output (a PPP frame, a RADIUS request) counts this message.
    this.events.recordChanged?.(t, undefined);
  }

  /** Sends an L2TP data message (already framed) to a session's peer. */
  sendData(t: Tunnel, packet: Buffer): void {
    this.endpoint.send(packet, t.address);
  }

  /**
   * Frames a PPP frame as an L2TP data message of session s (RFC 2661 3.1) and sends it; Ns and
   * the S bit as the session's data sequence says (RFC 2661 5.4).
   */
  sendPppFrame(t: Tunnel, s: Session, frame: Uint8Array): void {
    const ns = s.dataSequence.nextNs();
    this.sendData(t, wire.encodeL2tpDataMessage({ tunnelId: t.peerId, sessionId: s.peerId, ...(ns === undefined ? {} : { ns }) }, frame));
  }

  /** Tunnel ID 0: only an SCCRQ may open a tunnel (RFC 2661 5.1). */
  private onNewTunnel(packet: Buffer, ns: number, from: PeerAddress): void {
    // Peek the message type and Assigned Tunnel ID before committing state: a flood of junk
    // SCCRQs must cost a decode, not a tunnel.
    const { decodeControlMessage, getAvp, AvpType } = wire;
    const secret = this.config.secret;
    const r = decodeControlMessage(packet, secret === undefined ? {} : { secret });
    if (!r.ok) {
      this.count(`bad-sccrq:${r.error.code}`);
      this.log("info", `bad-sccrq:${r.error.code}`, `from ${peerKey(from)}: ${r.error.reason}`);
      this.refuseBadSccrq(packet, ns, from, r.error);
      return;
    }
    const msg = r.value;
    if (msg.messageType === "ZLB") {
      this.count("zlb-for-tunnel-0");
      return;
    }
    if (msg.messageType !== L2tpMessageType.SCCRQ) {
      this.count("non-sccrq-for-tunnel-0");
      return;
    }
    if (ns !== 0) {
      // RFC 2661 5.8: the first message of a control connection has Ns 0. Any other Ns would be
      // held for reordering, the tunnel would never leave idle, and its id would leak.
      this.count("sccrq-bad-ns");
      return;
    }
    const peerTunnelId = getAvp(msg, AvpType.AssignedTunnelId) ?? 0;
    const key = `${peerKey(from)}/${peerTunnelId}`;
    const existing = this.byPeerTunnel.get(key);
    if (existing !== undefined && existing.state !== "closed") {
      if (this.isRetransmittedSccrq(existing, packet)) {
        // RFC 2661 5.8: a retransmitted SCCRQ; the tunnel's transport acknowledges the duplicate.
        existing.receive(packet, controlHeader(existing.localId, ns, msg.nr, packet.length));
        return;
      }
      this.count("tunnel-replaced");
      this.log("info", "tunnel-replaced", `${peerKey(from)} reopened tunnel ${peerTunnelId}: replacing our tunnel ${existing.localId}`);
      existing.replace();
    }
    const id = this.tunnelIds.allocate();
    if (id === undefined) {
      this.count("sccrq-no-tunnel-id");
      return;
    }
    const t = new Tunnel(this.host, "lns", id, from);
    t.openingSccrq = Buffer.from(packet);
    this.tunnels.set(id, t);
    this.byPeerTunnel.set(key, t);
    if (this.tunnels.size > this.config.maxTunnels) {
      // RFC 2661 4.4.2: StopCCN, general error, "insufficient resources".
      this.count("sccrq-refused");
      t.refusal = { by: "local", resultCode: StopCcnResultCode.GeneralError, errorCode: L2tpErrorCode.InsufficientResources, message: "too many tunnels" };
    }
    t.receive(packet, controlHeader(id, ns, msg.nr, packet.length));
  }

  /**
   * RFC 2661 4.1: an SCCRQ that fails validation in a way that clears the tunnel (an unknown
   * mandatory AVP, a required AVP missing) is answered with StopCCN, when it names the peer's
   * Assigned Tunnel ID so that the answer can be addressed. The refusing tunnel holds its id only
   * for the StopCCN hold time; a flood of such SCCRQs is bounded by max_tunnels like any other.
   */
  private refuseBadSccrq(packet: Buffer, ns: number, from: PeerAddress, error: wire.WireError): void {
    const a = error.action;
    if (a.kind !== "stopccn" || ns !== 0) return;
    const mt = wire.peekControlAvp(packet, wire.AvpType.MessageType);
    if (mt?.length !== 2 || ((mt[0] ?? 0) << 8 | (mt[1] ?? 0)) !== L2tpMessageType.SCCRQ) return;
    const at = wire.peekControlAvp(packet, wire.AvpType.AssignedTunnelId);
    const peerTunnelId = at?.length === 2 ? ((at[0] ?? 0) << 8) | (at[1] ?? 0) : 0;
    if (peerTunnelId === 0) {
      this.answerUnaddressable(from, a.resultCode, a.errorCode, error.reason);
      return;
    }
    if (this.tunnels.size >= this.config.maxTunnels) return;
    const id = this.tunnelIds.allocate();
    if (id === undefined) return;
    const t = new Tunnel(this.host, "lns", id, from);
    this.tunnels.set(id, t);
    t.peerId = peerTunnelId;
    this.count("sccrq-refused-invalid");
    t.receive(packet, controlHeader(id, ns, 0, packet.length));
  }

  /**
   * An SCCRQ without a usable Assigned Tunnel ID names no tunnel to answer in, yet RFC 2661 4.1
   * wants it refused: one StopCCN to tunnel 0, acknowledging it (Nr 1), sent once and forgotten.
   * It has no Assigned Tunnel ID AVP, as we assign none; no state is kept, so a flood costs none.
   */
  private answerUnaddressable(from: PeerAddress, resultCode: number, errorCode: number | undefined, reason: string): void {
    this.count("sccrq-refused-unaddressable");
    const result = errorCode === undefined ? { resultCode } : { resultCode, errorCode, errorMessage: reason };
    const stop = wire.encodeControlMessage({ messageType: L2tpMessageType.StopCCN, tunnelId: 0, sessionId: 0, ns: 0, nr: 1, avps: { [wire.AvpType.ResultCode]: result } });
    this.endpoint.send(stop, from);
  }

  /**
   * The same bytes again, soon after: a retransmission (its Nr is 0 like the first). Anything else
   * with the same peer and Assigned Tunnel ID comes from a LAC that restarted.
   */
  private isRetransmittedSccrq(t: Tunnel, packet: Buffer): boolean {
    const first = t.openingSccrq;
    if (first === undefined || !first.equals(packet)) return false;
    const { retransmitCapMs, maxRetries } = this.config.reliable;
    return t.state === "wait-ctl-conn" || this.clock.now() - t.createdAt < retransmitCapMs * (maxRetries + 1);
  }

  private count(what: string): void {
    this.counters.set(what, (this.counters.get(what) ?? 0) + 1);
  }

  private log(level: LogLevel, reason: string, message: string): void {
    this.events.log?.(level, reason, message);
  }

  private makeHost(): TunnelHost {
    return {
      config: () => this.settings,
      clock: this.clock,
      random: (n) => this.random(n),
      transmit: (p, to, t) => {
        this.events.recordChanged?.(t, undefined);
        this.endpoint.send(p, to);
      },
      admitSession: () => {
        if (this.sessions >= this.config.maxSessions) {
          // RFC 2661 4.4.2: general error, error code 7 "try another": the LAC should use another LNS.
          return { resultCode: CdnResultCode.GeneralError, errorCode: L2tpErrorCode.TryAnother, message: "session limit reached, try another LNS" };
        }
        if (this.sessionsInSetup >= this.config.maxSessionsInSetup) {
          return { resultCode: CdnResultCode.NoFacilitiesTemporary, message: "too many sessions in setup, retry later" };
        }
        return undefined;
      },
      sessionAdded: (t, s) => {
        this.sessions++;
        if (s.inSetup || s.state === "idle") this.sessionsInSetup++;
        this.events.recordChanged?.(t, s);
      },
      sessionStateChanged: (t, s) => {
        this.events.recordChanged?.(t, s);
        if (s.state === "established") {
          this.sessionsInSetup--;
          this.events.sessionUp?.(t, s);
          const q = this.early.get(s);
          this.early.delete(s);
          for (const d of q ?? []) {
            // A handler may clear the call while these are delivered (a method call, so that the
            // compiler does not assume the state stays what the `if` above saw).
            if (!isEstablished(s)) break;
            s.rxPackets++;
            this.events.data?.(t, s, d.packet, d.header);
          }
        }
      },
      sessionRemoved: (t, s) => {
        this.events.recordChanged?.(t, s);
        this.early.delete(s);
        this.sessions--;
        const wasUp = s.history.some((h) => h.to === "established");
        if (!wasUp) this.sessionsInSetup--;
        this.events.sessionDown?.(t, s);
      },
      tunnelStateChanged: (t) => {
        this.events.recordChanged?.(t, undefined);
        if (t.state === "established") this.events.tunnelUp?.(t);
        else if (t.state === "closing") this.events.tunnelClosing?.(t);
      },
      tunnelFreed: (t) => {
        if (this.tunnels.get(t.localId) === t) {
          this.tunnels.delete(t.localId);
          this.tunnelIds.release(t.localId);
        }
        for (const [k, v] of this.byPeerTunnel) {
          if (v === t) {
            this.byPeerTunnel.delete(k);
            break;
          }
        }
        this.events.recordChanged?.(t, undefined);
        this.events.tunnelDown?.(t);
      },
      count: (what) => { this.count(what); },
      log: (level, reason, message) => { this.log(level, reason, message); },
    };
  }
}
