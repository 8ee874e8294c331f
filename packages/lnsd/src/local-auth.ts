// Authentication from the local chap-secrets file (no RADIUS server configured): the embedded
// default that lets lnsd run on its own. Control thread.
import type { AuthRequest } from "@lnsd/ppp";
import type { Authenticator } from "./sessions.js";
import type { LocalSecrets } from "./secrets.js";

export class LocalAuthenticator implements Authenticator {
  constructor(private secrets: LocalSecrets) {}

  /** SIGHUP: take over the secrets another (freshly read) authenticator holds. */
  adopt(other: LocalAuthenticator): void {
    this.secrets = other.secrets;
  }

  authenticate(req: AuthRequest): Promise<{ ok: true; address?: number } | { ok: false; message: string }> {
    const r = req.kind === "pap" ? this.secrets.verifyPap(req.username, req.password) : this.secrets.verifyChapMd5(req.username, req.identifier, req.challenge, req.response);
    if (!r.ok) return Promise.resolve({ ok: false, message: "Authentication failed" });
    return Promise.resolve(r.address === undefined ? { ok: true } : { ok: true, address: r.address });
  }
}
