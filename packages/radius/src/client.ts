// The RADIUS client of the LNS: Access-Request (PAP, CHAP) and Accounting-Request over UDP to a
// primary and a secondary server, with retransmission, failover and dead-server back-off, and as
// many source ports as the number of requests in flight needs (256 identifiers per socket).
// Replies are believed only when they authenticate; everything else is dropped, counted and
// reported through onEvent for a rate-limited log line. Runs on the control thread.
import { randomBytes as cryptoRandomBytes } from "node:crypto";
import { nodeUdp, peerKey, systemClock, type Clock, type PeerAddress, type TimerHandle, type UdpEndpoint, type UdpEndpointFactory } from "@lnsd/io";
import { accessRequestAttributes, accountingAttributes, Attr, Code, codeName, decodePacket, parseAuthReply, signRequest, verifyResponse, type AccessRequestInput, type AccountingRecord, type AuthReply, type NasIdentity, type Secret } from "./codec/index.js";

export interface RadiusServer {
  readonly address: string;
  readonly authPort: number;
  readonly acctPort: number;
}

export interface RadiusClientOptions {
  /** In order of preference: primary first. */
  readonly servers: readonly RadiusServer[];
  readonly secret: Secret;
  readonly nas: NasIdentity;
  /**
   * Local address of the client sockets. Default: unspecified, so that each datagram leaves from
   * the address the kernel picks for the route to the server, as l2tpns does (radius_bind_address).
   */
  readonly bindAddress?: string;
  /**
   * RFC 3579 3.2 / BlastRADIUS (CVE-2024-3596): whether an Access-Accept, -Reject or -Challenge
   * must carry a Message-Authenticator (radius_require_message_authenticator). "auto", the
   * default: required from a server once that server has sent one, as FreeRADIUS 3.2.5+ treats
   * its home servers. Whatever the setting, one that is present must verify.
   */
  readonly requireMessageAuthenticator?: MessageAuthenticatorPolicy;
  /** radius_bind_min and radius_bind_max: the local ports to bind from; 0 lets the system choose. */
  readonly bindPortMin?: number;
  readonly bindPortMax?: number;
  /** Sockets at most (l2tpns's RADIUS_FDS is 64): 256 requests in flight each. */
  readonly maxSockets?: number;
  /** Wait for a reply before sending again, per try. Default 3000 ms. */
  readonly timeoutMs?: number;
  /** Sends to one server before moving to the next. Default 3. */
  readonly tries?: number;
  /** How long a server that stopped answering is left alone. Default 60 s. */
  readonly deadTimeMs?: number;
  /** Sends of one accounting record, all servers together, before giving it up. Default 12. */
  readonly acctMaxTries?: number;
  /** Accounting waits double per retransmission up to this. Default 30 s. */
  readonly acctMaxTimeoutMs?: number;
  /** Requests waiting for a free identifier; more are refused at once. Default 65536. */
  readonly maxQueued?: number;
  readonly clock?: Clock;
  readonly udp?: UdpEndpointFactory;
  readonly randomBytes?: (n: number) => Buffer;
  /** Wall-clock time for Event-Timestamp, ms since 1970. */
  readonly wallClockMs?: () => number;
  readonly onEvent?: (e: RadiusClientEvent) => void;
}

export type MessageAuthenticatorPolicy = "auto" | "yes" | "no";

/** Real sockets for RADIUS (client and DAE): 1 MiB receive buffers, so that a burst of replies (a LAC reboot brings thousands of logins at once) does not overflow. */
export const radiusUdp: UdpEndpointFactory = nodeUdp({ recvBufferBytes: 1 << 20 });

export const MESSAGE_AUTHENTICATOR_POLICIES: readonly MessageAuthenticatorPolicy[] = ["auto", "yes", "no"];

export type DropReason =
  | "malformed"
  | "unknown-identifier"
  | "unexpected-source"
  | "unexpected-code"
  | "bad-authenticator"
  | "missing-message-authenticator"
  | "bad-message-authenticator";

export const DROP_REASONS: readonly DropReason[] = [
  "malformed",
  "unknown-identifier",
  "unexpected-source",
  "unexpected-code",
  "bad-authenticator",
  "missing-message-authenticator",
  "bad-message-authenticator",
];

/** Why a Message-Authenticator was required of the reply that lacked one. */
export type MessageAuthenticatorRequirement = "yes" | "learned";

export type RadiusClientEvent =
  | {
      readonly kind: "drop";
      readonly reason: DropReason;
      readonly from: PeerAddress;
      readonly detail: string;
      /** The first drop for this reason of a datagram from this address and port. */
      readonly first: boolean;
      /** For missing-message-authenticator: why one was required. */
      readonly required?: MessageAuthenticatorRequirement;
    }
  /**
   * A server had its tries without a usable answer. `dropped`: the replies that came from it
   * meanwhile and were dropped, by reason; empty when nothing at all came back.
   */
  | { readonly kind: "server-dead"; readonly server: string; readonly forMs: number; readonly dropped: Readonly<Partial<Record<DropReason, number>>> }
  /** radius_require_message_authenticator auto: this server signed a reply; from now on it must. */
  | { readonly kind: "message-authenticator-learned"; readonly server: string }
  /** A dead server answered again, or its back-off is over and it is tried again. */
  | { readonly kind: "server-alive"; readonly server: string; readonly cause: "reply" | "back-off-over" }
  | { readonly kind: "gave-up"; readonly request: "auth" | "acct"; readonly detail: string }
  | { readonly kind: "socket-error"; readonly detail: string }
  /** A valid answer: the time since the datagram it answers was (last) sent (metrics). */
  | { readonly kind: "round-trip"; readonly request: "auth" | "acct"; readonly server: string; readonly rttMs: number };

export type AuthResult =
  | { readonly kind: "accept" | "reject" | "challenge"; readonly reply: AuthReply; readonly server: string }
  /** No server answered. */
  | { readonly kind: "timeout" }
  /** The request could not be sent: a value too long, the queue full, the client closed. */
  | { readonly kind: "error"; readonly reason: string };

export type AcctResult =
  | { readonly kind: "ack"; readonly server: string }
  | { readonly kind: "timeout" }
  | { readonly kind: "error"; readonly reason: string };

export interface RadiusClientCounters {
  accessRequests: number;
  accessAccepts: number;
  accessRejects: number;
  accessChallenges: number;
  authTimeouts: number;
  acctRequests: number;
  acctResponses: number;
  acctTimeouts: number;
  /** Datagrams sent again (same or other server). */
  retransmits: number;
  /** Requests moved to another server. */
  failovers: number;
  /** Requests refused before sending. */
  errors: number;
  dropped: Record<DropReason, number>;
}

export interface ServerStatus {
  readonly server: string;
  readonly kind: "auth" | "acct";
  readonly dead: boolean;
  /** Time left before a dead server is tried again. */
  readonly deadForMs: number;
  readonly sent: number;
  readonly replies: number;
  /** Replies from it dropped, by reason. */
  readonly dropped: Readonly<Record<DropReason, number>>;
  /** Access-Accept, -Reject and -Challenge from it must carry Message-Authenticator. */
  readonly requiresMessageAuthenticator: boolean;
}

export interface RadiusClientStats {
  readonly counters: Readonly<RadiusClientCounters>;
  readonly inFlight: number;
  readonly queued: number;
  readonly sockets: number;
  readonly servers: readonly ServerStatus[];
}

/** What AccountingSession needs from a client; the daemon can wrap or fake it. */
export interface RadiusAccounting {
  account(record: AccountingRecord): Promise<AcctResult>;
}

interface Endpoint {
  readonly key: string;
  readonly peer: PeerAddress;
  readonly kind: "auth" | "acct";
  dead: boolean;
  deadUntil: number;
  lastReplyAt: number;
  sent: number;
  replies: number;
  /** A valid Access-Accept, -Reject or -Challenge from it carried Message-Authenticator (auto). */
  signs: boolean;
  /** The last datagram from its address and port, usable or not. */
  lastHeardAt: number;
  dropped: Record<DropReason, number>;
  /** Dropped since its last valid reply, for the server-dead event. */
  droppedSinceReply: Partial<Record<DropReason, number>>;
}

interface Slot {
  readonly sock: UdpEndpoint;
  readonly pending: (Pending | undefined)[];
  free: number;
  nextId: number;
  /** Bound with the bind settings before a reconfigure: takes no new request, closes once empty. */
  retired: boolean;
}

/** The servers and secret of one configuration: a request keeps the set it was made under. */
interface ServerSet {
  readonly secret: Secret;
  readonly auth: readonly Endpoint[];
  readonly acct: readonly Endpoint[];
  readonly byKey: ReadonlyMap<string, readonly Endpoint[]>;
}

/** What reconfigure() changes: the settings a reload of the startup-config can change. */
export type RadiusClientSettings = Pick<RadiusClientOptions, "servers" | "secret" | "bindAddress" | "bindPortMin" | "bindPortMax" | "requireMessageAuthenticator">;

interface Pending {
  readonly kind: "auth" | "acct";
  readonly createdAt: number;
  readonly eventTimestampSec: number;
  readonly auth?: AccessRequestInput;
  readonly acct?: AccountingRecord;
  readonly finish: (r: AuthResult | AcctResult) => void;
  readonly set: ServerSet;
  slot: Slot | undefined;
  id: number;
  packet: Buffer;
  requestAuthenticator: Buffer;
  current: Endpoint | undefined;
  triesOnCurrent: number;
  firstSentToCurrentAt: number;
  /** When the datagram last went out (a retransmit restarts the round trip). */
  lastSentAt: number;
  sends: number;
  readonly exhausted: Set<Endpoint>;
  readonly sentTo: Set<string>;
  timer: TimerHandle | undefined;
  /** Counted in inFlight. */
  counted: boolean;
  done: boolean;
}

function zeroDrops(): Record<DropReason, number> {
  const dropped = {} as Record<DropReason, number>;
  for (const r of DROP_REASONS) dropped[r] = 0;
  return dropped;
}

/** Senders remembered for "first drop of a reason" (spoofed sources cannot grow it without bound). */
const MAX_FIRST_DROP_KEYS = 4096;

function newCounters(): RadiusClientCounters {
  const dropped = zeroDrops();
  return {
    accessRequests: 0,
    accessAccepts: 0,
    accessRejects: 0,
    accessChallenges: 0,
    authTimeouts: 0,
    acctRequests: 0,
    acctResponses: 0,
    acctTimeouts: 0,
    retransmits: 0,
    failovers: 0,
    errors: 0,
    dropped,
  };
}

/** The servers of l2tpns's settings: accounting on the port after the authentication port. */
export function radiusServersFromSettings(s: {
  readonly primary: string;
  readonly secondary: string;
  readonly primaryPort: number;
  readonly secondaryPort: number;
}): RadiusServer[] {
  const out: RadiusServer[] = [];
  if (s.primary !== "" && s.primary !== "0.0.0.0") out.push({ address: s.primary, authPort: s.primaryPort, acctPort: s.primaryPort + 1 });
  if (s.secondary !== "" && s.secondary !== "0.0.0.0") out.push({ address: s.secondary, authPort: s.secondaryPort, acctPort: s.secondaryPort + 1 });
  return out;
}

/** `opts` with `next`'s settings, those `next` leaves out back to their defaults. */
function withSettings(opts: RadiusClientOptions, next: RadiusClientSettings): RadiusClientOptions {
  const o: { -readonly [K in keyof RadiusClientOptions]: RadiusClientOptions[K] } = { ...opts, servers: next.servers, secret: next.secret };
  delete o.bindAddress;
  delete o.bindPortMin;
  delete o.bindPortMax;
  delete o.requireMessageAuthenticator;
  return {
    ...o,
    ...(next.bindAddress === undefined ? {} : { bindAddress: next.bindAddress }),
    ...(next.bindPortMin === undefined ? {} : { bindPortMin: next.bindPortMin }),
    ...(next.bindPortMax === undefined ? {} : { bindPortMax: next.bindPortMax }),
    ...(next.requireMessageAuthenticator === undefined ? {} : { requireMessageAuthenticator: next.requireMessageAuthenticator }),
  };
}

function sameBind(a: RadiusClientSettings, b: RadiusClientSettings): boolean {
  return a.bindAddress === b.bindAddress && a.bindPortMin === b.bindPortMin && a.bindPortMax === b.bindPortMax;
}

/** Sockets at most: the option, bounded by the size of the port range. */
function maxSocketsFor(opts: RadiusClientOptions): number {
  const min = opts.bindPortMin ?? 0;
  const max = opts.bindPortMax ?? 0;
  const range = min > 0 && max >= min ? max - min + 1 : Infinity;
  return Math.max(1, Math.min(opts.maxSockets ?? 64, range));
}

/** The endpoints of `servers`; one that `previous` had too keeps its state (dead, counters, signs). */
function serverSet(servers: readonly RadiusServer[], secret: Secret, previous: ServerSet | undefined): ServerSet {
  const byKey = new Map<string, Endpoint[]>();
  const mk = (kind: "auth" | "acct", s: RadiusServer): Endpoint => {
    const peer = { address: s.address, port: kind === "auth" ? s.authPort : s.acctPort };
    const key = peerKey(peer);
    const e: Endpoint = previous?.byKey.get(key)?.find((x) => x.kind === kind) ?? {
      key,
      peer,
      kind,
      dead: false,
      deadUntil: 0,
      lastReplyAt: -Infinity,
      sent: 0,
      replies: 0,
      signs: false,
      lastHeardAt: -Infinity,
      dropped: zeroDrops(),
      droppedSinceReply: {},
    };
    const list = byKey.get(key) ?? [];
    list.push(e);
    byKey.set(key, list);
    return e;
  };
  const auth = servers.map((s) => mk("auth", s));
  const acct = servers.map((s) => mk("acct", s));
  return { secret, auth, acct, byKey };
}

export class RadiusClient implements RadiusAccounting {
  readonly counters: RadiusClientCounters = newCounters();
  private readonly clock: Clock;
  private readonly udp: UdpEndpointFactory;
  private readonly random: (n: number) => Buffer;
  private readonly wallClockMs: () => number;
  private readonly onEvent: (e: RadiusClientEvent) => void;
  private readonly timeoutMs: number;
  private readonly tries: number;
  private readonly deadTimeMs: number;
  private readonly acctMaxTries: number;
  private readonly acctMaxTimeoutMs: number;
  private readonly maxQueued: number;
  private maxSockets: number;
  private maPolicy: MessageAuthenticatorPolicy;
  private readonly firstDrops = new Set<string>();
  private set: ServerSet;
  private slots: Slot[] = [];
  private readonly waiting: Pending[] = [];
  private usedPorts = new Set<number>();
  private opening = false;
  private draining = false;
  private portsExhausted = false;
  private inFlight = 0;
  private closed = false;

  private constructor(private opts: RadiusClientOptions) {
    this.clock = opts.clock ?? systemClock;
    this.udp = opts.udp ?? radiusUdp;
    this.random = opts.randomBytes ?? cryptoRandomBytes;
    this.wallClockMs = opts.wallClockMs ?? Date.now;
    this.onEvent = opts.onEvent ?? (() => undefined);
    this.timeoutMs = opts.timeoutMs ?? 3000;
    this.tries = Math.max(1, opts.tries ?? 3);
    this.deadTimeMs = opts.deadTimeMs ?? 60_000;
    this.acctMaxTries = Math.max(1, opts.acctMaxTries ?? 12);
    this.acctMaxTimeoutMs = opts.acctMaxTimeoutMs ?? 30_000;
    this.maxQueued = opts.maxQueued ?? 65536;
    this.maPolicy = opts.requireMessageAuthenticator ?? "auto";
    this.maxSockets = maxSocketsFor(opts);
    this.set = serverSet(opts.servers, opts.secret, undefined);
  }

  /**
   * Binds a socket with `next`'s bind settings when they differ from the running ones, so that a
   * bad address or port range fails here and changes nothing. commit() applies `next`: requests
   * made from then on go to its servers with its secret; requests in flight finish (retransmits
   * and failover included) against the servers and secret they were sent with, and their replies
   * are matched per request on the socket they left from, which closes once it has none left.
   */
  async prepareReconfigure(next: RadiusClientSettings): Promise<{ ok: true; commit: () => void; abort: () => void } | { ok: false; error: string }> {
    const rebind = !sameBind(next, this.opts);
    const usedPorts = new Set<number>();
    let first: UdpEndpoint | undefined;
    if (rebind) {
      const r = await this.bindWith(next, usedPorts);
      if (!r.ok) return { ok: false, error: r.error };
      first = r.sock;
    }
    return {
      ok: true,
      abort: () => { first?.close(); },
      commit: () => {
        if (this.closed) {
          first?.close();
          return;
        }
        this.opts = withSettings(this.opts, next);
        this.maPolicy = next.requireMessageAuthenticator ?? "auto";
        this.maxSockets = maxSocketsFor(this.opts);
        this.set = serverSet(next.servers, next.secret, this.set);
        if (first !== undefined) {
          for (const s of this.slots) s.retired = true;
          this.usedPorts = usedPorts;
          this.portsExhausted = false;
          this.addSlot(first);
          for (const s of [...this.slots]) this.closeIfIdle(s);
        }
        this.drain();
      },
    };
  }

  private closeIfIdle(s: Slot): void {
    if (!s.retired || s.free < 256) return;
    s.sock.close();
    this.slots = this.slots.filter((x) => x !== s);
  }

  /** Opens the first socket, so that a bad bind address or port range shows at start. */
  static async create(opts: RadiusClientOptions): Promise<RadiusClient> {
    const c = new RadiusClient(opts);
    await c.openSocket();
    if (c.slots.length === 0) throw new Error("RADIUS: cannot bind a client socket");
    return c;
  }

  /** Sends an Access-Request and resolves with the first authentic answer. */
  authenticate(input: AccessRequestInput): Promise<AuthResult> {
    return new Promise<AuthResult>((resolve) => {
      this.counters.accessRequests++;
      const finish = (r: AuthResult | AcctResult): void => {
        resolve(r.kind === "ack" ? { kind: "error", reason: "accounting answer to an Access-Request" } : r);
      };
      this.enqueue({ ...this.blank("auth", finish), auth: input });
    });
  }

  /** Sends an Accounting-Request and retransmits it, bounded, until a server acknowledges it. */
  account(record: AccountingRecord): Promise<AcctResult> {
    return new Promise<AcctResult>((resolve) => {
      this.counters.acctRequests++;
      const finish = (r: AuthResult | AcctResult): void => {
        resolve("reply" in r ? { kind: "error", reason: "access answer to an Accounting-Request" } : r);
      };
      this.enqueue({ ...this.blank("acct", finish), acct: record });
    });
  }

  stats(): RadiusClientStats {
    const now = this.clock.now();
    const status = (e: Endpoint): ServerStatus => ({
      server: e.key,
      kind: e.kind,
      dead: e.dead && e.deadUntil > now,
      deadForMs: e.dead ? Math.max(0, e.deadUntil - now) : 0,
      sent: e.sent,
      replies: e.replies,
      dropped: e.dropped,
      requiresMessageAuthenticator: e.kind === "auth" && this.requiresMessageAuthenticator(e) !== undefined,
    });
    return {
      counters: this.counters,
      inFlight: this.inFlight,
      queued: this.waiting.length,
      sockets: this.slots.length,
      servers: [...this.set.auth.map(status), ...this.set.acct.map(status)],
    };
  }

  /** Local ports of the sockets, for tests and `show radius`. */
  localPorts(): number[] {
    return this.slots.map((s) => s.sock.local.port);
  }

  /** Ends every request with an error and closes the sockets. Send Accounting-Off first. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.waiting.splice(0)) this.complete(p, { kind: "error", reason: "client closed" });
    for (const s of this.slots) {
      for (const p of s.pending) if (p !== undefined) this.complete(p, { kind: "error", reason: "client closed" });
      s.sock.close();
    }
  }

  // ---- requests ----

  private blank(kind: "auth" | "acct", finish: (r: AuthResult | AcctResult) => void): Pending {
    return {
      kind,
      set: this.set,
      createdAt: this.clock.now(),
      eventTimestampSec: Math.floor(this.wallClockMs() / 1000),
      finish,
      slot: undefined,
      id: 0,
      packet: Buffer.alloc(0),
      requestAuthenticator: Buffer.alloc(16),
      current: undefined,
      triesOnCurrent: 0,
      firstSentToCurrentAt: 0,
      lastSentAt: 0,
      sends: 0,
      exhausted: new Set(),
      sentTo: new Set(),
      timer: undefined,
      counted: false,
      done: false,
    };
  }

  private enqueue(p: Pending): void {
    if (this.closed) {
      this.complete(p, { kind: "error", reason: "client closed" });
      return;
    }
    if (this.set.auth.length === 0) {
      this.complete(p, { kind: "error", reason: "no RADIUS server configured" });
      return;
    }
    this.inFlight++;
    p.counted = true;
    if (this.waiting.length === 0 && this.allocate(p)) {
      this.begin(p);
      return;
    }
    if (this.waiting.length >= this.maxQueued) {
      this.complete(p, { kind: "error", reason: "too many RADIUS requests waiting" });
      return;
    }
    this.waiting.push(p);
    void this.openSocket();
  }

  /** Gives the request an identifier on some socket; false when all 256 of every socket are taken. */
  private allocate(p: Pending): boolean {
    for (const s of this.slots) {
      if (s.free === 0 || s.retired) continue;
      for (let i = 0; i < 256; i++) {
        const id = (s.nextId + i) & 0xff;
        if (s.pending[id] !== undefined) continue;
        s.pending[id] = p;
        s.free--;
        // Identifiers rotate rather than restart at the lowest free one, so a late reply to a
        // finished request rarely meets a new request with its identifier.
        s.nextId = (id + 1) & 0xff;
        p.slot = s;
        p.id = id;
        return true;
      }
    }
    return false;
  }

  private release(p: Pending): void {
    const s = p.slot;
    if (s === undefined) return;
    if (s.pending[p.id] === p) {
      s.pending[p.id] = undefined;
      s.free++;
    }
    p.slot = undefined;
    this.closeIfIdle(s);
  }

  private drain(): void {
    // Not re-entered: a request that fails at once completes inside begin(), which drains again.
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.waiting.length > 0) {
        const p = this.waiting[0];
        if (p === undefined || !this.allocate(p)) break;
        this.waiting.shift();
        this.begin(p);
      }
    } finally {
      this.draining = false;
    }
  }

  private begin(p: Pending): void {
    const e = this.pick(p.kind === "auth" ? p.set.auth : p.set.acct, p.exhausted);
    if (e === undefined) {
      this.complete(p, { kind: "timeout" });
      return;
    }
    p.current = e;
    p.triesOnCurrent = 0;
    if (!this.build(p)) return;
    this.transmit(p);
  }

  /** Builds (or, for accounting, rebuilds with the current Acct-Delay-Time) the datagram. */
  private build(p: Pending): boolean {
    if (p.auth !== undefined) {
      if (p.packet.length > 0) return true;
      const authenticator = this.random(16);
      const built = accessRequestAttributes(p.auth, this.opts.nas, p.set.secret, authenticator);
      if (!built.ok) {
        this.complete(p, { kind: "error", reason: built.reason });
        return false;
      }
      p.packet = signRequest({ code: Code.AccessRequest, identifier: p.id, attributes: built.attributes, secret: p.set.secret, randomAuthenticator: authenticator });
      p.requestAuthenticator = authenticator;
      return true;
    }
    if (p.acct !== undefined) {
      const delaySec = Math.floor((this.clock.now() - p.createdAt) / 1000);
      const built = accountingAttributes(p.acct, this.opts.nas, delaySec, p.eventTimestampSec);
      if (!built.ok) {
        this.complete(p, { kind: "error", reason: built.reason });
        return false;
      }
      p.packet = signRequest({ code: Code.AccountingRequest, identifier: p.id, attributes: built.attributes, secret: p.set.secret });
      p.requestAuthenticator = Buffer.from(p.packet.subarray(4, 20));
      return true;
    }
    return false;
  }

  private transmit(p: Pending): void {
    const e = p.current;
    const s = p.slot;
    if (e === undefined || s === undefined) return;
    const now = this.clock.now();
    if (p.triesOnCurrent === 0) p.firstSentToCurrentAt = now;
    p.lastSentAt = now;
    p.triesOnCurrent++;
    if (p.sends > 0) this.counters.retransmits++;
    p.sends++;
    e.sent++;
    p.sentTo.add(e.key);
    s.sock.send(p.packet, e.peer);
    p.timer = this.clock.setTimeout(() => {
      this.onTimeout(p);
    }, this.waitMs(p));
  }

  private waitMs(p: Pending): number {
    if (p.kind === "auth") return this.timeoutMs;
    // RFC 5080 2.2.1: back off between retransmissions; accounting can wait.
    return Math.min(this.acctMaxTimeoutMs, this.timeoutMs * 2 ** Math.max(0, p.sends - 1));
  }

  private onTimeout(p: Pending): void {
    p.timer = undefined;
    if (p.done) return;
    const e = p.current;
    if (e === undefined) return;
    if (p.kind === "acct" && p.sends >= this.acctMaxTries) {
      this.onEvent({ kind: "gave-up", request: "acct", detail: `no usable answer after ${p.sends} sends (${this.noAnswerDetail(p)})` });
      this.complete(p, { kind: "timeout" });
      return;
    }
    if (p.triesOnCurrent < this.tries) {
      if (p.kind === "acct") this.renumber(p);
      this.transmit(p);
      return;
    }
    // This server had its tries. It is dead if it answered nothing at all meanwhile: a server that
    // answers others but not this request is busy or dislikes the request, not gone.
    if (e.lastReplyAt < p.firstSentToCurrentAt) this.markDead(e, p.firstSentToCurrentAt);
    p.exhausted.add(e);
    const list = p.kind === "auth" ? p.set.auth : p.set.acct;
    let next = this.pick(list, p.exhausted);
    if (next === undefined && p.kind === "acct") {
      // Accounting goes round the servers again until acctMaxTries.
      p.exhausted.clear();
      next = this.pick(list, p.exhausted);
    }
    if (next === undefined) {
      this.counters.authTimeouts += p.kind === "auth" ? 1 : 0;
      this.onEvent({ kind: "gave-up", request: p.kind, detail: this.noAnswerDetail(p) });
      this.complete(p, { kind: "timeout" });
      return;
    }
    if (next !== e) this.counters.failovers++;
    p.current = next;
    p.triesOnCurrent = 0;
    if (p.kind === "acct") this.renumber(p);
    this.transmit(p);
  }

  /**
   * RFC 2866 5.2: a changed Acct-Delay-Time is a new packet, with a new Identifier. When every
   * identifier is taken the old one is kept rather than waiting.
   */
  private renumber(p: Pending): void {
    const old = p.slot;
    const oldId = p.id;
    if (old !== undefined && old.pending[oldId] === p) {
      old.pending[oldId] = undefined;
      old.free++;
    }
    p.slot = undefined;
    if (this.allocate(p)) {
      if (old !== undefined) this.closeIfIdle(old);
    } else {
      if (old !== undefined) {
        old.pending[oldId] = p;
        old.free--;
      }
      p.slot = old;
      p.id = oldId;
    }
    this.build(p);
  }

  /**
   * The first server in order that is not dead and not yet tried for this request; a server whose
   * back-off is over is alive again. With none alive, the untried one back soonest.
   */
  private pick(list: readonly Endpoint[], exclude: ReadonlySet<Endpoint>): Endpoint | undefined {
    const now = this.clock.now();
    for (const e of list) {
      if (e.dead && e.deadUntil <= now) this.revive(e, "back-off-over");
    }
    const candidates = list.filter((e) => !exclude.has(e));
    const alive = candidates.find((e) => !e.dead);
    if (alive !== undefined) return alive;
    return [...candidates].sort((a, b) => a.deadUntil - b.deadUntil)[0];
  }

  /** What came back from the servers of a request given up: nothing, or replies that were dropped. */
  private noAnswerDetail(p: Pending): string {
    const parts = [...p.sentTo].map((key) => {
      const e = p.set.byKey.get(key)?.find((x) => x.kind === p.kind);
      const dropped = e === undefined ? [] : Object.entries(e.droppedSinceReply).filter(([, n]) => n > 0);
      return dropped.length === 0 ? `no answer from ${key}` : `${key} answered but every answer was dropped (${dropped.map(([r, n]) => `${r} x${n}`).join(", ")})`;
    });
    return parts.join("; ");
  }

  private markDead(e: Endpoint, since: number): void {
    if (e.dead) return;
    e.dead = true;
    e.deadUntil = this.clock.now() + this.deadTimeMs;
    const dropped = e.lastHeardAt >= since ? { ...e.droppedSinceReply } : {};
    this.onEvent({ kind: "server-dead", server: e.key, forMs: this.deadTimeMs, dropped });
  }

  /**
   * Why an Access-Accept, -Reject or -Challenge from this server must carry Message-Authenticator,
   * or undefined when it need not (RFC 3579 3.2 makes it optional without EAP; BlastRADIUS).
   */
  private requiresMessageAuthenticator(e: Endpoint): MessageAuthenticatorRequirement | undefined {
    switch (this.maPolicy) {
      case "yes":
        return "yes";
      case "no":
        return undefined;
      case "auto":
        return e.signs ? "learned" : undefined;
      default: {
        const never: never = this.maPolicy;
        return never;
      }
    }
  }

  private revive(e: Endpoint, cause: "reply" | "back-off-over"): void {
    if (!e.dead) return;
    e.dead = false;
    e.deadUntil = 0;
    this.onEvent({ kind: "server-alive", server: e.key, cause });
  }

  private complete(p: Pending, r: AuthResult | AcctResult): void {
    if (p.done) return;
    p.done = true;
    p.timer?.cancel();
    p.timer = undefined;
    this.release(p);
    if (p.counted) this.inFlight--;
    if (r.kind === "error") this.counters.errors++;
    if (r.kind === "timeout" && p.kind === "acct") this.counters.acctTimeouts++;
    p.finish(r);
    if (!this.closed) this.drain();
  }

  // ---- sockets and replies ----

  private isClosed(): boolean {
    return this.closed;
  }

  private async openSocket(): Promise<void> {
    if (this.opening || this.closed || this.portsExhausted || this.slots.filter((s) => !s.retired).length >= this.maxSockets) return;
    this.opening = true;
    try {
      const opts = this.opts;
      const sock = await this.bindNext();
      if (sock === undefined) return;
      // close() may have run while binding, or a reconfigure changed the bind settings.
      if (this.isClosed() || !sameBind(this.opts, opts)) {
        sock.close();
        return;
      }
      this.addSlot(sock);
    } finally {
      this.opening = false;
    }
    this.drain();
    // Still more waiting than the new socket could take: open another.
    if (this.waiting.length > 0) void this.openSocket();
  }

  private addSlot(sock: UdpEndpoint): void {
    const slot: Slot = { sock, pending: new Array<Pending | undefined>(256).fill(undefined), free: 256, nextId: this.random(1)[0] ?? 0, retired: false };
    sock.onMessage((packet, from) => {
      this.onMessage(slot, packet, from);
    });
    this.slots.push(slot);
  }

  private async bindNext(): Promise<UdpEndpoint | undefined> {
    const r = await this.bindWith(this.opts, this.usedPorts);
    if (r.ok) return r.sock;
    this.portsExhausted = true;
    this.onEvent({ kind: "socket-error", detail: r.error });
    return undefined;
  }

  /** A socket on the bind address, on a port of the range not in `usedPorts` (which it adds to). */
  private async bindWith(o: RadiusClientSettings, usedPorts: Set<number>): Promise<{ ok: true; sock: UdpEndpoint } | { ok: false; error: string }> {
    const address = o.bindAddress ?? "0.0.0.0";
    const min = o.bindPortMin ?? 0;
    const max = o.bindPortMax ?? 0;
    if (min <= 0 || max < min) {
      try {
        return { ok: true, sock: await this.udp.bind(address, 0) };
      } catch (e) {
        return { ok: false, error: `bind ${address}: ${e instanceof Error ? e.message : String(e)}` };
      }
    }
    for (let port = min; port <= max; port++) {
      if (usedPorts.has(port)) continue;
      try {
        const s = await this.udp.bind(address, port);
        usedPorts.add(port);
        return { ok: true, sock: s };
      } catch {
        usedPorts.add(port);
      }
    }
    return { ok: false, error: `no free port in ${min}-${max} on ${address}` };
  }

  private drop(reason: DropReason, from: PeerAddress, detail: string, required?: MessageAuthenticatorRequirement): void {
    this.counters.dropped[reason]++;
    for (const e of this.set.byKey.get(peerKey(from)) ?? []) {
      e.dropped[reason]++;
      e.droppedSinceReply[reason] = (e.droppedSinceReply[reason] ?? 0) + 1;
    }
    const key = `${reason} ${peerKey(from)}`;
    const first = !this.firstDrops.has(key) && this.firstDrops.size < MAX_FIRST_DROP_KEYS;
    if (first) this.firstDrops.add(key);
    this.onEvent({ kind: "drop", reason, from, detail, first, ...(required === undefined ? {} : { required }) });
  }

  private onMessage(slot: Slot, packet: Buffer, from: PeerAddress): void {
    const fromKey = peerKey(from);
    for (const e of this.set.byKey.get(fromKey) ?? []) e.lastHeardAt = this.clock.now();
    const d = decodePacket(packet);
    if (!d.ok) {
      this.drop("malformed", from, d.error.reason);
      return;
    }
    const pkt = d.value;
    const p = slot.pending[pkt.identifier];
    if (p === undefined) {
      this.drop("unknown-identifier", from, `${codeName(pkt.code)} id ${pkt.identifier}`);
      return;
    }
    // The reply must come from an address and port the request went to (RFC 2865 3: the
    // Response Authenticator is then checked against this request's own authenticator).
    if (!p.sentTo.has(fromKey)) {
      this.drop("unexpected-source", from, `${codeName(pkt.code)} id ${pkt.identifier}`);
      return;
    }
    const expected = p.kind === "auth" ? [Code.AccessAccept, Code.AccessReject, Code.AccessChallenge] : [Code.AccountingResponse];
    if (!(expected as number[]).includes(pkt.code)) {
      this.drop("unexpected-code", from, `${codeName(pkt.code)} id ${pkt.identifier}`);
      return;
    }
    // RFC 3579 3.2, BlastRADIUS (CVE-2024-3596): an Access-Accept/Reject/Challenge needs a
    // Message-Authenticator when radius_require_message_authenticator says so for this server;
    // one that is present must verify, whatever the setting (Accounting-Response too).
    const server = p.set.byKey.get(fromKey)?.find((x) => x.kind === p.kind);
    const required = p.kind === "auth" && server !== undefined ? this.requiresMessageAuthenticator(server) : undefined;
    const check = verifyResponse(packet, p.set.secret, p.requestAuthenticator, required !== undefined);
    if (check !== "ok") {
      this.drop(check, from, `${codeName(pkt.code)} id ${pkt.identifier}`, check === "missing-message-authenticator" ? required : undefined);
      return;
    }
    if (p.kind === "auth" && server !== undefined && !server.signs && pkt.attributes.some((a) => a.type === Attr.MessageAuthenticator)) {
      server.signs = true;
      if (this.maPolicy === "auto") this.onEvent({ kind: "message-authenticator-learned", server: server.key });
    }
    this.onEvent({ kind: "round-trip", request: p.kind, server: fromKey, rttMs: this.clock.now() - p.lastSentAt });
    for (const e of p.set.byKey.get(fromKey) ?? []) {
      e.lastReplyAt = this.clock.now();
      e.replies++;
      e.droppedSinceReply = {};
      this.revive(e, "reply");
    }
    if (p.kind === "acct") {
      this.counters.acctResponses++;
      this.complete(p, { kind: "ack", server: fromKey });
      return;
    }
    const reply = parseAuthReply(pkt.attributes);
    if (pkt.code === Code.AccessAccept) {
      this.counters.accessAccepts++;
      this.complete(p, { kind: "accept", reply, server: fromKey });
    } else if (pkt.code === Code.AccessReject) {
      this.counters.accessRejects++;
      this.complete(p, { kind: "reject", reply, server: fromKey });
    } else {
      this.counters.accessChallenges++;
      this.complete(p, { kind: "challenge", reply, server: fromKey });
    }
  }
}
