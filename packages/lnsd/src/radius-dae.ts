// Dynamic Authorization (RFC 5176) on the daemon's sessions: the handler the DAE server of
// @lnsd/radius calls to find sessions, drop them (Disconnect-Request) and change their policy
// (CoA-Request). Control thread.
import { AcctTerminateCause, formatIpv4 } from "@lnsd/wire";
import type { DisconnectReason } from "@lnsd/ppp";
import { type CoaChanges, type DaeHandler, type DaeMatch, type DaeOutcome } from "@lnsd/radius";
import type { SessionManager, SessionPolicy, Subscriber } from "./sessions.js";

/** Does the session agree with every attribute the request gives (RFC 5176 3)? */
export function subscriberMatches(sub: Subscriber, m: DaeMatch): boolean {
  if (m.userName !== undefined && sub.username !== m.userName) return false;
  if (m.acctSessionId !== undefined && sub.acctSessionId !== m.acctSessionId) return false;
  if (m.framedIpAddress !== undefined && (sub.address === undefined || formatIpv4(sub.address) !== m.framedIpAddress)) return false;
  if (m.nasPort !== undefined && sub.nasPort !== m.nasPort) return false;
  if (m.callingStationId !== undefined && sub.l2tp.call.callingNumber !== m.callingStationId) return false;
  return true;
}

/** The PPP reason whose Acct-Terminate-Cause is the one the Disconnect-Request asked for. */
function reasonFor(cause: AcctTerminateCause): DisconnectReason {
  switch (cause) {
    case AcctTerminateCause.SessionTimeout:
      return "session-timeout";
    case AcctTerminateCause.IdleTimeout:
      return "idle-timeout";
    case AcctTerminateCause.NasRequest:
      return "nas-request";
    default:
      return "admin-reset";
  }
}

/** What a CoA-Request changes in a session's policy: only what it carries. */
export function policyChanges(c: CoaChanges): Partial<SessionPolicy> {
  return {
    ...(c.sessionTimeoutSec === undefined ? {} : { sessionTimeoutSec: c.sessionTimeoutSec }),
    ...(c.idleTimeoutSec === undefined ? {} : { idleTimeoutSec: c.idleTimeoutSec }),
    ...(c.filterIds.length === 0 ? {} : { filterIds: c.filterIds }),
    ...(c.ciscoAvPairs.length === 0 ? {} : { ciscoAvPairs: c.ciscoAvPairs }),
  };
}

export function daeHandlerFor(sessions: SessionManager): DaeHandler<Subscriber> {
  return {
    findSessions: (m) => [...sessions.all()].filter((s) => subscriberMatches(s, m)),
    disconnect: (sub, cause): DaeOutcome => {
      sessions.drop(sub, "RADIUS Disconnect-Request", reasonFor(cause));
      return { ok: true };
    },
    // Session-Timeout, Idle-Timeout and Filter-Id act at once; Cisco-AVPairs go to the plugins
    // (radius_reset, radius_response: autothrottle, autosnoop).
    coa: (sub, changes): DaeOutcome => {
      sessions.updatePolicy(sub, policyChanges(changes));
      return { ok: true };
    },
  };
}
