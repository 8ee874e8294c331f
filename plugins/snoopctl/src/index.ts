// snoopctl (l2tpns's snoopctl.so): the nsctl commands `snoop` and `unsnoop`, by username or
// session id, with l2tpns's command words, help lines and answers. Control thread.
import { API_VERSION, PLUGIN_RET_NOTMASTER, PLUGIN_RET_OK, PLUGIN_RET_STOP, type ControlParams, type Plugin, type PluginApi, type SessionView } from "@lnsd/plugin-api";

const INADDR_NONE = 0xffffffff;

/** l2tpns: a number (strtol, base 10, all of it) other than 0 is a session id; else a username. */
function findTarget(api: PluginApi, arg: string): SessionView | undefined {
  const id = /^\s*[+-]?\d+$/.test(arg) ? Number.parseInt(arg, 10) : 0;
  return id !== 0 ? api.findSession(id) : api.findSessionByUser(arg);
}

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

function dotted(a: number): string {
  return [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join(".");
}

function answer(p: ControlParams, response: "ok" | "error", additional?: string): typeof PLUGIN_RET_STOP {
  p.response = response;
  p.additional = additional;
  return PLUGIN_RET_STOP;
}

export const plugin: Plugin = {
  apiVersion: API_VERSION,
  name: "snoopctl",
  description: "Intercept sessions by user or session id (nsctl snoop, unsnoop)",
  controlHelp: [
    "  snoop USER|SID IP PORT                      Intercept user traffic",
    "  unsnoop USER|SID                            Stop intercepting user",
  ],
  hooks: {
    control: (p, api) => {
      const [command, target, host, portText] = p.argv;
      if (command !== "snoop" && command !== "unsnoop") return PLUGIN_RET_OK; // not for us
      if (!p.iamMaster) return PLUGIN_RET_NOTMASTER;
      const snoop = command === "snoop";
      if (snoop && p.argv.length !== 4) return answer(p, "error", "requires username or session id and host, port");
      if (!snoop && p.argv.length !== 2) return answer(p, "error", "requires username or session id");
      const s = findTarget(api, target ?? "");
      // l2tpns: a session without an address (not yet, or no longer, online) is not found.
      if (s === undefined || !s.online) return answer(p, "error", "session not found");

      let r;
      if (snoop) {
        const ip = inetAddr(host ?? "");
        const port = atoi(portText ?? "") & 0xffff; // l2tpns keeps it in a uint16_t
        if (ip === 0 || ip === INADDR_NONE) return answer(p, "error", "invalid ip address");
        if (port === 0) return answer(p, "error", "invalid port");
        if (s.snoop !== undefined && s.snoop.address === dotted(ip) && s.snoop.port === port) return answer(p, "error", "already intercepted");
        r = api.snoop(s.id, dotted(ip), port);
      } else {
        if (s.snoop === undefined) return answer(p, "error", "not intercepted");
        r = api.snoop(s.id, "0.0.0.0", 0);
      }
      return r.ok ? answer(p, "ok") : answer(p, "error", r.error);
    },
  },
};
