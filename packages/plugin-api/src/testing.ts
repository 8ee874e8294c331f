// An in-memory PluginApi for plugin tests: sessions and settings given up front, every call that
// acts recorded. Not used by the daemon.
import { API_VERSION, type ApiResult, type ConfigValue, type PluginApi, type PluginLogLevel, type SessionView, type TunnelView } from "./contract.js";

export interface RecordedAction {
  readonly action: "drop" | "kill" | "throttle" | "snoop" | "garden" | "radius" | "rename";
  readonly id: number;
  readonly args: readonly (string | number | boolean)[];
}

export interface MemoryApi extends PluginApi {
  readonly logs: { readonly level: PluginLogLevel | number; readonly message: string; readonly sessionId?: number }[];
  readonly actions: RecordedAction[];
  /** The sessions it answers about; tests may add and remove. */
  readonly sessionList: SessionView[];
}

/** A session view with defaults for what a test does not care about. */
export function testSession(id: number, fields: Partial<SessionView> = {}): SessionView {
  return {
    id,
    tunnelId: 1,
    l2tpSessionId: id,
    online: true,
    acctSessionId: `TEST${String(id).padStart(8, "0")}`,
    rxPackets: 0,
    txPackets: 0,
    rxOctets: 0,
    txOctets: 0,
    filterIds: [],
    ciscoAvPairs: [],
    ...fields,
  };
}

export const TEST_TUNNEL: TunnelView = { id: 1, peerId: 1, peerAddress: "192.0.2.1", peerPort: 1701, hostName: "lac" };

export function memoryApi(sessions: readonly SessionView[] = [], config: Readonly<Record<string, ConfigValue>> = {}): MemoryApi {
  const sessionList = [...sessions];
  const logs: MemoryApi["logs"] = [];
  const actions: RecordedAction[] = [];
  const act = (action: RecordedAction["action"], id: number, ...args: (string | number | boolean)[]): ApiResult => {
    if (!sessionList.some((s) => s.id === id)) return { ok: false, error: `no session ${id}` };
    actions.push({ action, id, args });
    return { ok: true };
  };
  return {
    apiVersion: API_VERSION,
    logs,
    actions,
    sessionList,
    log: (level, message, sessionId) => {
      logs.push({ level, message, ...(sessionId === undefined ? {} : { sessionId }) });
    },
    findSession: (id) => sessionList.find((s) => s.id === id),
    findSessionByUser: (username) => {
      const mine = sessionList.filter((s) => s.username === username);
      return mine.findLast((s) => s.online) ?? mine.at(-1);
    },
    sessions: () => [...sessionList],
    getConfig: (name) => (Object.hasOwn(config, name) ? config[name] : undefined),
    dropSession: (id, reason) => act("drop", id, reason),
    killSession: (id, reason) => act("kill", id, reason),
    throttle: (id, rateIn, rateOut) => act("throttle", id, rateIn, rateOut),
    snoop: (id, address, port) => act("snoop", id, address, port),
    garden: (id, on) => act("garden", id, on),
    sendRadius: (id, statusType) => act("radius", id, statusType),
    setUsername: (id, username) => {
      const r = act("rename", id, username);
      const i = sessionList.findIndex((s) => s.id === id);
      const s = sessionList[i];
      if (r.ok && s !== undefined) sessionList[i] = { ...s, username };
      return r;
    },
  };
}
