// In-process rig for PPP tests: an LNS-side PppServerSession and a PppClientSession joined by a
// FakeClock-driven link with latency and optional loss, every frame recorded and decodable into a
// one-line summary for assertions.
import { FakeClock } from "@lnsd/io";
import {
  PppProtocol,
  decodeChap,
  decodeIpcp,
  decodeIpv6cp,
  decodeLcp,
  decodePap,
  decodePppFrame,
  type ConfigOption,
  type OptionTable,
} from "@lnsd/wire";
import {
  PppClientSession,
  PppServerSession,
  type AuthRequest,
  type AuthResult,
  type DisconnectCause,
  type FsmRecord,
  type PppClientConfig,
  type PppClientUpInfo,
  type PppLinkRecord,
  type PppProxyInfo,
  type PppServerOptions,
  type PppServerConfig,
  type PppServerUpInfo,
  type RandomSource,
  chapMd5Response,
} from "../src/index.js";

/** A deterministic random source, so runs repeat exactly. */
export function seededRandom(seed: number): RandomSource {
  let s = seed >>> 0 || 1;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      out[i] = s >>> 24;
    }
    return out;
  };
}

export type Side = "server" | "client";

export interface Captured {
  readonly from: Side;
  readonly atMs: number;
  readonly frame: Buffer;
}

export interface RigOptions {
  readonly server?: Partial<PppServerConfig>;
  readonly client?: Partial<PppClientConfig>;
  readonly authenticate?: (request: AuthRequest) => Promise<AuthResult>;
  readonly proxy?: PppProxyInfo;
  readonly latencyMs?: number;
  readonly seed?: number;
  /** Wire the client too (default true); without it tests play the peer by hand. */
  readonly withClient?: boolean;
}

export const USERS: Readonly<Record<string, { password: string; address: string }>> = {
  alice: { password: "wonderland", address: "10.231.100.1" },
  bob: { password: "builder", address: "10.231.100.2" },
};

/** A fake RADIUS: PAP by password, CHAP by recomputing MD5 (as a RADIUS server would). */
export function fakeAuthenticate(r: AuthRequest): Promise<AuthResult> {
  const user = USERS[r.username];
  if (user === undefined) return Promise.resolve({ ok: false, message: "Unknown user" });
  const good =
    r.kind === "pap" ? Buffer.from(r.password).toString("utf8") === user.password : Buffer.compare(chapMd5Response(r.identifier, user.password, r.challenge), r.response) === 0;
  return Promise.resolve(good ? { ok: true, address: user.address, primaryDns: "192.0.2.53", secondaryDns: "192.0.2.54", message: "Welcome" } : { ok: false, message: "Bad password" });
}

export class Rig {
  readonly clock = new FakeClock();
  readonly frames: Captured[] = [];
  /** The LNS side; replaced by restoreServer(). */
  server: PppServerSession;
  readonly client: PppClientSession | undefined;
  readonly serverUp: PppServerUpInfo[] = [];
  readonly serverDown: DisconnectCause[] = [];
  readonly clientUp: PppClientUpInfo[] = [];
  readonly clientDown: DisconnectCause[] = [];
  readonly authRequests: AuthRequest[] = [];
  /** Frames for which this returns true are lost on the way. */
  lose: (c: Captured) => boolean = () => false;
  /** What the server sent, when there is no client (tests answer by hand). */
  readonly toClient: Buffer[] = [];
  private readonly latencyMs: number;
  private readonly opts: RigOptions;
  /** Bumped when the server is replaced: the old one's frames and events go nowhere. */
  private serverGeneration = 0;
  /** Between detachServer() and restoreServer(): frames to the server are lost. */
  private serverDetached = false;

  constructor(opts: RigOptions = {}) {
    this.opts = opts;
    this.latencyMs = opts.latencyMs ?? 1;
    this.server = new PppServerSession(this.serverOptions(seededRandom(opts.seed ?? 7)));
    if (opts.withClient !== false) {
      this.client = new PppClientSession({
        clock: this.clock,
        random: seededRandom((opts.seed ?? 7) + 1000),
        config: { username: "alice", password: "wonderland", ...opts.client },
        send: (frame) => {
          this.carry("client", frame);
        },
        events: {
          up: (info) => this.clientUp.push(info),
          down: (cause) => this.clientDown.push(cause),
        },
      });
    }
  }

  /** The server's options; its callbacks stay silent once the server is replaced. */
  private serverOptions(random: RandomSource): PppServerOptions {
    const generation = this.serverGeneration;
    const live = (): boolean => generation === this.serverGeneration;
    const authenticate = this.opts.authenticate ?? fakeAuthenticate;
    return {
      clock: this.clock,
      random,
      config: { authProtocols: ["chap", "pap"], hostName: "lns", localAddress: "10.231.0.1", ...this.opts.server },
      send: (frame) => {
        if (live()) this.carry("server", frame);
      },
      authenticate: (r) => {
        this.authRequests.push(r);
        return authenticate(r);
      },
      events: {
        up: (info) => {
          if (live()) this.serverUp.push(info);
        },
        down: (cause) => {
          if (live()) this.serverDown.push(cause);
        },
      },
      ...(this.opts.proxy === undefined ? {} : { proxy: this.opts.proxy }),
    };
  }

  /** The server process goes away: it sends nothing more, and what reaches it is lost. */
  detachServer(): void {
    this.serverGeneration++;
    this.serverDetached = true;
  }

  /** A new server from a record, with the same options (another random source: a new process). */
  restoreServer(record: PppLinkRecord, seed = 99): PppServerSession {
    this.detachServer();
    const res = PppServerSession.fromRecord(this.serverOptions(seededRandom(seed)), record);
    if (!res.ok) throw new Error(res.error);
    this.server = res.session;
    this.serverDetached = false;
    return res.session;
  }

  private carry(from: Side, frame: Buffer): void {
    const c: Captured = { from, atMs: this.clock.now(), frame };
    this.frames.push(c);
    if (this.lose(c)) return;
    if (from === "server" && this.client === undefined) {
      this.toClient.push(frame);
      return;
    }
    this.clock.setTimeout(() => {
      if (from === "server") this.client?.receive(frame);
      else if (!this.serverDetached) this.server.receive(frame);
    }, this.latencyMs);
  }

  /** Starts both ends (the L2TP session is established). */
  start(): this {
    this.server.start();
    this.client?.start();
    return this;
  }

  /** Sends a frame to the server as if from the peer. */
  inject(frame: Uint8Array): void {
    this.server.receive(frame);
  }

  /** Moves time forward in steps, letting promise callbacks (authentication answers) run between them. */
  async run(ms: number, stepMs = 5): Promise<void> {
    for (let done = 0; done < ms; done += stepMs) {
      this.clock.advance(Math.min(stepMs, ms - done));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** One-line summaries of the frames sent, e.g. "server LCP ConfReq 1 [mru=1462 authProtocol=chap magicNumber]". */
  summary(from?: Side): string[] {
    return this.frames.filter((c) => from === undefined || c.from === from).map((c) => `${c.from} ${describe(c.frame)}`);
  }

  histories(): FsmRecord[] {
    const out: FsmRecord[] = [];
    for (const s of [this.server, this.client]) {
      if (s === undefined) continue;
      const h = s.status().history;
      out.push(...h.lcp, ...h.ipcp, ...h.ipv6cp);
    }
    return out;
  }
}

function optionText<T extends OptionTable>(o: ConfigOption<T>): string {
  if ("type" in o) return `unknown${o.type}`;
  if (!("value" in o)) return o.name;
  const v: unknown = o.value;
  if (typeof v === "number") return o.name === "magicNumber" ? "magicNumber" : `${o.name}=${o.name.includes("Dns") || o.name.includes("Nbns") || o.name === "ipAddress" ? ipText(v) : String(v)}`;
  if (v instanceof Uint8Array) return `${o.name}=${Buffer.from(v).toString("hex")}`;
  if (typeof v === "object" && v !== null && "kind" in v) return `${o.name}=${String(v.kind)}`;
  return o.name;
}

function ipText(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/** A one-line description of a PPP frame, for assertions and failure messages. */
export function describe(frame: Uint8Array): string {
  const f = decodePppFrame(frame);
  if (!f.ok) return `bad frame (${f.error.reason})`;
  const { protocol, info } = f.value;
  switch (protocol) {
    case PppProtocol.LCP: {
      const p = decodeLcp(info);
      if (!p.ok) return `LCP bad (${p.error.reason})`;
      const v = p.value;
      switch (v.kind) {
        case "ConfReq":
        case "ConfAck":
        case "ConfNak":
        case "ConfRej":
          return `LCP ${v.kind} ${v.identifier} [${v.options.map((o) => optionText(o)).join(" ")}]`;
        case "ProtRej":
          return `LCP ProtRej ${v.identifier} 0x${v.protocol.toString(16).padStart(4, "0")}`;
        case "CodeRej":
          return `LCP CodeRej ${v.identifier} code=${v.rejected[0] ?? -1}`;
        case "TermReq":
        case "TermAck":
          return `LCP ${v.kind} ${v.identifier} "${Buffer.from(v.data).toString("utf8")}"`;
        default:
          return `LCP ${v.kind} ${v.identifier}`;
      }
    }
    case PppProtocol.IPCP:
    case PppProtocol.IPV6CP: {
      const name = protocol === PppProtocol.IPCP ? "IPCP" : "IPV6CP";
      const p = protocol === PppProtocol.IPCP ? decodeIpcp(info) : decodeIpv6cp(info);
      if (!p.ok) return `${name} bad (${p.error.reason})`;
      const v = p.value;
      if (v.kind === "ConfReq" || v.kind === "ConfAck" || v.kind === "ConfNak" || v.kind === "ConfRej") {
        return `${name} ${v.kind} ${v.identifier} [${v.options.map((o) => optionText<OptionTable>(o)).join(" ")}]`;
      }
      if (v.kind === "CodeRej") return `${name} CodeRej ${v.identifier} code=${v.rejected[0] ?? -1}`;
      return `${name} ${v.kind} ${v.identifier}`;
    }
    case PppProtocol.PAP: {
      const p = decodePap(info);
      if (!p.ok) return "PAP bad";
      return p.value.kind === "AuthReq" ? `PAP AuthReq ${p.value.identifier} ${Buffer.from(p.value.peerId).toString()}` : `PAP ${p.value.kind} ${p.value.identifier} "${Buffer.from(p.value.message).toString()}"`;
    }
    case PppProtocol.CHAP: {
      const p = decodeChap(info);
      if (!p.ok) return "CHAP bad";
      const v = p.value;
      return "message" in v ? `CHAP ${v.kind} ${v.identifier} "${Buffer.from(v.message).toString()}"` : `CHAP ${v.kind} ${v.identifier} ${Buffer.from(v.name).toString()}`;
    }
    default:
      return `proto 0x${protocol.toString(16).padStart(4, "0")} ${info.length} octets`;
  }
}

/** A PPP frame: FF 03, protocol, then the packet. */
export function frame(protocol: number, packet: Uint8Array): Buffer {
  const out = Buffer.alloc(4 + packet.length);
  out[0] = 0xff;
  out[1] = 0x03;
  out.writeUInt16BE(protocol, 2);
  out.set(packet, 4);
  return out;
}

/** Every (state, event) pair taken in these histories, as "State event". */
export function pairsSeen(records: readonly FsmRecord[]): Set<string> {
  return new Set(records.filter((r) => r.event !== "proxy").map((r) => `${r.from} ${r.event}`));
}
