// sessionctl (l2tpns's sessionctl.so): the nsctl commands `drop` and `kill`, by username or
// session id, with l2tpns's command words, help lines and answers. Control thread.
import { API_VERSION, PLUGIN_RET_NOTMASTER, PLUGIN_RET_OK, PLUGIN_RET_STOP, type Plugin, findTarget } from "@lnsd/plugin-api";

export const plugin: Plugin = {
  apiVersion: API_VERSION,
  name: "sessionctl",
  description: "Drop or kill sessions by user or session id (nsctl drop, kill)",
  controlHelp: [
    "  drop USER|SID [REASON]                      Shutdown user session",
    "  kill USER|SID [REASON]                      Kill user session",
  ],
  hooks: {
    control: (p, api) => {
      const [command, target, reason] = p.argv;
      if (command !== "drop" && command !== "kill") return PLUGIN_RET_OK; // not for us
      if (!p.iamMaster) return PLUGIN_RET_NOTMASTER;
      if (target === undefined || p.argv.length > 3) {
        p.response = "error";
        p.additional = "requires username or session id and optional reason";
        return PLUGIN_RET_STOP;
      }
      const s = findTarget(api, target);
      // l2tpns: a session without an address (not yet, or no longer, online) is not found.
      if (s === undefined || !s.online) {
        p.response = "error";
        p.additional = "session not found";
        return PLUGIN_RET_STOP;
      }
      const why = reason ?? "Requested by administrator.";
      const r = command === "drop" ? api.dropSession(s.id, why) : api.killSession(s.id, why);
      p.response = r.ok ? "ok" : "error";
      p.additional = r.ok ? undefined : r.error;
      return PLUGIN_RET_STOP;
    },
  },
};
