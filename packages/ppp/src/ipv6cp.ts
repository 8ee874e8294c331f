// IPV6CP option policy (RFC 5072 4.1): Interface-Identifier negotiation, the same for both roles.
// Each side picks a non-zero identifier unique on the link; a zero or clashing one is Nak'd with a
// suggestion. Runs on the control thread.
import type { Ipv6cpOption, Ipv6cpOptionTable } from "@lnsd/wire";
import type { RandomSource } from "./config.js";
import { CONTINUE, type OptionPolicy, type OptionVerdict, type PolicyOutcome } from "./negotiation.js";

export const INTERFACE_ID_LENGTH = 8;

const ACK: OptionVerdict<Ipv6cpOptionTable> = { kind: "ack" };
const REJECT: OptionVerdict<Ipv6cpOptionTable> = { kind: "reject" };

function isZero(id: Uint8Array): boolean {
  return id.every((b) => b === 0);
}

function same(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a !== undefined && b !== undefined && Buffer.compare(a, b) === 0;
}

/** Formats an identifier as the low half of an IPv6 address ("::1", "a:e764:100:0"). */
export function formatInterfaceId(id: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < INTERFACE_ID_LENGTH; i += 2) groups.push((((id[i] ?? 0) << 8) | (id[i + 1] ?? 0)).toString(16));
  const text = groups.join(":").replace(/^(0:)+/, "");
  return `::${text === "" ? "0" : text}`;
}

export interface Ipv6cpSettings {
  /** Our identifier; a random one when undefined. */
  readonly localId: Uint8Array | undefined;
  /** An identifier the peer must use (e.g. derived from its IPv4 address); any unique one when undefined. */
  readonly requiredPeerId: Uint8Array | undefined;
  readonly random: RandomSource;
}

export class Ipv6cpPolicy implements OptionPolicy<Ipv6cpOptionTable> {
  localId: Uint8Array;
  peerId: Uint8Array | undefined;
  private sendId = true;

  constructor(private readonly s: Ipv6cpSettings) {
    this.localId = s.localId !== undefined && s.localId.length === INTERFACE_ID_LENGTH && !isZero(s.localId) ? Uint8Array.from(s.localId) : this.randomId();
  }

  private randomId(...avoid: (Uint8Array | undefined)[]): Uint8Array {
    const usable = (id: Uint8Array): boolean => id.length === INTERFACE_ID_LENGTH && !isZero(id) && !avoid.some((a) => same(a, id));
    for (let i = 0; i < 8; i++) {
      const id = Uint8Array.from(this.s.random(INTERFACE_ID_LENGTH).subarray(0, INTERFACE_ID_LENGTH));
      if (usable(id)) return id;
    }
    // Only with a broken random source: a fixed identifier different from the ones to avoid.
    for (let last = 2; ; last++) {
      const id = Uint8Array.from([0x02, 0, 0, 0, 0, 0, 0, last & 0xff]);
      if (usable(id) || last > 0x100) return id;
    }
  }

  /** Whether our requests still carry our Interface-Identifier (false once the peer rejected it). */
  get sendsId(): boolean {
    return this.sendId;
  }

  /** Rebuilds the policy of an Opened IPV6CP from its record (issue 13). */
  restoreAgreed(localId: Uint8Array, peerId: Uint8Array | undefined, sendsId: boolean): void {
    this.localId = Uint8Array.from(localId);
    this.peerId = peerId === undefined ? undefined : Uint8Array.from(peerId);
    this.sendId = sendsId;
  }

  request(): Ipv6cpOption[] {
    return this.sendId ? [{ name: "interfaceIdentifier", value: this.localId }] : [];
  }

  check(option: Ipv6cpOption): OptionVerdict<Ipv6cpOptionTable> {
    switch (option.name) {
      case "interfaceIdentifier": {
        const id = option.value;
        const required = this.s.requiredPeerId;
        if (required !== undefined) {
          return same(id, required) ? ACK : { kind: "nak", option: { name: "interfaceIdentifier", value: required } };
        }
        // RFC 5072 4.1: zero asks us to choose; our own value is a clash: Nak with a new one.
        if (isZero(id) || same(id, this.localId)) return { kind: "nak", option: { name: "interfaceIdentifier", value: this.randomId(this.localId) } };
        return ACK;
      }
      case "ipv6CompressionProtocol":
        // RFC 5072 4.2: no header compression in the data plane.
        return REJECT;
      case "unknown":
        return REJECT;
    }
  }

  peerAcked(options: readonly Ipv6cpOption[]): void {
    const o = options.find((x) => x.name === "interfaceIdentifier");
    this.peerId = o?.name === "interfaceIdentifier" ? Uint8Array.from(o.value) : undefined;
  }

  ourAcked(): void {
    // localId is what was acknowledged.
  }

  nak(options: readonly Ipv6cpOption[]): PolicyOutcome {
    for (const o of options) {
      if (o.name !== "interfaceIdentifier") continue;
      // RFC 5072 4.1: use the suggestion when it is usable, else pick another ourselves.
      const suggestion = o.value;
      this.localId = !isZero(suggestion) && !same(suggestion, this.peerId) ? Uint8Array.from(suggestion) : this.randomId(this.peerId, this.localId);
      this.sendId = true;
    }
    return CONTINUE;
  }

  reject(options: readonly Ipv6cpOption[]): PolicyOutcome {
    if (options.some((o) => o.name === "interfaceIdentifier")) this.sendId = false;
    return CONTINUE;
  }
}
