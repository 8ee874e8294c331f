// IPCP option policies (RFC 1332, RFC 1877): the LNS hands out the address (and DNS servers) the
// authentication gave; the client asks for 0.0.0.0 and takes what it is Nak'd with. Runs on the
// control thread.
import type { IpcpOption, IpcpOptionTable } from "@lnsd/wire";
import { CONTINUE, type OptionPolicy, type OptionVerdict, type PolicyOutcome } from "./negotiation.js";

const ACK: OptionVerdict<IpcpOptionTable> = { kind: "ack" };
const REJECT: OptionVerdict<IpcpOptionTable> = { kind: "reject" };

export interface IpcpServerSettings {
  /** The peer's address (from the authentication result or the pool). */
  readonly peerAddress: number;
  /** Our IP-Address option; none sent when undefined. */
  readonly localAddress: number | undefined;
  /** RFC 1877 DNS servers to give; an option asked for without one is rejected. */
  readonly primaryDns: number | undefined;
  readonly secondaryDns: number | undefined;
}

export class IpcpServerPolicy implements OptionPolicy<IpcpOptionTable> {
  private sendAddress: boolean;
  /** The peer kept asking for another address until Max-Failure turned our Nak into a Reject. */
  addressRefused = false;
  /** The address the peer acknowledged it will use (set when we Ack its request). */
  agreedPeerAddress: number | undefined;

  constructor(private readonly s: IpcpServerSettings) {
    this.sendAddress = s.localAddress !== undefined;
  }

  /** Whether our requests still carry our IP-Address (false once the peer Nak'd or rejected it). */
  get sendsAddress(): boolean {
    return this.sendAddress;
  }

  /** Rebuilds the policy of an Opened IPCP from its record (issue 13). */
  restoreAgreed(agreedPeerAddress: number | undefined, sendsAddress: boolean): void {
    this.agreedPeerAddress = agreedPeerAddress;
    this.sendAddress = sendsAddress && this.s.localAddress !== undefined;
  }

  request(): IpcpOption[] {
    return this.sendAddress && this.s.localAddress !== undefined ? [{ name: "ipAddress", value: this.s.localAddress }] : [];
  }

  check(option: IpcpOption): OptionVerdict<IpcpOptionTable> {
    switch (option.name) {
      case "ipAddress":
        // RFC 1332 3.3: 0.0.0.0 asks us to choose; any other address than ours is Nak'd with ours.
        return option.value === this.s.peerAddress ? ACK : { kind: "nak", option: { name: "ipAddress", value: this.s.peerAddress } };
      case "primaryDns":
        return this.dns(option.value, this.s.primaryDns, "primaryDns");
      case "secondaryDns":
        return this.dns(option.value, this.s.secondaryDns, "secondaryDns");
      case "primaryNbns":
      case "secondaryNbns":
        // RFC 1877 1.2, 1.4: lnsd gives no NetBIOS name servers.
        return REJECT;
      case "ipCompressionProtocol":
        // RFC 1332 3.2: no Van Jacobson compression in the data plane.
        return REJECT;
      case "ipAddresses":
        // RFC 1332 3.1: deprecated; peers fall back to IP-Address when it is rejected.
        return REJECT;
      case "unknown":
        return REJECT;
    }
  }

  private dns(value: number, ours: number | undefined, name: "primaryDns" | "secondaryDns"): OptionVerdict<IpcpOptionTable> {
    // RFC 1877 1.1, 1.3: with no server to give, the option is rejected so the peer stops asking.
    if (ours === undefined) return REJECT;
    return value === ours ? ACK : { kind: "nak", option: { name, value: ours } };
  }

  /** RFC 1661 5.3: a peer that asks no address is told which one to use. */
  solicit(options: readonly IpcpOption[]): IpcpOption[] {
    return options.some((o) => o.name === "ipAddress") ? [] : [{ name: "ipAddress", value: this.s.peerAddress }];
  }

  nakTurnedReject(option: IpcpOption): void {
    if (option.name === "ipAddress") this.addressRefused = true;
  }

  peerAcked(options: readonly IpcpOption[]): void {
    const address = options.find((o) => o.name === "ipAddress");
    this.agreedPeerAddress = address?.name === "ipAddress" ? address.value : this.s.peerAddress;
  }

  ourAcked(): void {
    // Nothing to record: our address is configuration.
  }

  nak(options: readonly IpcpOption[]): PolicyOutcome {
    // A peer that wants us to use another address: our address is what we route, so we stop
    // sending the option rather than argue (it only names the far end of a point-to-point link).
    if (options.some((o) => o.name === "ipAddress")) this.sendAddress = false;
    return CONTINUE;
  }

  reject(options: readonly IpcpOption[]): PolicyOutcome {
    if (options.some((o) => o.name === "ipAddress")) this.sendAddress = false;
    return CONTINUE;
  }
}

/** The client: asks 0.0.0.0 (and DNS 0.0.0.0) and takes the values it is Nak'd with. */
export class IpcpClientPolicy implements OptionPolicy<IpcpOptionTable> {
  address = 0;
  primaryDns: number | undefined;
  secondaryDns: number | undefined;
  /** The LNS's own address, when it sent one. */
  peerAddress: number | undefined;
  private askAddress = true;

  constructor(requestDns: boolean) {
    if (requestDns) {
      this.primaryDns = 0;
      this.secondaryDns = 0;
    }
  }

  request(): IpcpOption[] {
    const options: IpcpOption[] = [];
    if (this.askAddress) options.push({ name: "ipAddress", value: this.address });
    if (this.primaryDns !== undefined) options.push({ name: "primaryDns", value: this.primaryDns });
    if (this.secondaryDns !== undefined) options.push({ name: "secondaryDns", value: this.secondaryDns });
    return options;
  }

  check(option: IpcpOption): OptionVerdict<IpcpOptionTable> {
    // The LNS tells us its address; we have none to suggest, so 0.0.0.0 is rejected.
    if (option.name === "ipAddress") return option.value === 0 ? REJECT : ACK;
    return REJECT;
  }

  peerAcked(options: readonly IpcpOption[]): void {
    const address = options.find((o) => o.name === "ipAddress");
    this.peerAddress = address?.name === "ipAddress" ? address.value : undefined;
  }

  ourAcked(options: readonly IpcpOption[]): void {
    for (const o of options) {
      if (o.name === "ipAddress") this.address = o.value;
      else if (o.name === "primaryDns") this.primaryDns = o.value;
      else if (o.name === "secondaryDns") this.secondaryDns = o.value;
    }
  }

  nak(options: readonly IpcpOption[]): PolicyOutcome {
    for (const o of options) {
      if (o.name === "ipAddress") {
        this.address = o.value;
        this.askAddress = true;
      } else if (o.name === "primaryDns") {
        this.primaryDns = o.value;
      } else if (o.name === "secondaryDns") {
        this.secondaryDns = o.value;
      }
    }
    return CONTINUE;
  }

  reject(options: readonly IpcpOption[]): PolicyOutcome {
    for (const o of options) {
      if (o.name === "ipAddress") this.askAddress = false;
      else if (o.name === "primaryDns") this.primaryDns = undefined;
      else if (o.name === "secondaryDns") this.secondaryDns = undefined;
    }
    return CONTINUE;
  }
}
