// snoopctl (l2tpns's snoopctl.so): the nsctl commands `snoop` and `unsnoop`, by username or
// session id, with l2tpns's command words, help lines and answers. Control thread.
import { API_VERSION, PLUGIN_RET_NOTMASTER, PLUGIN_RET_OK, type Plugin, findTarget, atoi, inetAddr, dotted, controlAnswer, INADDR_NONE } from "@lnsd/plugin-api";


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
      if (snoop && p.argv.length !== 4) return controlAnswer(p, "error", "requires username or session id and host, port");
      if (!snoop && p.argv.length !== 2) return controlAnswer(p, "error", "requires username or session id");
      const s = findTarget(api, target ?? "");
      // l2tpns: a session without an address (not yet, or no longer, online) is not found.
      if (s === undefined || !s.online) return controlAnswer(p, "error", "session not found");

      let r;
      if (snoop) {
        const ip = inetAddr(host ?? "");
        const port = atoi(portText ?? "") & 0xffff; // l2tpns keeps it in a uint16_t
        if (ip === 0 || ip === INADDR_NONE) return controlAnswer(p, "error", "invalid ip address");
        if (port === 0) return controlAnswer(p, "error", "invalid port");
        if (s.snoop !== undefined && s.snoop.address === dotted(ip) && s.snoop.port === port) return controlAnswer(p, "error", "already intercepted");
        r = api.snoop(s.id, dotted(ip), port);
      } else {
        if (s.snoop === undefined) return controlAnswer(p, "error", "not intercepted");
        r = api.snoop(s.id, "0.0.0.0", 0);
      }
      return r.ok ? controlAnswer(p, "ok") : controlAnswer(p, "error", r.error);
    },
  },
};
