// The nsctl control server (UDP 1702, l2tpns 2.4.1 semantics): load_plugin, unload_plugin and help
// are built in; every other command goes to the backend's control hook (the plugins' `control`).
// The answer goes back from the socket the request came to. Runs on the control thread.
import { createSocket, type Socket } from "node:dgram";
import { RatePerSource } from "@lnsd/io";
import {
  NSCTL_PORT,
  NSCTL_REQ_CONTROL,
  NSCTL_REQ_HELP,
  NSCTL_REQ_LOAD,
  NSCTL_REQ_UNLOAD,
  NSCTL_RES_ERR,
  NSCTL_RES_OK,
  NSCTL_MAGIC,
  decodeNsctl,
  encodeNsctl,
  isRequestType,
  type NsctlDecodeErrorCode,
  type NsctlMessage,
  type NsctlRequestType,
  type NsctlResponseType,
} from "./protocol.js";

/** What a backend answers: the l2tpns response type and the lines nsctl prints. */
export interface ControlResponse {
  readonly code: NsctlResponseType;
  readonly lines: readonly string[];
}

/**
 * What the server asks of the daemon: the plugin host (load, unload, each plugin's help lines and
 * control hook). A name comes from the network as typed by the operator: the backend checks it.
 * A backend may answer at once or later; if it throws or rejects, the operator gets an error.
 */
export interface ControlBackend {
  loadPlugin(name: string): ControlResponse | Promise<ControlResponse>;
  unloadPlugin(name: string): ControlResponse | Promise<ControlResponse>;
  /** The commands the loaded plugins offer, one usage line each (the built-ins are the client's). */
  help(): readonly string[] | Promise<readonly string[]>;
  /** Any other command, `args[0]` being the command word; l2tpns answers "unhandled action" when no plugin takes it. */
  control(args: readonly string[]): ControlResponse | Promise<ControlResponse>;
}

export function ok(...lines: string[]): ControlResponse {
  return { code: NSCTL_RES_OK, lines };
}

export function err(...lines: string[]): ControlResponse {
  return { code: NSCTL_RES_ERR, lines };
}

/** l2tpns's answers to requests it refuses itself. */
export const NSCTL_TEXT = {
  pluginNameRequired: "name of plugin required",
  unhandled: "unhandled action",
  unpackError: "error unpacking control packet",
  backendError: "error returned by plugin",
} as const;

export type ControlDropReason = NsctlDecodeErrorCode | "not-a-request" | "busy" | "rate";

export interface ControlPeer {
  readonly address: string;
  readonly port: number;
}

export type ControlServerEvent =
  /** A datagram that was not a request; `answered` when it got the unpack error back (it had the magic). */
  | { readonly kind: "drop"; readonly reason: ControlDropReason; readonly from: ControlPeer; readonly detail: string; readonly answered: boolean }
  | { readonly kind: "request"; readonly from: ControlPeer; readonly request: NsctlMessage; readonly response: ControlResponse }
  | { readonly kind: "backend-error"; readonly from: ControlPeer; readonly detail: string }
  | { readonly kind: "socket-error"; readonly detail: string };

export interface ControlServerCounters {
  requests: number;
  responses: number;
  backendErrors: number;
  dropped: Record<ControlDropReason, number>;
}

export interface ControlServerOptions {
  /** l2tpns listens on every address (0.0.0.0); lnsd's nsctl_address narrows it. */
  readonly bindAddress?: string;
  /** 1702 unless said; 0 picks a free port (tests). */
  readonly port?: number;
  readonly backend: ControlBackend;
  /** Each drop, request and error: the daemon turns them into rate-limited log lines. */
  readonly onEvent?: (e: ControlServerEvent) => void;
  /** Requests being answered at once; more are dropped (reason "busy"). Default 64. */
  readonly maxInFlight?: number;
  /** Datagrams a second from one address, on average (a burst of twice this is allowed). Default 50. */
  readonly ratePerSource?: number;
  /** Runs the handling of each datagram (the daemon's loop watch times it); default: directly. */
  readonly run?: (handler: () => void) => void;
}


function newCounters(): ControlServerCounters {
  return { requests: 0, responses: 0, backendErrors: 0, dropped: { short: 0, long: 0, magic: 0, type: 0, "not-a-request": 0, busy: 0, rate: 0 } };
}

export class ControlServer {
  readonly counters: ControlServerCounters = newCounters();
  private inFlight = 0;
  private closed = false;
  private readonly rate: RatePerSource;

  private constructor(
    private readonly socket: Socket,
    private readonly opts: ControlServerOptions,
  ) {
    this.rate = new RatePerSource(opts.ratePerSource ?? 50);
    const run = opts.run ?? ((handler: () => void): void => { handler(); });
    socket.on("message", (msg, rinfo) => {
      const from = { address: rinfo.address, port: rinfo.port };
      run(() => {
        try {
          this.receive(msg, from);
        } catch (e) {
          // A fault of ours with one datagram: that datagram is dropped, the port stays open.
          this.counters.backendErrors++;
          this.event({ kind: "backend-error", from, detail: e instanceof Error ? e.message : String(e) });
        }
      });
    });
    socket.on("error", (e) => {
      this.event({ kind: "socket-error", detail: e.message });
    });
  }

  /** Binds and listens; rejects when the address cannot be had (e.g. in use). */
  static async create(opts: ControlServerOptions): Promise<ControlServer> {
    // SO_REUSEADDR as l2tpns sets it, so that a wildcard and a specific listener can share 1702.
    const socket = createSocket({ type: "udp4", reuseAddr: true });
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => {
        socket.close();
        reject(e);
      };
      socket.once("error", onError);
      socket.bind(opts.port ?? NSCTL_PORT, opts.bindAddress ?? "0.0.0.0", () => {
        socket.off("error", onError);
        resolve();
      });
    });
    return new ControlServer(socket, opts);
  }

  get local(): ControlPeer {
    const a = this.socket.address();
    return { address: a.address, port: a.port };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }

  private event(e: ControlServerEvent): void {
    try {
      this.opts.onEvent?.(e);
    } catch {
      // A logging callback that throws must not take the control port down.
    }
  }

  private drop(reason: ControlDropReason, from: ControlPeer, detail: string, answered: boolean): void {
    this.counters.dropped[reason]++;
    this.event({ kind: "drop", reason, from, detail, answered });
  }

  private receive(packet: Buffer, from: ControlPeer): void {
    if (this.closed) return;
    if (!this.rate.take(from.address, performance.now())) {
      this.drop("rate", from, `over ${this.rate.perSecond} datagrams a second from this address`, false);
      return;
    }
    const d = decodeNsctl(packet);
    if (!d.ok) {
      // l2tpns answers any bad datagram with an unpack error. lnsd answers only one that carries
      // the nsctl magic (a confused client); anything else gets silence, so that the port cannot
      // be used to reflect traffic at a forged source.
      const hasMagic = packet.length >= 2 && packet.readUInt16BE(0) === NSCTL_MAGIC;
      if (hasMagic) this.send(err(NSCTL_TEXT.unpackError), from);
      this.drop(d.error.code, from, d.error.reason, hasMagic);
      return;
    }
    const { type } = d.value;
    if (!isRequestType(type)) {
      // Never answered: two servers could otherwise bounce error answers between them for ever
      // (one forged datagram with the source address of the other's port).
      this.drop("not-a-request", from, `a response (0x${type.toString(16)}) sent to the server`, false);
      return;
    }
    const maxInFlight = this.opts.maxInFlight ?? 64;
    if (this.inFlight >= maxInFlight) {
      this.drop("busy", from, `${this.inFlight} requests still being answered`, false);
      return;
    }
    this.counters.requests++;
    this.inFlight++;
    void this.answer(type, d.value, from).finally(() => {
      this.inFlight--;
    });
  }

  private async answer(type: NsctlRequestType, request: NsctlMessage, from: ControlPeer): Promise<void> {
    let response: ControlResponse;
    try {
      response = await this.dispatch(type, request.args);
    } catch (e) {
      this.counters.backendErrors++;
      this.event({ kind: "backend-error", from, detail: e instanceof Error ? e.message : String(e) });
      response = err(NSCTL_TEXT.backendError);
    }
    this.event({ kind: "request", from, request, response });
    this.send(response, from);
  }

  private async dispatch(type: NsctlRequestType, args: readonly string[]): Promise<ControlResponse> {
    const b = this.opts.backend;
    switch (type) {
      case NSCTL_REQ_LOAD:
      case NSCTL_REQ_UNLOAD: {
        const name = args[0];
        if (args.length !== 1 || name === undefined) return err(NSCTL_TEXT.pluginNameRequired);
        return type === NSCTL_REQ_LOAD ? await b.loadPlugin(name) : await b.unloadPlugin(name);
      }
      case NSCTL_REQ_HELP:
        return ok(...(await b.help()));
      case NSCTL_REQ_CONTROL:
        // nsctl always sends the command word; an empty request is no action anyone handles.
        if (args.length === 0) return err(NSCTL_TEXT.unhandled);
        return await b.control(args);
      default: {
        const never: never = type;
        return never;
      }
    }
  }

  private send(response: ControlResponse, to: ControlPeer): void {
    if (this.closed) return;
    const { packet } = encodeNsctl({ type: response.code, args: response.lines });
    this.counters.responses++;
    this.socket.send(packet, to.port, to.address, (e) => {
      if (e) this.event({ kind: "socket-error", detail: `reply to ${to.address}:${to.port}: ${e.message}` });
    });
  }
}
