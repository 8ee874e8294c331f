// Subscriber sessions: the PPP layer on top of each established L2TP session, authentication
// (local chap-secrets now, RADIUS next), address assignment from the pool, and the end of a
// session in both layers (CDN with the RFC 3145 PPP cause). Control thread.
import { randomBytes } from "node:crypto";
import { CdnResultCode, encodeL2tpDataMessage, formatIpv4, L2tpErrorCode, parseIpv4, type L2tpDataHeader } from "@lnsd/wire";
import type { Clock, L2tpNode, Session, Tunnel } from "@lnsd/l2tp";
import { PppServerSession, type AuthRequest, type AuthResult, type DisconnectCause, type PppServerConfig, type PppServerUpInfo } from "@lnsd/ppp";
import type { Logger } from "./log.js";
import type { AddressPool } from "./pool.js";

/** Checks credentials; the answer may carry an address the user must get (Framed-IP-Address). */
export interface Authenticator {
  authenticate(req: AuthRequest, call: { readonly callingNumber?: string; readonly calledNumber?: string }): Promise<{ ok: true; address?: number; primaryDns?: string; secondaryDns?: string } | { ok: false; message: string; error?: boolean }>;
}

/** Where subscribers' IP packets go and come from (the TUN device), when there is one. */
export interface PacketSink {
  toNetwork(packet: Uint8Array): void;
}

export interface Subscriber {
  readonly tunnel: Tunnel;
  readonly l2tp: Session;
  readonly ppp: PppServerSession;
  username?: string;
  /** IPv4 address, as a number, once assigned. */
  address?: number;
  up?: PppServerUpInfo;
  /** Why the session cannot go on when PPP ends (the L2TP CDN to send). */
  refusal?: { readonly resultCode: number; readonly errorCode?: number; readonly message: string };
  readonly startedAt: number;
  rxPackets: number;
  txPackets: number;
  rxOctets: number;
  txOctets: number;
}

export interface SessionManagerOptions {
  readonly node: L2tpNode;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly pool: AddressPool;
  readonly auth: Authenticator;
  readonly ppp: Partial<PppServerConfig>;
  readonly sink?: PacketSink;
  readonly random?: (n: number) => Uint8Array;
}

const PPP_IPV4 = 0x0021;

export class SessionManager {
  /** By the L2TP session object. */
  private readonly subscribers = new Map<Session, Subscriber>();
  /** Downstream lookup: IPv4 address to its session (the newest one wins, as in l2tpns). */
  private readonly byAddress = new Map<number, Subscriber>();
  private readonly random: (n: number) => Uint8Array;

  constructor(private readonly o: SessionManagerOptions) {
    this.random = o.random ?? randomBytes;
  }

  get count(): number {
    return this.subscribers.size;
  }

  /** Sessions whose PPP reached the network phase with an address. */
  get online(): number {
    return this.byAddress.size;
  }

  all(): IterableIterator<Subscriber> {
    return this.subscribers.values();
  }

  /** The L2TP session is established: start PPP over it (RFC 2661: the call now carries frames). */
  sessionUp(tunnel: Tunnel, l2tp: Session): void {
    // The PPP callbacks run only after start(), by which time `ref.sub` is set.
    const ref: { sub?: Subscriber } = {};
    const ppp = new PppServerSession({
      clock: this.o.clock,
      random: this.random,
      config: this.o.ppp,
      ...(l2tp.call.proxy === undefined ? {} : { proxy: l2tp.call.proxy }),
      send: (frame) => { if (ref.sub !== undefined) this.sendFrame(ref.sub, frame); },
      authenticate: (req) => (ref.sub === undefined ? Promise.resolve({ ok: false, error: true }) : this.authenticate(ref.sub, req)),
      log: (level, reason, message) => { this.o.logger.log(level, `ppp-${reason}`, `session ${tunnel.localId}/${l2tp.localId}: ${message}`); },
      events: {
        up: (info) => { if (ref.sub !== undefined) this.pppUp(ref.sub, info); },
        down: (cause) => { if (ref.sub !== undefined) this.pppDown(ref.sub, cause); },
        data: (protocol, payload) => { if (ref.sub !== undefined) this.upstream(ref.sub, protocol, payload); },
      },
    });
    const sub: Subscriber = { tunnel, l2tp, ppp, startedAt: this.o.clock.now(), rxPackets: 0, txPackets: 0, rxOctets: 0, txOctets: 0 };
    ref.sub = sub;
    this.subscribers.set(l2tp, sub);
    ppp.start();
  }

  /** An L2TP data message for a session: its PPP frame goes to the PPP layer. */
  data(_tunnel: Tunnel, l2tp: Session, packet: Buffer, header: L2tpDataHeader): void {
    const sub = this.subscribers.get(l2tp);
    if (sub === undefined) return;
    sub.ppp.receive(packet.subarray(header.payloadOffset, header.payloadOffset + header.payloadLength));
  }

  /** The L2TP session ended (CDN, StopCCN, timeout): PPP goes with it. */
  sessionDown(_tunnel: Tunnel, l2tp: Session): void {
    const sub = this.subscribers.get(l2tp);
    if (sub === undefined) return;
    sub.ppp.stop("lost-carrier");
    this.forget(sub);
  }

  /** A packet from the network for a subscriber's address: wrap it in PPP and L2TP. */
  downstream(packet: Uint8Array, dst: number): boolean {
    const sub = this.byAddress.get(dst);
    if (sub === undefined) return false;
    const frame = Buffer.allocUnsafe(4 + packet.length);
    frame[0] = 0xff;
    frame[1] = 0x03;
    frame.writeUInt16BE(PPP_IPV4, 2);
    frame.set(packet, 4);
    sub.txPackets++;
    sub.txOctets += packet.length;
    this.sendFrame(sub, frame);
    return true;
  }

  /** Ends a subscriber's session from our side (drop session, DAE, timeouts). */
  drop(sub: Subscriber, message: string): void {
    sub.ppp.close("admin-reset", message);
  }

  private sendFrame(sub: Subscriber, frame: Buffer): void {
    const { tunnel, l2tp } = sub;
    if (l2tp.state !== "established") return;
    this.o.node.sendData(tunnel, encodeL2tpDataMessage({ tunnelId: tunnel.peerId, sessionId: l2tp.peerId }, frame));
  }

  private async authenticate(sub: Subscriber, req: AuthRequest): Promise<AuthResult> {
    sub.username = req.username;
    const r = await this.o.auth.authenticate(req, sub.l2tp.call);
    if (!r.ok) return r.error === true ? { ok: false, message: r.message, error: true } : { ok: false, message: r.message };
    if (this.subscribers.get(sub.l2tp) !== sub) return { ok: false, message: "session gone" };
    const a = this.o.pool.allocate(req.username, r.address);
    if (!a.ok) {
      if (a.reason === "exhausted") {
        // No address to give: tell the LAC to try another LNS (RFC 2661 4.4.2, CDN 2/7).
        sub.refusal = { resultCode: CdnResultCode.GeneralError, errorCode: L2tpErrorCode.TryAnother, message: "address pool exhausted" };
        return { ok: false, message: "no address available" };
      }
      // The address is someone else's: as l2tpns, the newer login takes it from the older.
      const holder = this.byAddress.get(a.address);
      if (holder !== undefined) this.drop(holder, `address ${formatIpv4(a.address)} taken by a newer login of ${req.username}`);
      this.o.pool.release(a.address);
      const again = this.o.pool.allocate(req.username, r.address);
      if (!again.ok) return { ok: false, message: "address in use" };
      sub.address = again.address;
    } else {
      sub.address = a.address;
    }
    return {
      ok: true,
      address: formatIpv4(sub.address),
      ...(r.primaryDns === undefined ? {} : { primaryDns: r.primaryDns }),
      ...(r.secondaryDns === undefined ? {} : { secondaryDns: r.secondaryDns }),
    };
  }

  private pppUp(sub: Subscriber, info: PppServerUpInfo): void {
    sub.up = info;
    const addr = info.address === undefined ? sub.address : parseIpv4(info.address);
    if (addr !== undefined) {
      sub.address = addr;
      this.byAddress.set(addr, sub);
    }
    this.o.logger.log("info", "session-online", `session ${sub.tunnel.localId}/${sub.l2tp.localId} ${info.username} online, address ${info.address ?? "-"} (${info.authProtocol})`);
  }

  private pppDown(sub: Subscriber, cause: DisconnectCause): void {
    this.o.logger.log("info", "session-offline", `session ${sub.tunnel.localId}/${sub.l2tp.localId} ${sub.username ?? "-"} offline: ${cause.reason} (${cause.message})`);
    const refusal = sub.refusal;
    // RFC 2661 5.7 / RFC 3145: the CDN says why PPP ended.
    if (sub.l2tp.state !== "closed") {
      if (refusal !== undefined) sub.tunnel.clearSession(sub.l2tp, refusal.resultCode, refusal.errorCode, refusal.message, cause.ppp);
      else sub.tunnel.clearSession(sub.l2tp, CdnResultCode.Administrative, undefined, cause.message, cause.ppp);
    }
    this.forget(sub);
  }

  private upstream(sub: Subscriber, protocol: number, payload: Uint8Array): void {
    if (protocol !== PPP_IPV4 || this.o.sink === undefined) return;
    // Anti-spoofing (l2tpns: unless disable_no_spoof): a session sends only from its own address.
    if (payload.length < 20 || sub.address === undefined) return;
    const src = (((payload[12] ?? 0) << 24) >>> 0) + ((payload[13] ?? 0) << 16) + ((payload[14] ?? 0) << 8) + (payload[15] ?? 0);
    if (src !== sub.address) return;
    sub.rxPackets++;
    sub.rxOctets += payload.length;
    this.o.sink.toNetwork(payload);
  }

  private forget(sub: Subscriber): void {
    if (this.subscribers.get(sub.l2tp) !== sub) return;
    this.subscribers.delete(sub.l2tp);
    if (sub.address !== undefined) {
      if (this.byAddress.get(sub.address) === sub) this.byAddress.delete(sub.address);
      this.o.pool.release(sub.address);
    }
  }
}
