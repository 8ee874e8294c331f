// autothrottle (l2tpns's autothrottle.so): throttles a session from its Access-Accept's
// Cisco-AVPairs, puts the rates in its accounting records, and lifts them when a CoA resets the
// session. Control thread.
//
// The AVPairs it reads (l2tpns 2.4.1):
//   throttle=yes                                     both ways at throttle_speed
//   throttle=no                                      not throttled
//   throttle=N                                       both ways at N kbit/s (0: not throttled)
//   lcp:interface-config=service-policy input N      from the subscriber at N kbit/s
//   lcp:interface-config=service-policy output N     to the subscriber at N kbit/s
// "service-policy" may be shortened to 4 letters or more, "input"/"output" to their first letters;
// the policy's name is the rate, all digits.
import { API_VERSION, PLUGIN_RET_OK, type Plugin, type PluginApi, type SessionView, ciscoAvPair } from "@lnsd/plugin-api";

const THROTTLE_KEY = "lcp:interface-config";
/** RFC 2865 5.26 Vendor-Specific; Cisco's vendor id and its Cisco-AVPair sub-attribute. */

/** C's strtol(s, &end, 10) with *end == 0 required; undefined when there is more than a number. */
function wholeNumber(s: string): number | undefined {
  if (s === "") return 0; // strtol reads no digits, and nothing is left over
  return /^\s*[+-]?\d+$/.test(s) ? Number.parseInt(s, 10) : undefined;
}

/** A word abbreviates `full` (C: strncmp(full, word, strlen(word)) == 0). */
function abbreviates(word: string, full: string): boolean {
  return full.startsWith(word);
}

/** The session's throttle now (kbit/s in, out): what is not changed is kept. */
function currentThrottle(api: PluginApi, s: SessionView): { in: number; out: number } {
  const t = (api.findSession(s.id) ?? s).throttle;
  return { in: t?.in ?? 0, out: t?.out ?? 0 };
}

function apply(api: PluginApi, id: number, rateIn: number, rateOut: number): void {
  const r = api.throttle(id, rateIn, rateOut);
  if (!r.ok) api.log("error", `cannot throttle: ${r.error}`, id);
}

/** lcp:interface-config=service-policy input|output N */
function servicePolicy(api: PluginApi, s: SessionView, value: string): void {
  const sp = value.indexOf(" ");
  if (sp < 4 || !abbreviates(value.slice(0, sp), "service-policy")) return; // another interface-config
  const rest = value.slice(sp).replace(/^ +/, "");
  const sp2 = rest.indexOf(" ");
  const type = sp2 < 0 ? rest : rest.slice(0, sp2);
  if (sp2 < 0 || !(abbreviates(type, "input") || abbreviates(type, "output"))) {
    api.log("info", `Not throttling user (invalid type ${type})`, s.id);
    return;
  }
  const rateText = rest.slice(sp2).replace(/^ +/, "");
  const rate = wholeNumber(rateText);
  if (rate === undefined || rate < 0) {
    api.log("info", `Not throttling user (invalid rate ${rateText})`, s.id);
    return;
  }
  const now = currentThrottle(api, s);
  if (type.startsWith("i")) {
    api.log("info", `Throttling user input to ${rate}kb/s`, s.id);
    apply(api, s.id, rate, now.out);
  } else {
    api.log("info", `Throttling user output to ${rate}kb/s`, s.id);
    apply(api, s.id, now.in, rate);
  }
}

/** throttle=yes|no|N */
function throttle(api: PluginApi, s: SessionView, value: string): void {
  let rate = wholeNumber(value);
  if (rate === undefined || rate < 0) {
    rate = undefined;
    if (value === "yes") {
      const speed = api.getConfig("throttle_speed");
      if (typeof speed === "number") rate = speed;
      else api.log("error", "Not throttling user (can't get throttle_speed)", s.id);
    } else if (value === "no") {
      rate = 0;
    }
  }
  if (rate === undefined) return;
  api.log("info", rate > 0 ? `Throttling user to ${rate}kb/s` : "Not throttling user", s.id);
  apply(api, s.id, rate, rate);
}

export const plugin: Plugin = {
  apiVersion: API_VERSION,
  name: "autothrottle",
  description: "Throttle sessions from RADIUS: Cisco-AVPair throttle=yes|no|N, lcp:interface-config=service-policy input|output N",
  hooks: {
    radius_response: (p, api) => {
      if (p.key.startsWith(THROTTLE_KEY)) servicePolicy(api, p.session, p.value);
      else if (p.key === "throttle") throttle(api, p.session, p.value);
      return PLUGIN_RET_OK;
    },
    // A CoA replaces the session's attributes: the throttle goes until the new ones say otherwise.
    radius_reset: (p, api) => {
      apply(api, p.session.id, 0, 0);
      return PLUGIN_RET_OK;
    },
    radius_account: (p) => {
      const t = p.session.throttle;
      let i = 1;
      if (t !== undefined && t.in > 0) p.attributes.push(ciscoAvPair(`lcp:interface-config#${i++}=service-policy input ${t.in}`));
      if (t !== undefined && t.out > 0) p.attributes.push(ciscoAvPair(`lcp:interface-config#${i++}=service-policy output ${t.out}`));
      return PLUGIN_RET_OK;
    },
  },
};
