// autosnoop (l2tpns's autosnoop.so): intercepts a session from its Access-Accept's Cisco-AVPair
// "intercept=IP:PORT", names the interception in its accounting records, and stops it when a CoA
// resets the session. Control thread.
import { API_VERSION, PLUGIN_RET_OK, type Plugin, type PluginApi, type RadiusAttributeOut, type SessionView } from "@lnsd/plugin-api";

/** RFC 2865 5.26 Vendor-Specific; Cisco's vendor id and its Cisco-AVPair sub-attribute. */
const VENDOR_SPECIFIC = 26;
const VENDOR_CISCO = 9;
const CISCO_AVPAIR = 1;
const INADDR_NONE = 0xffffffff;

/** C's atoi: leading blanks, a sign, digits; 0 when there are none. */
function atoi(s: string): number {
  const m = /^\s*([+-]?\d+)/.exec(s);
  return m?.[1] === undefined ? 0 : Number.parseInt(m[1], 10);
}

/** C's inet_addr: a, a.b, a.b.c or a.b.c.d, each part decimal, 0x hex or 0 octal; INADDR_NONE when not. */
export function inetAddr(text: string): number {
  const parts = text.split(".");
  if (parts.length > 4) return INADDR_NONE;
  const values: number[] = [];
  for (const part of parts) {
    if (!/^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)$/.test(part)) return INADDR_NONE;
    values.push(/^0[xX]/.test(part) ? Number.parseInt(part.slice(2), 16) : part.startsWith("0") ? Number.parseInt(part, 8) : Number.parseInt(part, 10));
  }
  const last = values.pop() ?? 0;
  if (values.some((v) => v > 255) || last >= 2 ** (8 * (4 - values.length))) return INADDR_NONE;
  return values.reduce((a, v, i) => a + v * 2 ** (8 * (3 - i)), 0) + last;
}

export function dotted(a: number): string {
  return [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join(".");
}

function apply(api: PluginApi, s: SessionView, address: string, port: number): void {
  if (port === 0 && s.snoop === undefined) return; // nothing to stop
  const r = api.snoop(s.id, address, port);
  if (!r.ok) api.log("error", `cannot intercept: ${r.error}`, s.id);
}

export function ciscoAvPair(text: string): RadiusAttributeOut {
  const s = Buffer.from(text, "utf8").subarray(0, 247);
  const value = Buffer.alloc(6 + s.length);
  value.writeUInt32BE(VENDOR_CISCO, 0);
  value[4] = CISCO_AVPAIR;
  value[5] = 2 + s.length;
  s.copy(value, 6);
  return { type: VENDOR_SPECIFIC, value };
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
