// The LNS side of a PPP session: LCP with our MRU and the configured authentication protocols,
// proxy LCP and proxy authentication from the LAC, PAP/CHAP checked by the caller's async
// callback (RADIUS in the daemon), then IPCP with the address the authentication gave, and
// IPV6CP when IPv6 is configured. Runs on the control thread.
import { formatIpv4, IPCP, IPV6CP, parseIpv4 } from "@lnsd/wire";
import { AuthServer, type AuthRequest, type AuthResult, type AuthServerRecord, type AuthSuccess } from "./auth.js";
import type { DisconnectCause, DisconnectReason } from "./cause.js";
import {
  type AuthProtocolName,
  DEFAULT_SERVER_CONFIG,
  type PppServerConfig,
  mruForL2tpMtu,
  optionalIpv4,
  withDefaults,
} from "./config.js";
import { IpcpServerPolicy } from "./ipcp.js";
import { Ipv6cpPolicy } from "./ipv6cp.js";
import { type NcpName, PppLink, type PppLinkCoreRecord, type PppLinkOptions } from "./link.js";
import type { NegotiationRecord } from "./negotiation.js";
import { type PppProxyInfo, proxyAuthRequest, proxyLcpOptions } from "./proxy.js";

/** What the caller learns when the session is up (the first NCP reached Opened). */
export interface PppServerUpInfo {
  readonly username: string;
  readonly authProtocol: AuthProtocolName;
  /** The peer's IPv4 address, once IPCP is Opened. */
  readonly address: string | undefined;
  readonly primaryDns: string | undefined;
  readonly secondaryDns: string | undefined;
  /** Our IP-Address in IPCP, when one was sent. */
  readonly localAddress: string | undefined;
  /** IPV6CP Interface-Identifiers (8 octets each), once IPV6CP is Opened. */
  readonly ipv6: { readonly localInterfaceId: Uint8Array; readonly peerInterfaceId: Uint8Array } | undefined;
  /** Our MRU and the peer's (what we may send). */
  readonly mru: number;
  readonly peerMru: number;
  readonly magic: number;
  readonly peerMagic: number;
  /** LCP was taken from the LAC's proxy LCP / the credentials from its proxy authentication. */
  readonly proxiedLcp: boolean;
  readonly proxiedAuth: boolean;
}

/** An NCP opened or closed after the up event. */
export interface NcpChange {
  readonly protocol: NcpName;
  readonly up: boolean;
  readonly info: PppServerUpInfo;
}

export interface PppServerEvents {
  up(info: PppServerUpInfo): void;
  /** Given exactly once, however the session ends. */
  down(cause: DisconnectCause): void;
  ncp?(change: NcpChange): void;
  /** An IPv4/IPv6 packet that reached the control plane (the data plane normally takes them). */
  data?(protocol: number, payload: Uint8Array): void;
}

/** The version of PppLinkRecord's layout; fromRecord() refuses any other. */
export const PPP_LINK_RECORD_VERSION = 1;

/**
 * An established LNS-side PPP link as plain, JSON-serialisable data (issue 13): LCP Opened,
 * authenticated, IPCP (and IPV6CP when it runs) Opened. Byte strings are hex; times are
 * wall-clock epoch ms. A link still negotiating or terminating has no record (yet).
 */
export interface PppLinkRecord extends PppLinkCoreRecord {
  readonly version: number;
  /** Wall-clock epoch ms when it was taken. */
  readonly takenAt: number;
  /** RFC 1661 3.6: only established links are recorded. */
  readonly phase: "network";
  readonly auth: AuthServerRecord & {
    readonly username: string;
    /** LCP came from the LAC's proxy LCP / the credentials from its proxy authentication. */
    readonly proxiedLcp: boolean;
    readonly proxiedAuth: boolean;
  };
  readonly ipcp: {
    /** The address the authentication gave (what we Nak with). */
    readonly peerAddress: string;
    /** The address the peer's acknowledged request carried. */
    readonly agreedPeerAddress?: string;
    /** Our IP-Address option, when one is sent. */
    readonly localAddress?: string;
    readonly primaryDns?: string;
    readonly secondaryDns?: string;
    readonly sendsAddress: boolean;
    readonly negotiation: NegotiationRecord;
  };
  /** Present when IPV6CP is Opened. */
  readonly ipv6cp?: {
    readonly localInterfaceIdHex: string;
    readonly peerInterfaceIdHex: string;
    /** The Interface-Identifier the authentication required of the peer. */
    readonly requiredPeerInterfaceIdHex?: string;
    readonly sendsId: boolean;
    readonly negotiation: NegotiationRecord;
  };
}

export type PppRestoreResult = { readonly ok: true; readonly session: PppServerSession } | { readonly ok: false; readonly error: string };

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

function fromHex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text, "hex"));
}

export interface PppServerOptions extends PppLinkOptions {
  readonly config?: Partial<PppServerConfig>;
  /** Checks credentials; RADIUS in the daemon. May reject; a late answer after the end is ignored. */
  authenticate(request: AuthRequest): Promise<AuthResult>;
  readonly events: PppServerEvents;
  /** The ICCN proxy AVPs (RFC 2661 4.4.5), when the LAC sent any. */
  readonly proxy?: PppProxyInfo;
}

function serverConfig(partial: Partial<PppServerConfig> | undefined): PppServerConfig {
  const config = withDefaults(DEFAULT_SERVER_CONFIG, partial);
  // radius_authtypes may not be empty: an LNS always authenticates (default pap, as l2tpns).
  const authProtocols = config.authProtocols.filter((p, i, all) => all.indexOf(p) === i);
  return { ...config, authProtocols: authProtocols.length > 0 ? authProtocols : DEFAULT_SERVER_CONFIG.authProtocols };
}

export class PppServerSession extends PppLink {
  readonly config: PppServerConfig;
  private readonly auth: AuthServer;
  private readonly events: PppServerEvents;
  private readonly proxy: PppProxyInfo | undefined;
  private proxiedLcp = false;
  private proxiedAuth = false;
  private proxyAuthTried = false;
  private username: string | undefined;
  private authProtocol: AuthProtocolName | undefined;
  private assigned: { readonly address: number; readonly primaryDns: number | undefined; readonly secondaryDns: number | undefined } | undefined;
  private ipcpPolicy: IpcpServerPolicy | undefined;
  private ipv6Policy: Ipv6cpPolicy | undefined;
  /** The Interface-Identifier the authentication required of the peer. */
  private requiredPeerId: Uint8Array | undefined;

  constructor(opts: PppServerOptions) {
    const config = serverConfig(opts.config);
    super(config, opts, { mru: mruForL2tpMtu(config.l2tpMtu), authRequest: config.authProtocols, authAccept: [] }, true);
    this.config = config;
    this.events = opts.events;
    this.proxy = opts.proxy;
    this.auth = new AuthServer({
      clock: this.clock,
      random: opts.random,
      hostName: config.hostName,
      restartTimeMs: config.restartTimeMs,
      maxConfigure: config.maxConfigure,
      authTimeoutMs: config.authTimeoutMs,
      send: (protocol, packet) => {
        this.sendPacket(protocol, packet);
      },
      authenticate: (request) => opts.authenticate(request),
      succeeded: (result, request) => {
        this.authSucceeded(result, request);
      },
      failed: (reason, message) => {
        this.close(reason, message, reason === "auth-error" ? "local" : "peer");
      },
      count: (c) => {
        this.count(c);
      },
      log: (level, reason, message) => {
        this.log(level, reason, message);
      },
      enter: (fn) => {
        this.enter(fn);
      },
    });
  }

  /** Where the session stands, for `show session`. */
  info(): PppServerUpInfo {
    const agreed = this.lcpPolicy.agreed;
    const a = this.assigned;
    const ipcpUp = this.ipcp?.opened === true;
    const v6 = this.ipv6Policy;
    return {
      username: this.username ?? "",
      authProtocol: this.authProtocol ?? this.config.authProtocols[0] ?? "pap",
      address: ipcpUp && a !== undefined ? formatIpv4(this.ipcpPolicy?.agreedPeerAddress ?? a.address) : undefined,
      primaryDns: a?.primaryDns === undefined ? undefined : formatIpv4(a.primaryDns),
      secondaryDns: a?.secondaryDns === undefined ? undefined : formatIpv4(a.secondaryDns),
      localAddress: this.config.localAddress !== undefined && optionalIpv4(this.config.localAddress) !== undefined ? this.config.localAddress : undefined,
      ipv6: this.ipv6cp?.opened === true && v6?.peerId !== undefined ? { localInterfaceId: Uint8Array.from(v6.localId), peerInterfaceId: Uint8Array.from(v6.peerId) } : undefined,
      mru: agreed.ourMru,
      peerMru: agreed.peerMru,
      magic: agreed.ourMagic,
      peerMagic: agreed.peerMagic,
      proxiedLcp: this.proxiedLcp,
      proxiedAuth: this.proxiedAuth,
    };
  }

  // --- records (issue 13) ------------------------------------------------------------------------

  /**
   * Why this link has no record: undefined for an established link (LCP Opened, authenticated,
   * IPCP Opened, IPV6CP Opened or not running). Links still negotiating or terminating are
   * refused; recording them is left for later.
   */
  snapshotRefusal(): string | undefined {
    const why = this.establishedRefusal();
    if (why !== undefined) return why;
    if (this.username === undefined || this.assigned === undefined || this.ipcpPolicy === undefined || this.auth.record() === undefined) return "not authenticated";
    if (this.ipcp?.opened !== true) return `IPCP is ${this.ipcp?.state ?? "not started"}`;
    const v6 = this.ipv6cp;
    if (v6 !== undefined && !v6.opened && !this.ncpRejected.has("ipv6cp") && v6.state !== "Stopped" && v6.state !== "Closed") return `IPV6CP is ${v6.state}`;
    return undefined;
  }

  /** The established link as a record, or undefined (with the reason logged) when it is not one. */
  snapshot(): PppLinkRecord | undefined {
    const why = this.snapshotRefusal();
    const auth = this.auth.record();
    const a = this.assigned;
    const ipcp = this.ipcp;
    const ipcpPolicy = this.ipcpPolicy;
    if (why !== undefined || auth === undefined || a === undefined || ipcp === undefined || ipcpPolicy === undefined) {
      this.count("snapshot-refused");
      this.log("debug", "snapshot-refused", `PPP link not recorded: ${why ?? "not established"}`);
      return undefined;
    }
    const offset = this.epochOffset();
    const v6 = this.ipv6cp;
    const v6p = this.ipv6Policy;
    const localAddress = optionalIpv4(this.config.localAddress);
    return {
      version: PPP_LINK_RECORD_VERSION,
      takenAt: this.clock.now() + offset,
      phase: "network",
      ...this.coreRecord(offset),
      auth: { ...auth, username: this.username ?? "", proxiedLcp: this.proxiedLcp, proxiedAuth: this.proxiedAuth },
      ipcp: {
        peerAddress: formatIpv4(a.address),
        ...(ipcpPolicy.agreedPeerAddress === undefined ? {} : { agreedPeerAddress: formatIpv4(ipcpPolicy.agreedPeerAddress) }),
        ...(localAddress === undefined ? {} : { localAddress: formatIpv4(localAddress) }),
        ...(a.primaryDns === undefined ? {} : { primaryDns: formatIpv4(a.primaryDns) }),
        ...(a.secondaryDns === undefined ? {} : { secondaryDns: formatIpv4(a.secondaryDns) }),
        sendsAddress: ipcpPolicy.sendsAddress,
        negotiation: ipcp.record(),
      },
      ...(v6?.opened === true && v6p?.peerId !== undefined
        ? {
            ipv6cp: {
              localInterfaceIdHex: hex(v6p.localId),
              peerInterfaceIdHex: hex(v6p.peerId),
              ...(this.requiredPeerId === undefined ? {} : { requiredPeerInterfaceIdHex: hex(this.requiredPeerId) }),
              sendsId: v6p.sendsId,
              negotiation: v6.record(),
            },
          }
        : {}),
    };
  }

  /**
   * An established link rebuilt from its record, with the same options (config, callbacks) as
   * the original. Nothing is sent and no event fires: no Configure-Request, no `up` (the caller
   * knows what it restored; info() tells the rest). From then on it behaves as the original:
   * Echo-Requests answered with the recorded Magic-Number, ours sent at the recorded deadline,
   * Terminate-Request and renegotiation handled, network-layer frames passed on.
   */
  static fromRecord(opts: PppServerOptions, r: PppLinkRecord): PppRestoreResult {
    if (r.version !== PPP_LINK_RECORD_VERSION) return { ok: false, error: `PPP link record version ${String(r.version)}, expected ${String(PPP_LINK_RECORD_VERSION)}` };
    const peerAddress = parseIpv4(r.ipcp.peerAddress);
    if (peerAddress === undefined) return { ok: false, error: `PPP link record: bad peer address ${r.ipcp.peerAddress}` };
    const session = new PppServerSession(opts);
    if (r.ipv6cp !== undefined && !session.config.ipv6) return { ok: false, error: "PPP link record has IPV6CP, the configuration has no IPv6" };
    // Nothing is sent while restoring, so this needs no entry (enter()) into the link.
    return session.restoreServer(r, peerAddress) ? { ok: true, session } : { ok: false, error: "PPP link record could not be applied" };
  }

  private restoreServer(r: PppLinkRecord, peerAddress: number): boolean {
    if (!this.restoreCore(r, this.epochOffset())) return false;
    const { username, proxiedLcp, proxiedAuth, ...auth } = r.auth;
    this.username = username;
    this.authProtocol = auth.protocol;
    this.proxiedLcp = proxiedLcp;
    this.proxiedAuth = proxiedAuth;
    this.proxyAuthTried = true;
    this.auth.restoreDone(auth);
    const primaryDns = optionalIpv4(r.ipcp.primaryDns);
    const secondaryDns = optionalIpv4(r.ipcp.secondaryDns);
    this.assigned = { address: peerAddress, primaryDns, secondaryDns };
    this.ipcpPolicy = new IpcpServerPolicy({ peerAddress, localAddress: optionalIpv4(r.ipcp.localAddress), primaryDns, secondaryDns });
    this.ipcpPolicy.restoreAgreed(optionalIpv4(r.ipcp.agreedPeerAddress), r.ipcp.sendsAddress);
    this.ipcp = this.makeNcp("ipcp", IPCP, this.ipcpPolicy);
    if (!this.ipcp.restoreOpened(r.ipcp.negotiation, "restored from a record: IPCP Opened")) return false;
    if (this.config.ipv6) {
      const v6 = r.ipv6cp;
      this.requiredPeerId = v6?.requiredPeerInterfaceIdHex === undefined ? undefined : fromHex(v6.requiredPeerInterfaceIdHex);
      const localId = v6 === undefined ? this.config.localInterfaceId : fromHex(v6.localInterfaceIdHex);
      this.ipv6Policy = new Ipv6cpPolicy({ localId, requiredPeerId: this.requiredPeerId, random: this.link.random });
      this.ipv6cp = this.makeNcp("ipv6cp", IPV6CP, this.ipv6Policy);
      if (v6 !== undefined) {
        this.ipv6Policy.restoreAgreed(localId, fromHex(v6.peerInterfaceIdHex), v6.sendsId);
        if (!this.ipv6cp.restoreOpened(v6.negotiation, "restored from a record: IPV6CP Opened")) return false;
      }
    }
    this.count("restored");
    return true;
  }

  /** RFC 2661 18: start from the LAC's LCP when it is one we would have agreed to. */
  protected override begin(): void {
    const why = this.proxyLcpRefusal();
    if (why === undefined) {
      this.proxiedLcp = true;
      this.count("proxy-lcp-accepted");
      this.adoptOpenedLcp("proxy LCP from the LAC (RFC 2661 4.4.5) is acceptable: LCP starts Opened");
      return;
    }
    if (this.proxy !== undefined) {
      this.count("proxy-lcp-renegotiated");
      this.log("debug", "proxy-lcp-renegotiated", `renegotiating LCP: ${why}`);
    }
    super.begin();
  }

  private proxyLcpRefusal(): string | undefined {
    const p = this.proxy;
    if (p === undefined) return "no proxy AVPs";
    if (p.lastSentLcpConfreq === undefined || p.lastReceivedLcpConfreq === undefined) return "no proxy LCP";
    const sent = proxyLcpOptions(p.lastSentLcpConfreq);
    const received = proxyLcpOptions(p.lastReceivedLcpConfreq);
    if (sent === undefined || received === undefined) return "malformed proxy LCP";
    return this.lcpPolicy.adoptProxy(sent, received);
  }

  protected authenticatePhase(): void {
    const protocol = this.lcpPolicy.agreed.ourAuth;
    if (protocol === undefined) {
      this.close("auth-protocol-refused", "no authentication protocol agreed", "peer");
      return;
    }
    this.authProtocol = protocol;
    if (this.proxiedLcp && !this.proxyAuthTried && this.proxy !== undefined) {
      this.proxyAuthTried = true;
      const proxied = proxyAuthRequest(this.proxy);
      if (proxied?.request.kind === protocol) {
        this.proxiedAuth = true;
        this.count("proxy-auth-used");
        this.auth.startProxied(proxied.request, proxied.identifier);
        return;
      }
      this.count("proxy-auth-not-used");
    }
    this.auth.start(protocol);
  }

  protected receiveAuth(protocol: number, info: Uint8Array): void {
    this.auth.receive(protocol, info);
  }

  protected stopAuth(): void {
    this.auth.stop();
  }

  private authSucceeded(result: AuthSuccess, request: AuthRequest): void {
    this.username = request.username;
    const address = optionalIpv4(result.address);
    if (address === undefined) {
      this.close("nas-error", `authentication gave no usable address (${result.address})`);
      return;
    }
    const primaryDns = optionalIpv4(result.primaryDns ?? this.config.primaryDns);
    const secondaryDns = optionalIpv4(result.secondaryDns ?? this.config.secondaryDns);
    this.assigned = { address, primaryDns, secondaryDns };
    this.ipcpPolicy = new IpcpServerPolicy({ peerAddress: address, localAddress: optionalIpv4(this.config.localAddress), primaryDns, secondaryDns });
    this.ipcp = this.makeNcp("ipcp", IPCP, this.ipcpPolicy);
    if (this.config.ipv6) {
      this.requiredPeerId = result.ipv6InterfaceId;
      this.ipv6Policy = new Ipv6cpPolicy({ localId: this.config.localInterfaceId, requiredPeerId: result.ipv6InterfaceId, random: this.link.random });
      this.ipv6cp = this.makeNcp("ipv6cp", IPV6CP, this.ipv6Policy);
    }
    this.enterNetwork();
  }

  protected ncpUp(name: NcpName): void {
    this.count(`${name}-opened`);
    if (!this.reportedUp) {
      this.reportedUp = true;
      this.events.up(this.info());
      return;
    }
    this.events.ncp?.({ protocol: name, up: true, info: this.info() });
  }

  protected ncpDown(name: NcpName): void {
    if (this.reportedUp && this.ended === undefined) this.events.ncp?.({ protocol: name, up: false, info: this.info() });
  }

  protected runsNcp(name: NcpName): boolean {
    return name === "ipcp" || this.config.ipv6;
  }

  protected noNcpReason(): DisconnectReason {
    if (this.ipcpPolicy?.addressRefused === true) return "no-address";
    const running: NcpName[] = [];
    if (this.ipcp !== undefined) running.push("ipcp");
    if (this.ipv6cp !== undefined) running.push("ipv6cp");
    return running.every((n) => this.ncpRejected.has(n)) ? "no-ncp" : "ncp-timeout";
  }

  protected emitDown(cause: DisconnectCause): void {
    this.events.down(cause);
  }

  protected dataReceived(protocol: number, payload: Uint8Array): void {
    this.events.data?.(protocol, payload);
  }
}
