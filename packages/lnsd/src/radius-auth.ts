// Authentication through RADIUS (primary_radius, secondary_radius): an Access-Request per PAP or
// CHAP login, the Access-Accept's address, DNS and session policy handed to the session manager.
// The RADIUS client does the retransmission and failover. Control thread.
import { parseIpv4 } from "@lnsd/wire";
import type { AuthRequest } from "@lnsd/ppp";
import type { StartupSettings } from "@lnsd/config";
import {
  connectInfo,
  MESSAGE_AUTHENTICATOR_POLICIES,
  radiusServersFromSettings,
  type AccessRequestInput,
  type AuthReply,
  type AuthResult,
  type MessageAuthenticatorPolicy,
  type NasIdentity,
  type PppAuth,
  type RadiusClientOptions,
} from "@lnsd/radius";
import type { AuthAnswer, AuthContext, Authenticator, SessionPolicy } from "./sessions.js";

/** radius_require_message_authenticator: auto, yes or no (true and false as l2tpns booleans). */
export function parseMessageAuthenticatorPolicy(text: string): MessageAuthenticatorPolicy | undefined {
  const word = text.trim().toLowerCase();
  if (word === "true") return "yes";
  if (word === "false") return "no";
  return MESSAGE_AUTHENTICATOR_POLICIES.find((p) => p === word);
}

/**
 * The RADIUS client of the settings. Requests leave from radius_bind_address, or by default from
 * the address the kernel picks for the route to each server (as l2tpns: FreeRADIUS knows its
 * clients by that address, and in a cluster bind_address is every node's). RFC 2865 5.4, 5.32:
 * NAS-IP-Address is bind_address when one is set, NAS-Identifier the hostname. Throws on a
 * setting lnsd cannot use.
 */
export function radiusClientOptions(settings: StartupSettings, hostname: string): Omit<RadiusClientOptions, "onEvent"> {
  const servers = radiusServersFromSettings({
    primary: settings.primary_radius,
    secondary: settings.secondary_radius,
    primaryPort: settings.primary_radius_port,
    secondaryPort: settings.secondary_radius_port,
  });
  const policy = parseMessageAuthenticatorPolicy(settings.radius_require_message_authenticator);
  if (policy === undefined) throw new Error(`radius_require_message_authenticator '${settings.radius_require_message_authenticator}': use auto, yes or no`);
  const nas: NasIdentity = { ...(settings.bind_address !== "0.0.0.0" ? { ipAddress: settings.bind_address } : {}), identifier: hostname };
  return {
    servers,
    secret: settings.radius_secret,
    nas,
    ...(settings.radius_bind_address !== "0.0.0.0" ? { bindAddress: settings.radius_bind_address } : {}),
    ...(settings.radius_bind_min > 0 ? { bindPortMin: settings.radius_bind_min } : {}),
    ...(settings.radius_bind_max > 0 ? { bindPortMax: settings.radius_bind_max } : {}),
    requireMessageAuthenticator: policy,
  };
}

/** What the authenticator needs of a RADIUS client (RadiusClient, or a fake in tests). */
export interface RadiusAuthClient {
  authenticate(input: AccessRequestInput): Promise<AuthResult>;
}

/**
 * RFC 2865 5.8: Framed-IP-Address 255.255.255.254 asks the NAS to pick an address, and
 * 255.255.255.255 lets the user choose (lnsd gives a pool address too).
 */
const NAS_CHOOSES = new Set(["255.255.255.254", "255.255.255.255"]);

/** The session policy of an Access-Accept. */
export function policyFromReply(reply: AuthReply): SessionPolicy {
  return {
    classes: reply.classes,
    ...(reply.sessionTimeoutSec === undefined ? {} : { sessionTimeoutSec: reply.sessionTimeoutSec }),
    ...(reply.idleTimeoutSec === undefined ? {} : { idleTimeoutSec: reply.idleTimeoutSec }),
    ...(reply.acctInterimIntervalSec === undefined ? {} : { acctInterimIntervalSec: reply.acctInterimIntervalSec }),
    filterIds: reply.filterIds,
    ciscoAvPairs: reply.ciscoAvPairs,
  };
}

/** The Access-Request of one login: the PPP credentials and the session's call attributes. */
export function accessRequestFor(req: AuthRequest, ctx: AuthContext): AccessRequestInput {
  const auth: PppAuth =
    req.kind === "pap"
      ? { kind: "pap", password: Buffer.from(req.password) }
      : { kind: "chap", identifier: req.identifier, challenge: Buffer.from(req.challenge), response: Buffer.from(req.response) };
  return {
    userName: req.username,
    nasPort: ctx.nasPort,
    acctSessionId: ctx.acctSessionId,
    ...(ctx.callingNumber === undefined ? {} : { callingStationId: ctx.callingNumber }),
    ...(ctx.calledNumber === undefined ? {} : { calledStationId: ctx.calledNumber }),
    ...(ctx.txConnectSpeed === undefined ? {} : { connectInfo: connectInfo(ctx.txConnectSpeed, ctx.rxConnectSpeed) }),
    auth,
  };
}

export class RadiusAuthenticator implements Authenticator {
  constructor(private readonly client: RadiusAuthClient) {}

  async authenticate(req: AuthRequest, ctx: AuthContext): Promise<AuthAnswer> {
    const r = await this.client.authenticate(accessRequestFor(req, ctx));
    switch (r.kind) {
      case "accept": {
        const reply = r.reply;
        const framed = reply.framedIpAddress;
        const address = framed === undefined || NAS_CHOOSES.has(framed) ? undefined : parseIpv4(framed);
        return {
          ok: true,
          ...(address === undefined ? {} : { address }),
          ...(reply.primaryDns === undefined ? {} : { primaryDns: reply.primaryDns }),
          ...(reply.secondaryDns === undefined ? {} : { secondaryDns: reply.secondaryDns }),
          policy: policyFromReply(reply),
        };
      }
      case "reject":
        return { ok: false, message: r.reply.replyMessages[0] ?? "Authentication failed" };
      case "challenge":
        // PAP and CHAP have no way to carry a second round: an Access-Challenge is a refusal.
        return { ok: false, message: r.reply.replyMessages[0] ?? "Authentication failed (Access-Challenge not supported)" };
      case "timeout":
        return { ok: false, message: "Authentication unavailable (no RADIUS server answered)", error: true };
      case "error":
        return { ok: false, message: `Authentication unavailable (${r.reason})`, error: true };
      default: {
        const never: never = r;
        return never;
      }
    }
  }
}
