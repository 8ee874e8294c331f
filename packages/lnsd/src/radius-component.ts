// The RADIUS client as a reloadable component (component.ts): a reload applies the servers,
// radius_secret, their ports and the radius_bind_* settings. Control thread.
import type { StartupSettings } from "@lnsd/config";
import type { RadiusClient, RadiusClientOptions } from "@lnsd/radius";
import { UNCHANGED, type Component } from "./component.js";
import type { Logger } from "./log.js";
import { radiusClientOptions } from "./radius-auth.js";
import { usesLocalSecrets } from "./secrets.js";

/** The log line of the RADIUS client's settings. */
export function radiusSettingsLine(options: Omit<RadiusClientOptions, "onEvent">, accounting: boolean): string {
  const source = options.bindAddress ?? "the kernel's choice per route";
  return `RADIUS servers ${options.servers.map((s) => `${s.address}:${s.authPort}`).join(", ")} from ${source}; accounting ${accounting ? "on" : "off"}; Message-Authenticator required: ${options.requireMessageAuthenticator ?? "auto"}`;
}

/**
 * prepare checks the settings and binds a socket when the bind settings changed; commit hands them
 * to the client (requests in flight finish against the servers and secret they were sent with).
 * A reload that turns RADIUS off is the daemon's warning (switching to chap-secrets needs a restart).
 */
export function radiusComponent(client: RadiusClient, hostname: string, accounting: boolean, logger: Logger): Component {
  return {
    name: "radius",
    prepare: async (next: StartupSettings) => {
      if (usesLocalSecrets(next)) return UNCHANGED;
      let options: Omit<RadiusClientOptions, "onEvent">;
      try {
        options = radiusClientOptions(next, hostname);
      } catch (e) {
        return { ok: false, errors: [`radius: ${e instanceof Error ? e.message : String(e)}`] };
      }
      const r = await client.prepareReconfigure(options);
      if (!r.ok) return { ok: false, errors: [`radius: ${r.error}`] };
      return {
        ok: true,
        abort: r.abort,
        commit: () => {
          r.commit();
          if (next.radius_secret === "") logger.log("error", "radius-config", "radius_secret is not set: the RADIUS servers will not believe lnsd");
          logger.log("info", "radius", radiusSettingsLine(options, accounting));
        },
      };
    },
  };
}
