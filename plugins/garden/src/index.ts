// garden (l2tpns's garden.so): the walled garden. A login that authentication refused is let in
// and held in the garden (the data plane lets a gardened session reach only what the access list
// "garden" permits); nsctl `garden` and `ungarden` put a session in and take it out. Control thread.
import { API_VERSION, PLUGIN_RET_NOTMASTER, PLUGIN_RET_OK, type Plugin, type PluginApi, type SessionView, sessionIdArg, controlAnswer } from "@lnsd/plugin-api";

/**
 * Sessions this plugin let in or gardened, by session id, with their Acct-Session-Id: ids are
 * reused, and a session that never comes up gets no kill_session.
 */
const marked = new Map<number, string>();

function isMarked(s: SessionView): boolean {
  return marked.get(s.id) === s.acctSessionId;
}

function unmark(s: SessionView): void {
  if (isMarked(s)) marked.delete(s.id);
}

function who(s: SessionView): string {
  return `${s.username ?? "-"} (${s.address ?? "-"})`;
}

function gardenSession(api: PluginApi, s: SessionView): string | undefined {
  api.log("warn", `Garden user ${who(s)}`, s.id);
  const r = api.garden(s.id, true);
  if (!r.ok) return r.error;
  marked.set(s.id, s.acctSessionId);
  return undefined;
}

/** l2tpns garden_session(F_UNGARDEN): out of the garden, duplicates of the user ended, a RADIUS Start. */
function ungardenSession(api: PluginApi, s: SessionView): string | undefined {
  api.log("warn", `Un-Garden user ${who(s)}`, s.id);
  // Kick off any other session of the user now that this one is the user's (not one in the garden).
  for (const other of api.sessions()) {
    if (other.id !== s.id && s.username !== undefined && other.username === s.username && other.online && other.gardened !== true) {
      api.killSession(other.id, "Duplicate session when user released from walled garden");
    }
  }
  const r = api.garden(s.id, false);
  if (!r.ok) return r.error;
  unmark(s);
  // The session starts being accounted for as the user's (l2tpns: radiusnew + radiussend RADIUSSTART).
  const start = api.sendRadius(s.id, "start");
  if (!start.ok) api.log("warn", `no RADIUS Start for the released session: ${start.error}`, s.id);
  return undefined;
}

export const plugin: Plugin = {
  apiVersion: API_VERSION,
  name: "garden",
  description: "Walled garden: let refused logins in, held to the access list 'garden' (nsctl garden, ungarden)",
  controlHelp: [
    "  garden USER|SID                             Put user into the walled garden",
    "  ungarden SID [USER]                         Release session from garden",
  ],
  done: () => {
    marked.clear();
  },
  hooks: {
    post_auth: (p, api) => {
      if (p.authAllowed) {
        unmark(p.session); // a stale mark of an earlier session with this id
        return PLUGIN_RET_OK;
      }
      api.log("info", "Walled Garden allowing login", p.session.id);
      p.authAllowed = true;
      // l2tpns flags the session here; lnsd's flag is the garden itself, applied as it comes up.
      const r = api.garden(p.session.id, true);
      if (!r.ok) api.log("error", `cannot garden the session: ${r.error}`, p.session.id);
      marked.set(p.session.id, p.session.acctSessionId);
      return PLUGIN_RET_OK;
    },
    new_session: (p, api) => {
      if (!isMarked(p.session)) return PLUGIN_RET_OK;
      if (p.session.gardened === true) {
        api.log("warn", `Garden user ${who(p.session)}`, p.session.id);
        return PLUGIN_RET_OK;
      }
      const error = gardenSession(api, p.session);
      if (error !== undefined) api.log("error", `cannot garden the session: ${error}`, p.session.id);
      return PLUGIN_RET_OK;
    },
    kill_session: (p, api) => {
      if (!isMarked(p.session)) return PLUGIN_RET_OK; // not ours, or a second kill_session
      unmark(p.session);
      if (p.session.gardened === true) api.log("warn", `Un-Garden user ${who(p.session)}`, p.session.id);
      return PLUGIN_RET_OK;
    },
    // Marks of sessions that ended before they came up (no kill_session for those).
    timer: (_p, api) => {
      for (const [id, acct] of marked) if (api.findSession(id)?.acctSessionId !== acct) marked.delete(id);
      return PLUGIN_RET_OK;
    },
    control: (p, api) => {
      const [command, target, newUser] = p.argv;
      if (command !== "garden" && command !== "ungarden") return PLUGIN_RET_OK; // not for us
      if (!p.iamMaster) return PLUGIN_RET_NOTMASTER;
      const garden = command === "garden";
      if (target === undefined || p.argv.length > 3 || (p.argv.length > 2 && garden)) {
        return controlAnswer(p, "error", garden ? "requires username or session id" : "requires session id and optional username");
      }
      const id = sessionIdArg(target);
      // l2tpns: ungarden takes a session id only.
      const s = id !== 0 ? api.findSession(id) : garden ? api.findSessionByUser(target) : undefined;
      if (s === undefined || !s.online) return controlAnswer(p, "error", "session not found");
      if ((s.gardened === true) === garden) return controlAnswer(p, "error", garden ? "already in walled garden" : "not in walled garden");
      if (garden) {
        const error = gardenSession(api, s);
        return error === undefined ? controlAnswer(p, "ok") : controlAnswer(p, "error", error);
      }
      // l2tpns: with USER, the session is that user's from now on (before its duplicates go).
      if (newUser !== undefined && newUser !== s.username) {
        const renamed = api.setUsername(s.id, newUser);
        if (!renamed.ok) return controlAnswer(p, "error", renamed.error);
      }
      const error = ungardenSession(api, api.findSession(s.id) ?? s);
      return error === undefined ? controlAnswer(p, "ok") : controlAnswer(p, "error", error);
    },
  },
};
