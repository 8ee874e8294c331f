// example: the worked example of docs/plugins.md. It refuses logins with an empty username,
// counts sessions as they come and go, logs how long each one lasted, says every minute how many
// are online, and answers the nsctl command `logins`. Control thread.
import { API_VERSION, PLUGIN_RET_OK, PLUGIN_RET_STOP, type Plugin } from "@lnsd/plugin-api";

/** The plugin's own state: made afresh each time it is loaded (a load imports the module anew). */
const state = {
  up: 0,
  down: 0,
  refused: 0,
  /** When each online session came up (unix seconds), by session id. */
  since: new Map<number, number>(),
  lastReport: 0,
};

export const plugin: Plugin = {
  apiVersion: API_VERSION,
  name: "example",
  description: "Worked example: counts logins, answers nsctl 'logins'",
  controlHelp: ["  logins [reset]                              Show (or reset) the login counters"],
  init: (api) => {
    api.log("info", `example plugin loaded; ${api.sessions().filter((s) => s.online).length} sessions online`);
  },
  hooks: {
    pre_auth: (p, api) => {
      if (p.username === "") {
        state.refused++;
        api.log("warn", "refusing a login with an empty username", p.session.id);
        p.continueAuth = false;
        // STOP: no later plugin needs to look at a refused login.
        return PLUGIN_RET_STOP;
      }
      return PLUGIN_RET_OK;
    },
    new_session: (p) => {
      state.up++;
      state.since.set(p.session.id, Math.floor(Date.now() / 1000));
      return PLUGIN_RET_OK;
    },
    kill_session: (p, api) => {
      const since = state.since.get(p.session.id);
      // kill_session may come more than once for a session (l2tpns says so): count it once.
      if (since === undefined) return PLUGIN_RET_OK;
      state.since.delete(p.session.id);
      state.down++;
      const secs = Math.floor(Date.now() / 1000) - since;
      api.log("info", `${p.session.username ?? "?"} was online for ${secs} s (${p.session.rxOctets} bytes in, ${p.session.txOctets} out)`, p.session.id);
      return PLUGIN_RET_OK;
    },
    timer: (p, api) => {
      if (p.timeNow - state.lastReport >= 60) {
        state.lastReport = p.timeNow;
        api.log("debug", `${state.since.size} sessions online`);
      }
      return PLUGIN_RET_OK;
    },
    control: (p) => {
      if (p.argv[0] !== "logins") return PLUGIN_RET_OK; // not ours: the next plugin may take it
      if (p.argv.length > 2 || (p.argv[1] !== undefined && p.argv[1] !== "reset")) {
        p.response = "error";
        p.additional = "usage: logins [reset]";
        return PLUGIN_RET_STOP;
      }
      p.response = "ok";
      p.additional = [`up ${state.up}`, `down ${state.down}`, `refused ${state.refused}`, `online ${state.since.size}`];
      if (p.argv[1] === "reset") Object.assign(state, { up: 0, down: 0, refused: 0 });
      return PLUGIN_RET_STOP;
    },
  },
};
