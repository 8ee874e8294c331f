// RFC 2866 5.10 Acct-Terminate-Cause: how a session ended, as a wire value. Shared by PPP (which
// maps each reason it ends a link for to one) and RADIUS (which carries it in Accounting-Stop and
// reads it from a Disconnect-Request). Pure data.

/** Acct-Terminate-Cause values, RFC 2866 5.10. */
export const AcctTerminateCause = {
  UserRequest: 1,
  LostCarrier: 2,
  LostService: 3,
  IdleTimeout: 4,
  SessionTimeout: 5,
  AdminReset: 6,
  AdminReboot: 7,
  PortError: 8,
  NasError: 9,
  NasRequest: 10,
  NasReboot: 11,
  PortUnneeded: 12,
  PortPreempted: 13,
  PortSuspended: 14,
  ServiceUnavailable: 15,
  Callback: 16,
  UserError: 17,
  HostRequest: 18,
} as const;
export type AcctTerminateCause = (typeof AcctTerminateCause)[keyof typeof AcctTerminateCause];

const ACCT_TERMINATE_CAUSES: ReadonlySet<number> = new Set(Object.values(AcctTerminateCause));

/** Is `n` one of the values RFC 2866 5.10 defines? */
export function isAcctTerminateCause(n: number): n is AcctTerminateCause {
  return ACCT_TERMINATE_CAUSES.has(n);
}
