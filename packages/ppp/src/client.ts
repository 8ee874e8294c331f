// The subscriber's side of a PPP session, for the test LAC (packages/testkit): the same LCP and
// automaton as the LNS side, PAP or CHAP-MD5 answered with a username and password, IPCP asking
// 0.0.0.0 and taking the address it is Nak'd with, optional IPV6CP. Runs on the control thread.
import { formatIpv4, IPCP, IPV6CP } from "@lnsd/wire";
import { AuthClient } from "./auth.js";
import type { DisconnectCause, DisconnectReason } from "./cause.js";
import { DEFAULT_CLIENT_CONFIG, type PppClientConfig, withDefaults } from "./config.js";
import { IpcpClientPolicy } from "./ipcp.js";
import { Ipv6cpPolicy } from "./ipv6cp.js";
import { type NcpName, PppLink, type PppLinkOptions } from "./link.js";

export interface PppClientUpInfo {
  /** The address IPCP gave us. */
  readonly address: string;
  readonly primaryDns: string | undefined;
  readonly secondaryDns: string | undefined;
  /** The LNS's own IP-Address, when it sent one. */
  readonly peerAddress: string | undefined;
  /** Our and the LNS's IPV6CP Interface-Identifiers, once IPV6CP is Opened. */
  readonly ipv6: { readonly localInterfaceId: Uint8Array; readonly peerInterfaceId: Uint8Array } | undefined;
  readonly mru: number;
  readonly peerMru: number;
}

export interface PppClientEvents {
  up(info: PppClientUpInfo): void;
  down(cause: DisconnectCause): void;
  /** IPV6CP opened (or closed) after the up event. */
  ncp?(protocol: NcpName, up: boolean, info: PppClientUpInfo): void;
  data?(protocol: number, payload: Uint8Array): void;
}

export interface PppClientOptions extends PppLinkOptions {
  readonly config: Partial<PppClientConfig> & Pick<PppClientConfig, "username" | "password">;
  readonly events: PppClientEvents;
}

export class PppClientSession extends PppLink {
  readonly config: PppClientConfig;
  private readonly auth: AuthClient;
  private readonly events: PppClientEvents;
  private ipcpPolicy: IpcpClientPolicy | undefined;
  private ipv6Policy: Ipv6cpPolicy | undefined;

  constructor(opts: PppClientOptions) {
    const config = withDefaults<PppClientConfig>(DEFAULT_CLIENT_CONFIG, opts.config);
    super(config, opts, { mru: config.mru, authRequest: [], authAccept: config.authProtocols }, false);
    this.config = config;
    this.events = opts.events;
    this.auth = new AuthClient({
      clock: this.clock,
      username: config.username,
      password: config.password,
      restartTimeMs: config.restartTimeMs,
      maxConfigure: config.maxConfigure,
      authTimeoutMs: config.authTimeoutMs,
      send: (protocol, packet) => {
        this.sendPacket(protocol, packet);
      },
      succeeded: () => {
        this.startNetwork();
      },
      failed: (reason, message) => {
        this.close(reason, message, "peer");
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

  info(): PppClientUpInfo {
    const p = this.ipcpPolicy;
    const v6 = this.ipv6Policy;
    const agreed = this.lcpPolicy.agreed;
    return {
      address: formatIpv4(p?.address ?? 0),
      primaryDns: p?.primaryDns === undefined || p.primaryDns === 0 ? undefined : formatIpv4(p.primaryDns),
      secondaryDns: p?.secondaryDns === undefined || p.secondaryDns === 0 ? undefined : formatIpv4(p.secondaryDns),
      peerAddress: p?.peerAddress === undefined ? undefined : formatIpv4(p.peerAddress),
      ipv6: this.ipv6cp?.opened === true && v6?.peerId !== undefined ? { localInterfaceId: Uint8Array.from(v6.localId), peerInterfaceId: Uint8Array.from(v6.peerId) } : undefined,
      mru: agreed.ourMru,
      peerMru: agreed.peerMru,
    };
  }

  protected authenticatePhase(): void {
    // RFC 1661 3.5: authenticate only when the LNS asked for it in its Configure-Request.
    const protocol = this.lcpPolicy.agreed.peerAuth;
    if (protocol === undefined) {
      this.startNetwork();
      return;
    }
    this.auth.start(protocol);
  }

  private startNetwork(): void {
    if (this.ipcp === undefined) {
      this.ipcpPolicy = new IpcpClientPolicy(this.config.requestDns);
      this.ipcp = this.makeNcp("ipcp", IPCP, this.ipcpPolicy);
      if (this.config.ipv6) {
        this.ipv6Policy = new Ipv6cpPolicy({ localId: undefined, requiredPeerId: undefined, random: this.link.random });
        this.ipv6cp = this.makeNcp("ipv6cp", IPV6CP, this.ipv6Policy);
      }
    }
    this.enterNetwork();
  }

  /** As pppd: an LNS that renegotiates LCP (a restarted one, RFC 2661 18's proxy LCP) gets a new link. */
  protected override renegotiatesLcp(): boolean {
    return true;
  }

  protected receiveAuth(protocol: number, info: Uint8Array): void {
    this.auth.receive(protocol, info);
  }

  protected stopAuth(): void {
    this.auth.stop();
  }

  protected ncpUp(name: NcpName): void {
    this.count(`${name}-opened`);
    if (!this.reportedUp) {
      this.reportedUp = true;
      this.events.up(this.info());
      return;
    }
    this.events.ncp?.(name, true, this.info());
  }

  protected ncpDown(name: NcpName): void {
    if (this.reportedUp && this.ended === undefined) this.events.ncp?.(name, false, this.info());
  }

  protected runsNcp(name: NcpName): boolean {
    return name === "ipcp" || this.config.ipv6;
  }

  protected noNcpReason(): DisconnectReason {
    return this.ncpRejected.size > 0 ? "no-ncp" : "ncp-timeout";
  }

  protected emitDown(cause: DisconnectCause): void {
    this.events.down(cause);
  }

  protected dataReceived(protocol: number, payload: Uint8Array): void {
    this.events.data?.(protocol, payload);
  }
}
