// The log line of each RADIUS client event, with what the operator can do about it: the daemon
// writes them, the tests read them. Pure: text only, no logger (the daemon's levels follow l2tpns's
// `debug`: 1 error, 2 warning, 3 information).
import type { DropReason, RadiusClientEvent } from "./client.js";

export interface ClientLogLine {
  readonly level: "error" | "warn" | "info";
  /** The rate-limit key of the line. */
  readonly reason: string;
  readonly message: string;
}

/**
 * FreeRADIUS 3.2.1 (Debian 12) signs an Access-Accept or -Reject only when its policy adds the
 * attribute; `require_message_authenticator = yes` in clients.conf makes it require one in
 * requests, not send one. 3.2.5 and later sign every reply to an Access-Request.
 */
const FREERADIUS_SIGNS =
  "make the server sign its replies: FreeRADIUS 3.2.5 or later does so by itself; on FreeRADIUS 3.2.1 (Debian 12) add " +
  "'update reply { Message-Authenticator := 0x00 }' to post-auth and to its Post-Auth-Type REJECT section " +
  "(require_message_authenticator = yes in clients.conf does not make 3.2.1 sign its replies)";

/** What to do about the first drop of a reason from a server. */
export function dropAdvice(reason: DropReason, e: Extract<RadiusClientEvent, { kind: "drop" }>): string {
  switch (reason) {
    case "missing-message-authenticator":
      return e.required === "learned"
        ? "RFC 3579 3.2 / BlastRADIUS (CVE-2024-3596): this server signed its earlier replies, so radius_require_message_authenticator auto " +
            "now requires a Message-Authenticator from it and an unsigned reply may be forged. If the server was replaced by one that does " +
            `not sign, ${FREERADIUS_SIGNS}, or restart lnsd (auto learns again), or set radius_require_message_authenticator no in lnsd`
        : "RFC 3579 3.2 / BlastRADIUS (CVE-2024-3596): radius_require_message_authenticator is yes, so a reply without a " +
            `Message-Authenticator is not believed; ${FREERADIUS_SIGNS}; or set radius_require_message_authenticator auto (or no) in lnsd`;
    case "bad-message-authenticator":
      return "RFC 3579 3.2: the Message-Authenticator does not verify with radius_secret: the server's secret for this client " +
        "(clients.conf) differs from radius_secret, or the reply was forged or damaged (BlastRADIUS, CVE-2024-3596)";
    case "bad-authenticator":
      return "RFC 2865 3: the Response Authenticator does not verify with radius_secret: the server's secret for this client " +
        "(clients.conf) differs from radius_secret, or the reply was forged or damaged";
    case "unexpected-source":
      return "RFC 2865 3: the reply came from an address or port that the request was not sent to: make the server answer from " +
        "the address lnsd sends to (primary_radius, secondary_radius), e.g. a listen section with that ipaddr";
    case "unknown-identifier":
      return "no request waits for this identifier: a late or duplicated reply (raise the retry time of the server if it is slow), or a forged one";
    case "unexpected-code":
      return "the reply's code does not answer the request (RFC 2865 3, RFC 2866 4)";
    case "malformed":
      return "the datagram is not a well-formed RADIUS packet (RFC 2865 3)";
    default: {
      const never: never = reason;
      return never;
    }
  }
}

function describeDrops(dropped: Readonly<Partial<Record<DropReason, number>>>): string {
  return Object.entries(dropped)
    .filter(([, n]) => n > 0)
    .map(([r, n]) => `${String(n)} ${r}`)
    .join(", ");
}

/** The log line of an event; undefined for those that are metrics only. */
export function clientEventLogLine(e: RadiusClientEvent): ClientLogLine | undefined {
  switch (e.kind) {
    case "drop": {
      const from = `${e.from.address}:${String(e.from.port)}`;
      if (e.first) {
        return {
          level: "error",
          reason: `radius-drop-first-${e.reason}`,
          message: `RADIUS: dropped a reply from ${from}: ${e.reason} (${e.detail}); ${dropAdvice(e.reason, e)}. Further drops of this kind are counted (show counters, lnsd_radius_drops_total)`,
        };
      }
      return { level: "warn", reason: `radius-drop-${e.reason}`, message: `RADIUS: dropped a reply from ${from}: ${e.reason} (${e.detail})` };
    }
    case "server-dead": {
      const drops = describeDrops(e.dropped);
      const forSec = String(Math.round(e.forMs / 1000));
      if (drops === "") {
        return { level: "error", reason: "radius-server-dead", message: `RADIUS server ${e.server} not answering: left alone for ${forSec} s` };
      }
      return {
        level: "error",
        reason: "radius-server-unusable",
        message: `RADIUS server ${e.server} answers, but every answer was dropped (${drops}; see the first drop's log line): left alone for ${forSec} s`,
      };
    }
    case "server-alive":
      return {
        level: "info",
        reason: "radius-server-alive",
        message: e.cause === "reply" ? `RADIUS server ${e.server} answering again` : `RADIUS server ${e.server}: back-off over, trying it again`,
      };
    case "message-authenticator-learned":
      return {
        level: "info",
        reason: "radius-ma-learned",
        message: `RADIUS server ${e.server} signs its replies (Message-Authenticator, RFC 3579 3.2): from now on lnsd requires it from this server (radius_require_message_authenticator auto; BlastRADIUS, CVE-2024-3596)`,
      };
    case "gave-up":
      return { level: "warn", reason: `radius-gave-up-${e.request}`, message: `RADIUS ${e.request === "auth" ? "Access-Request" : "Accounting-Request"} given up: ${e.detail}` };
    case "socket-error":
      return { level: "error", reason: "radius-socket", message: `RADIUS socket: ${e.detail}` };
    case "round-trip":
      // Not a log line: the metrics' RADIUS round-trip histogram.
      return undefined;
    default: {
      const never: never = e;
      return never;
    }
  }
}
