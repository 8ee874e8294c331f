// PPP inside the simulator's calls: a PPP client (packages/ppp, client role) per call, so that the
// test LAC logs subscribers in (LCP, PAP or CHAP, IPCP) the way a LAC's customers do.
import { randomBytes } from "node:crypto";
import { systemClock, type Clock } from "@lnsd/io";
import { PppClientSession, type AuthProtocolName, type EchoSample, type PppClientUpInfo } from "@lnsd/ppp";
import type { LacCall, LacCallHandler } from "./lac.js";

export interface PppLoginOptions {
  /** The username of call (tunnel t, session s); a fixed name when a string. */
  readonly username: string | ((tunnelIndex: number, sessionIndex: number) => string);
  readonly password: string;
  /** What the client agrees to, in order of preference (default chap then pap). */
  readonly authProtocols?: readonly AuthProtocolName[];
  readonly clock?: Clock;
  /** Called with each IP packet the LNS sends to a subscriber. */
  readonly onPacket?: (call: LacCall, protocol: number, payload: Uint8Array) => void;
  /** Called when a call's IPCP comes up (after stats.online has it). */
  readonly onUp?: (call: LacCall, info: PppClientUpInfo) => void;
  /** Run IPV6CP too (an LNS with ipv6_prefix); stats.online's info then has the identifiers. */
  readonly ipv6?: boolean;
  /**
   * LCP Echo-Requests from every subscriber each intervalMs, whatever the traffic (RFC 1661 5.8);
   * each reply (with its round trip) or loss is told to onEcho. Without it a subscriber only
   * answers the LNS's Echo-Requests.
   */
  readonly echo?: { readonly intervalMs: number; readonly onEcho?: (call: LacCall, sample: EchoSample) => void };
}

export interface PppLoginStats {
  /** Sessions whose IPCP came up, with their addresses. */
  readonly online: Map<LacCall, PppClientUpInfo>;
  /** Ended logins by reason (auth-failed, ...). */
  readonly failures: Map<string, number>;
}

export interface PppLogins {
  readonly handler: LacCallHandler;
  readonly stats: PppLoginStats;
  /** Sends an IP packet from a subscriber (protocol 0x0021 IPv4, 0x0057 IPv6). */
  send(call: LacCall, protocol: number, payload: Uint8Array): boolean;
}

export function pppLogins(opts: PppLoginOptions): PppLogins {
  const clients = new Map<LacCall, PppClientSession>();
  const stats: PppLoginStats = { online: new Map(), failures: new Map() };
  const echo = opts.echo;
  const echoConfig = (call: LacCall): { echoIntervalMs?: number; echoOnlyWhenIdle?: boolean; onEcho?: (sample: EchoSample) => void } =>
    echo === undefined ? {} : { echoIntervalMs: echo.intervalMs, echoOnlyWhenIdle: false, onEcho: (sample) => { echo.onEcho?.(call, sample); } };
  const handler: LacCallHandler = {
    up: (call) => {
      const username = typeof opts.username === "string" ? opts.username : opts.username(call.tunnelIndex, call.sessionIndex);
      const client = new PppClientSession({
        clock: opts.clock ?? systemClock,
        random: randomBytes,
        send: (frame) => { call.sendFrame(frame); },
        config: { username, password: opts.password, authProtocols: opts.authProtocols ?? ["chap", "pap"], ipv6: opts.ipv6 === true, ...echoConfig(call) },
        events: {
          // Online once IPCP is up (with IPV6CP, either NCP may open first: the address is
          // 0.0.0.0 until IPCP has one).
          up: (info) => {
            if (info.address === "0.0.0.0") return;
            stats.online.set(call, info);
            opts.onUp?.(call, info);
          },
          ncp: (protocol, up, info) => {
            if (!up) return;
            const was = stats.online.has(call);
            if (was || protocol === "ipcp") stats.online.set(call, info);
            if (!was && protocol === "ipcp") opts.onUp?.(call, info);
          },
          down: (cause) => {
            stats.online.delete(call);
            if (cause.by !== "lower-layer") stats.failures.set(cause.reason, (stats.failures.get(cause.reason) ?? 0) + 1);
          },
          data: (protocol, payload) => { opts.onPacket?.(call, protocol, payload); },
        },
      });
      clients.set(call, client);
      client.start();
    },
    frame: (call, frame) => { clients.get(call)?.receive(frame); },
    down: (call) => {
      clients.get(call)?.stop("lost-carrier");
      clients.delete(call);
      stats.online.delete(call);
    },
  };
  return {
    handler,
    stats,
    send: (call, protocol, payload) => {
      const frame = Buffer.allocUnsafe(4 + payload.length);
      frame[0] = 0xff;
      frame[1] = 0x03;
      frame.writeUInt16BE(protocol, 2);
      frame.set(payload, 4);
      return call.sendFrame(frame);
    },
  };
}
