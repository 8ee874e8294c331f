// throttlectl (l2tpns's throttlectl.so): the nsctl commands `throttle` and `unthrottle`, by
// username or session id, with l2tpns's command words, help lines and answers. Control thread.
import { API_VERSION, PLUGIN_RET_NOTMASTER, PLUGIN_RET_OK, type Plugin, type PluginApi, findTarget, atoi, controlAnswer } from "@lnsd/plugin-api";

/**
 * The rates asked for, kbit/s; -1 leaves that direction as it is (l2tpns throttle_session). A
 * string is the error to answer.
 */
function ratesAsked(api: PluginApi, argv: readonly string[]): { in: number; out: number } | string {
  if (argv.length === 2) {
    const speed = api.getConfig("throttle_speed");
    const rate = typeof speed === "number" ? speed : 0;
    return rate === 0 ? "invalid rate" : { in: rate, out: rate };
  }
  if (argv.length === 3) {
    const rate = atoi(argv[2] ?? "");
    return rate === 0 ? "invalid rate" : { in: rate, out: rate };
  }
  // [in|out] RATE pairs: a word that begins "in" or "out" (l2tpns: strncmp over the word's length).
  const r = { in: -1, out: -1 };
  for (let i = 2; i < argv.length - 1; i += 2) {
    const word = argv[i] ?? "";
    const rate = atoi(argv[i + 1] ?? "");
    if ("in".startsWith(word)) r.in = rate;
    else if ("out".startsWith(word)) r.out = rate;
    else return "invalid rate";
  }
  return r.in === 0 || r.out === 0 ? "invalid rate" : r;
}

export const plugin: Plugin = {
  apiVersion: API_VERSION,
  name: "throttlectl",
  description: "Throttle sessions by user or session id (nsctl throttle, unthrottle)",
  controlHelp: [
    "  throttle USER|SID [RATE|[in|out] RATE ...]  Throttle user traffic",
    "  unthrottle USER|SID                         Stop throttling user",
  ],
  hooks: {
    control: (p, api) => {
      const [command, target] = p.argv;
      if (command !== "throttle" && command !== "unthrottle") return PLUGIN_RET_OK; // not for us
      if (!p.iamMaster) return PLUGIN_RET_NOTMASTER;
      const throttle = command === "throttle";
      if (throttle && (target === undefined || p.argv.length > 6)) return controlAnswer(p, "error", "requires username or session id and optional rate(s)");
      if (!throttle && p.argv.length !== 2) return controlAnswer(p, "error", "requires username or session id");
      const s = findTarget(api, target ?? "");
      // l2tpns: a session without an address (not yet, or no longer, online) is not found.
      if (s === undefined || !s.online) return controlAnswer(p, "error", "session not found");

      const asked = throttle ? ratesAsked(api, p.argv) : { in: 0, out: 0 };
      if (typeof asked === "string") return controlAnswer(p, "error", asked);
      const now = { in: s.throttle?.in ?? 0, out: s.throttle?.out ?? 0 };
      if (asked.in !== -1 && asked.in === now.in && asked.out !== -1 && asked.out === now.out) {
        return controlAnswer(p, "error", throttle ? "already throttled" : "not throttled");
      }
      // A rate below 0 leaves that direction alone (l2tpns throttle_session).
      const r = api.throttle(s.id, asked.in < 0 ? now.in : asked.in, asked.out < 0 ? now.out : asked.out);
      return r.ok ? controlAnswer(p, "ok") : controlAnswer(p, "error", r.error);
    },
  },
};
