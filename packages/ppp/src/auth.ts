// The Authentication phase (RFC 1661 3.5): PAP (RFC 1334) and CHAP with MD5 (RFC 1994), as the
// authenticator (LNS: the credentials go to an async callback, RADIUS in the daemon) and as the
// peer (the test LAC's client). Packets are @lnsd/wire's; runs on the control thread.
import { createHash } from "node:crypto";
import { CHAP_MD5_VALUE_SIZE, PppProtocol, decodeChap, decodePap, encodeChap, encodePap } from "@lnsd/wire";
import type { Clock, TimerHandle } from "@lnsd/io";
import type { DisconnectReason } from "./cause.js";
import type { AuthProtocolName, RandomSource } from "./config.js";
import type { LogLevel } from "./negotiation.js";

/** Credentials to check, as the peer (or the LAC, for proxy authentication) gave them. */
export type AuthRequest =
  | {
      readonly kind: "pap";
      /** Peer-ID as text (UTF-8); peerId holds the exact octets. */
      readonly username: string;
      readonly peerId: Uint8Array;
      readonly password: Uint8Array;
      /** From the LAC's Proxy Authen AVPs (RFC 2661 4.4.5), not from the peer directly. */
      readonly proxied: boolean;
    }
  | {
      readonly kind: "chap";
      readonly username: string;
      readonly peerId: Uint8Array;
      /** RFC 1994 4.1: the Identifier the Response answers (part of the MD5 input). */
      readonly identifier: number;
      readonly challenge: Uint8Array;
      readonly response: Uint8Array;
      readonly proxied: boolean;
    };

/** The authenticator's answer. On success it carries what IPCP hands out. */
export type AuthResult =
  | {
      readonly ok: true;
      /** The peer's IPv4 address (Framed-IP-Address or the pool). */
      readonly address: string;
      /** RFC 1877 DNS servers; the configured ones are used when absent. */
      readonly primaryDns?: string;
      readonly secondaryDns?: string;
      /** An IPV6CP Interface-Identifier the peer must use (8 octets); any unique one when absent. */
      readonly ipv6InterfaceId?: Uint8Array;
      /** Text for the PAP Authenticate-Ack / CHAP Success Message. */
      readonly message?: string;
    }
  | {
      readonly ok: false;
      /** Text for the Authenticate-Nak / Failure Message (default "Authentication failed"). */
      readonly message?: string;
      /** The authenticator itself failed (RADIUS unreachable): not the user's fault. */
      readonly error?: boolean;
    };

export type AuthSuccess = Extract<AuthResult, { ok: true }>;

/** RFC 1994 2, 4.1: Response Value = MD5(Identifier || secret || Challenge). */
export function chapMd5Response(identifier: number, secret: Uint8Array | string, challenge: Uint8Array): Buffer {
  return createHash("md5").update(Uint8Array.of(identifier & 0xff)).update(typeof secret === "string" ? Buffer.from(secret, "utf8") : secret).update(challenge).digest();
}

export interface AuthHostBase {
  readonly clock: Clock;
  readonly restartTimeMs: number;
  readonly maxConfigure: number;
  readonly authTimeoutMs: number;
  send(protocol: number, packet: Buffer): void;
  count(counter: string): void;
  log(level: LogLevel, reason: string, message: string): void;
  /** Runs an asynchronous continuation (an authentication answer) as an entry into the link. */
  enter(fn: () => void): void;
}

export interface AuthServerHost extends AuthHostBase {
  readonly random: RandomSource;
  /** Name in our CHAP Challenges. */
  readonly hostName: string;
  authenticate(request: AuthRequest): Promise<AuthResult>;
  succeeded(result: AuthSuccess, request: AuthRequest): void;
  failed(reason: DisconnectReason, message: string): void;
}

/** RFC 1994 4.1 / l2tpns: a 16-octet Challenge Value. */
export const CHAP_CHALLENGE_LENGTH = 16;

type ServerState = "idle" | "waiting" | "checking" | "done";

interface Verdict {
  readonly protocol: number;
  readonly identifier: number;
  readonly ok: boolean;
  readonly message: Uint8Array;
}

function text(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("utf8");
}

/**
 * A finished authentication as plain data (issue 13): enough to answer a retransmitted PAP
 * Authenticate-Request or CHAP Response with the same verdict (RFC 1334 2.2.1, RFC 1994 4.2).
 * Byte strings are hex.
 */
export interface AuthServerRecord {
  readonly protocol: AuthProtocolName;
  /** Identifier of our next CHAP Challenge. */
  readonly nextIdentifier: number;
  readonly challenge?: { readonly identifier: number; readonly valueHex: string };
  readonly verdict?: { readonly protocol: number; readonly identifier: number; readonly ok: boolean; readonly messageHex: string };
}

/** The authenticator (LNS side). */
export class AuthServer {
  state: ServerState = "idle";
  protocol: AuthProtocolName | undefined;
  private challenge: { readonly identifier: number; readonly value: Uint8Array; readonly packet: Buffer } | undefined;
  private challengesSent = 0;
  private nextIdentifier = 1;
  private verdict: Verdict | undefined;
  private retransmit: TimerHandle | undefined;
  private deadline: TimerHandle | undefined;
  /** Bumped by stop(): a result arriving for an older generation is ignored. */
  private generation = 0;

  constructor(private readonly host: AuthServerHost) {}

  /** RFC 1661 3.5: LCP is open; authenticate with the protocol agreed for our side. */
  start(protocol: AuthProtocolName): void {
    this.stop();
    this.protocol = protocol;
    this.state = "waiting";
    this.deadline = this.host.clock.setTimeout(() => {
      this.deadline = undefined;
      if (this.state === "waiting" || this.state === "checking") this.fail("auth-timeout", `no ${protocol.toUpperCase()} authentication within ${this.host.authTimeoutMs} ms`);
    }, this.host.authTimeoutMs);
    if (protocol === "chap") {
      const identifier = this.takeIdentifier();
      const value = Uint8Array.from(this.host.random(CHAP_CHALLENGE_LENGTH).subarray(0, CHAP_CHALLENGE_LENGTH));
      const packet = encodeChap({ kind: "Challenge", identifier, value, name: Buffer.from(this.host.hostName, "utf8") });
      this.challenge = { identifier, value, packet };
      this.challengesSent = 0;
      this.sendChallenge();
    }
    // PAP: the peer speaks first (RFC 1334 2.2); the deadline above bounds the wait.
  }

  /** Proxy authentication (RFC 2661 4.4.5): check what the LAC collected, answer with its Identifier. */
  startProxied(request: AuthRequest, identifier: number): void {
    this.stop();
    this.protocol = request.kind;
    this.state = "checking";
    if (request.kind === "chap") {
      // Kept so that a retransmitted Response gets the same Success or Failure (RFC 1994 4.2).
      const name = Buffer.from(this.host.hostName, "utf8");
      this.challenge = { identifier, value: request.challenge, packet: encodeChap({ kind: "Challenge", identifier, value: request.challenge, name }) };
    }
    this.deadline = this.host.clock.setTimeout(() => {
      this.deadline = undefined;
      if (this.state === "checking") this.fail("auth-timeout", "proxied authentication not answered in time");
    }, this.host.authTimeoutMs);
    this.check(request, request.kind === "pap" ? PppProtocol.PAP : PppProtocol.CHAP, identifier);
  }

  /** The finished authentication as a record; undefined unless it is done. */
  record(): AuthServerRecord | undefined {
    if (this.state !== "done" || this.protocol === undefined) return undefined;
    const c = this.challenge;
    const v = this.verdict;
    return {
      protocol: this.protocol,
      nextIdentifier: this.nextIdentifier,
      ...(c === undefined ? {} : { challenge: { identifier: c.identifier, valueHex: Buffer.from(c.value).toString("hex") } }),
      ...(v === undefined ? {} : { verdict: { protocol: v.protocol, identifier: v.identifier, ok: v.ok, messageHex: Buffer.from(v.message).toString("hex") } }),
    };
  }

  /** Rebuilds a finished authentication from its record: no timer, nothing sent. */
  restoreDone(r: AuthServerRecord): void {
    this.stop();
    this.protocol = r.protocol;
    this.nextIdentifier = r.nextIdentifier & 0xff;
    const c = r.challenge;
    if (c !== undefined) {
      const value = Uint8Array.from(Buffer.from(c.valueHex, "hex"));
      const name = Buffer.from(this.host.hostName, "utf8");
      this.challenge = { identifier: c.identifier, value, packet: encodeChap({ kind: "Challenge", identifier: c.identifier, value, name }) };
    }
    const v = r.verdict;
    if (v !== undefined) this.verdict = { protocol: v.protocol, identifier: v.identifier, ok: v.ok, message: Buffer.from(v.messageHex, "hex") };
    this.state = "done";
  }

  /** Cancels timers; a pending authentication result will be ignored. */
  stop(): void {
    this.generation++;
    this.retransmit?.cancel();
    this.retransmit = undefined;
    this.deadline?.cancel();
    this.deadline = undefined;
    if (this.state !== "done") this.state = "idle";
  }

  private takeIdentifier(): number {
    const id = this.nextIdentifier;
    this.nextIdentifier = (this.nextIdentifier + 1) & 0xff;
    return id;
  }

  private sendChallenge(): void {
    const c = this.challenge;
    if (c === undefined || this.state !== "waiting") return;
    if (this.challengesSent >= this.host.maxConfigure) {
      this.fail("auth-timeout", `no CHAP Response to ${this.challengesSent} Challenges`);
      return;
    }
    this.challengesSent++;
    this.host.count("chap-challenge-sent");
    // Retransmissions repeat the same Identifier and Value, so a Response already on its way stays valid.
    this.host.send(PppProtocol.CHAP, c.packet);
    this.retransmit = this.host.clock.setTimeout(() => {
      this.retransmit = undefined;
      this.sendChallenge();
    }, this.host.restartTimeMs);
  }

  receive(protocol: number, info: Uint8Array): void {
    if (protocol === PppProtocol.PAP) this.receivePap(info);
    else this.receiveChap(info);
  }

  private receivePap(info: Uint8Array): void {
    const d = decodePap(info);
    if (!d.ok) {
      this.host.count("pap-malformed");
      return;
    }
    const p = d.value;
    if (p.kind !== "AuthReq" || this.protocol !== "pap") {
      this.host.count("pap-unexpected");
      return;
    }
    switch (this.state) {
      case "waiting":
        this.check({ kind: "pap", username: text(p.peerId), peerId: Uint8Array.from(p.peerId), password: Uint8Array.from(p.password), proxied: false }, PppProtocol.PAP, p.identifier);
        return;
      case "checking":
        this.host.count("pap-retransmit-while-checking");
        return;
      case "done":
        // RFC 1334 2.2.1: the peer retransmits until it hears an answer: repeat ours, with its Identifier.
        if (this.verdict !== undefined) this.sendVerdict({ ...this.verdict, identifier: p.identifier });
        return;
      case "idle":
        this.host.count("pap-unexpected");
        return;
    }
  }

  private receiveChap(info: Uint8Array): void {
    const d = decodeChap(info);
    if (!d.ok) {
      this.host.count("chap-malformed");
      return;
    }
    const p = d.value;
    const c = this.challenge;
    if (p.kind !== "Response" || this.protocol !== "chap" || c === undefined) {
      this.host.count("chap-unexpected");
      return;
    }
    if (p.identifier !== c.identifier) {
      // RFC 1994 4.1: a Response must answer the outstanding Challenge.
      this.host.count("chap-stale-response");
      return;
    }
    switch (this.state) {
      case "waiting":
        this.retransmit?.cancel();
        this.retransmit = undefined;
        if (p.value.length !== CHAP_MD5_VALUE_SIZE) {
          this.decide({ ok: false, message: "Bad CHAP response" }, undefined, PppProtocol.CHAP, p.identifier);
          return;
        }
        this.check(
          { kind: "chap", username: text(p.name), peerId: Uint8Array.from(p.name), identifier: p.identifier, challenge: c.value, response: Uint8Array.from(p.value), proxied: false },
          PppProtocol.CHAP,
          p.identifier,
        );
        return;
      case "checking":
        this.host.count("chap-retransmit-while-checking");
        return;
      case "done":
        // RFC 1994 4.2: a Response for an answered Challenge gets the same Success or Failure again.
        if (this.verdict !== undefined) this.sendVerdict(this.verdict);
        return;
      case "idle":
        this.host.count("chap-unexpected");
        return;
    }
  }

  private check(request: AuthRequest, protocol: number, identifier: number): void {
    this.state = "checking";
    const generation = this.generation;
    let pending: Promise<AuthResult>;
    try {
      pending = this.host.authenticate(request);
    } catch (e) {
      pending = Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    pending.then(
      (result) => {
        this.host.enter(() => {
          if (generation === this.generation) this.decide(result, request, protocol, identifier);
        });
      },
      (e: unknown) => {
        this.host.enter(() => {
          if (generation !== this.generation) return;
          this.host.log("warn", "authenticate-failed", `authentication callback failed: ${e instanceof Error ? e.message : String(e)}`);
          this.decide({ ok: false, error: true, message: "Authentication unavailable" }, request, protocol, identifier);
        });
      },
    ).catch(() => {
      // decide() never throws; this only keeps an unexpected throw from becoming an unhandled rejection.
      this.host.count("internal-error");
    });
  }

  private decide(result: AuthResult, request: AuthRequest | undefined, protocol: number, identifier: number): void {
    if (this.state === "done" || this.state === "idle") return;
    this.state = "done";
    this.retransmit?.cancel();
    this.retransmit = undefined;
    this.deadline?.cancel();
    this.deadline = undefined;
    const message = Buffer.from(result.message ?? (result.ok ? "" : "Authentication failed"), "utf8").subarray(0, 200);
    this.verdict = { protocol, identifier, ok: result.ok, message };
    this.sendVerdict(this.verdict);
    if (result.ok && request !== undefined) {
      this.host.count(`${request.kind}-accepted`);
      this.host.succeeded(result, request);
    } else {
      this.host.count(protocol === PppProtocol.PAP ? "pap-refused" : "chap-refused");
      const reason: DisconnectReason = !result.ok && result.error === true ? "auth-error" : "auth-failed";
      this.host.failed(reason, `${request?.username ?? "peer"}: ${text(message)}`);
    }
  }

  private sendVerdict(v: Verdict): void {
    if (v.protocol === PppProtocol.PAP) {
      this.host.send(PppProtocol.PAP, encodePap({ kind: v.ok ? "AuthAck" : "AuthNak", identifier: v.identifier, message: v.message }));
    } else {
      this.host.send(PppProtocol.CHAP, encodeChap({ kind: v.ok ? "Success" : "Failure", identifier: v.identifier, message: v.message }));
    }
  }

  private fail(reason: DisconnectReason, message: string): void {
    this.stop();
    this.state = "done";
    this.host.failed(reason, message);
  }
}

export interface AuthClientHost extends AuthHostBase {
  readonly username: string;
  readonly password: string;
  succeeded(): void;
  failed(reason: DisconnectReason, message: string): void;
}

/** The authenticated side (the test LAC's PPP client). */
export class AuthClient {
  state: "idle" | "waiting" | "done" = "idle";
  protocol: AuthProtocolName | undefined;
  private papIdentifier = 0;
  private papSent = 0;
  private retransmit: TimerHandle | undefined;
  private deadline: TimerHandle | undefined;
  /** Challenges answered (RFC 1994 allows the authenticator to challenge again at any time). */
  responsesSent = 0;

  constructor(private readonly host: AuthClientHost) {}

  start(protocol: AuthProtocolName): void {
    this.stop();
    this.protocol = protocol;
    this.state = "waiting";
    this.deadline = this.host.clock.setTimeout(() => {
      this.deadline = undefined;
      if (this.state === "waiting") this.fail("auth-timeout", `no ${protocol.toUpperCase()} answer from the authenticator`);
    }, this.host.authTimeoutMs);
    if (protocol === "pap") {
      this.papSent = 0;
      this.sendPap();
    }
  }

  stop(): void {
    this.retransmit?.cancel();
    this.retransmit = undefined;
    this.deadline?.cancel();
    this.deadline = undefined;
    if (this.state === "waiting") this.state = "idle";
  }

  private sendPap(): void {
    if (this.state !== "waiting") return;
    if (this.papSent >= this.host.maxConfigure) {
      this.fail("auth-timeout", `no answer to ${this.papSent} PAP Authenticate-Requests`);
      return;
    }
    this.papSent++;
    // RFC 1334 2.2.1: the Identifier changes with every Authenticate-Request.
    this.papIdentifier = (this.papIdentifier + 1) & 0xff;
    this.host.send(
      PppProtocol.PAP,
      encodePap({ kind: "AuthReq", identifier: this.papIdentifier, peerId: Buffer.from(this.host.username, "utf8"), password: Buffer.from(this.host.password, "utf8") }),
    );
    this.retransmit = this.host.clock.setTimeout(() => {
      this.retransmit = undefined;
      this.sendPap();
    }, this.host.restartTimeMs);
  }

  receive(protocol: number, info: Uint8Array): void {
    if (protocol === PppProtocol.PAP) {
      const d = decodePap(info);
      if (!d.ok || d.value.kind === "AuthReq" || this.protocol !== "pap" || this.state !== "waiting") {
        this.host.count("pap-unexpected");
        return;
      }
      if (d.value.identifier !== this.papIdentifier) {
        this.host.count("pap-stale-reply");
        return;
      }
      if (d.value.kind === "AuthAck") this.succeed();
      else this.fail("auth-refused-by-peer", text(d.value.message));
      return;
    }
    const d = decodeChap(info);
    if (!d.ok || this.protocol !== "chap") {
      this.host.count("chap-unexpected");
      return;
    }
    const p = d.value;
    switch (p.kind) {
      case "Challenge":
        this.responsesSent++;
        this.host.send(
          PppProtocol.CHAP,
          encodeChap({ kind: "Response", identifier: p.identifier, value: chapMd5Response(p.identifier, this.host.password, p.value), name: Buffer.from(this.host.username, "utf8") }),
        );
        return;
      case "Success":
        if (this.state === "waiting") this.succeed();
        return;
      case "Failure":
        if (this.state === "waiting" || this.state === "done") this.fail("auth-refused-by-peer", text(p.message));
        return;
      case "Response":
        this.host.count("chap-unexpected");
        return;
    }
  }

  private succeed(): void {
    this.stop();
    this.state = "done";
    this.host.succeeded();
  }

  private fail(reason: DisconnectReason, message: string): void {
    this.stop();
    this.state = "done";
    this.host.failed(reason, message);
  }
}
