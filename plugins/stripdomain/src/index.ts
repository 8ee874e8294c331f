// stripdomain (l2tpns's stripdomain.so): pre_auth takes "@realm" off the username, so that RADIUS
// (or chap-secrets) is asked about "user" and the session is known as "user". Control thread.
import { API_VERSION, PLUGIN_RET_OK, PLUGIN_RET_STOP, type Plugin } from "@lnsd/plugin-api";

export const plugin: Plugin = {
  apiVersion: API_VERSION,
  name: "stripdomain",
  description: "Remove the @domain from usernames before authentication",
  hooks: {
    pre_auth: (p, api) => {
      // An earlier plugin refused the login: nothing to strip, and the rest need not run.
      if (!p.continueAuth) return PLUGIN_RET_STOP;
      const at = p.username.indexOf("@");
      if (at >= 0) {
        api.log("info", `Stripping off trailing domain name "${p.username.slice(at)}"`, p.session.id);
        p.username = p.username.slice(0, at);
      }
      return PLUGIN_RET_OK;
    },
  },
};
