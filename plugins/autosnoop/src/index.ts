// autosnoop (l2tpns's autosnoop.so): intercepts a session from its Access-Accept's Cisco-AVPair
// "intercept=IP:PORT", names the interception in its accounting records, and stops it when a CoA
// resets the session. Control thread.
import { API_VERSION, PLUGIN_RET_OK, type Plugin, type PluginApi, type SessionView, atoi, inetAddr, dotted, ciscoAvPair, INADDR_NONE } from "@lnsd/plugin-api";

/** RFC 2865 5.26 Vendor-Specific; Cisco's vendor id and its Cisco-AVPair sub-attribute. */

function apply(api: PluginApi, s: SessionView, address: string, port: number): void {
  if (port === 0 && s.snoop === undefined) return; // nothing to stop
  const r = api.snoop(s.id, address, port);
  if (!r.ok) api.log("error", `cannot intercept: ${r.error}`, s.id);
}

export const plugin: Plugin = {
  apiVersion: API_VERSION,
  name: "autosnoop",
  description: "Intercept sessions from RADIUS: Cisco-AVPair intercept=IP:PORT",
  hooks: {
    radius_response: (p, api) => {
      if (p.key !== "intercept") return PLUGIN_RET_OK;
      // l2tpns: any intercept= pair first clears the target; one without IP:PORT leaves it so.
      const colon = p.value.indexOf(":");
      if (colon < 0) {
        api.log("info", "Not Intercepting user (reply string should be intercept=ip:port)", p.session.id);
        apply(api, p.session, "0.0.0.0", 0);
        return PLUGIN_RET_OK;
      }
      const host = p.value.slice(0, colon);
      const portText = p.value.slice(colon + 1);
      let ip = host === "" ? 0 : inetAddr(host);
      if (ip === INADDR_NONE) ip = 0;
      const port = portText === "" ? 0 : atoi(portText) & 0xffff;
      api.log("info", `Intercepting user to ${dotted(ip)}:${port}`, p.session.id);
      // The data plane copies packets only when both are set (l2tpns: snoop_ip && snoop_port).
      const on = ip !== 0 && port !== 0;
      apply(api, p.session, on ? dotted(ip) : "0.0.0.0", on ? port : 0);
      return PLUGIN_RET_OK;
    },
    radius_reset: (p, api) => {
      apply(api, p.session, "0.0.0.0", 0);
      return PLUGIN_RET_OK;
    },
    radius_account: (p) => {
      const s = p.session.snoop;
      if (s !== undefined && s.port !== 0) p.attributes.push(ciscoAvPair(`intercept=${s.address}:${s.port}`));
      return PLUGIN_RET_OK;
    },
  },
};
