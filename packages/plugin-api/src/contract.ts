// The plugin contract: hook names and their parameters (l2tpns's plugin.h, in TypeScript shape),
// the result codes with l2tpns's values, the `Plugin` a module exports and the `PluginApi` the
// daemon gives it. Types and constants only: the host, the daemon and every plugin import them.

/**
 * The version of this contract. A plugin states the version it was written for (`apiVersion`);
 * the host loads it when that is between MIN_API_VERSION and API_VERSION. Raised when a change
 * would break a plugin written for the previous one (l2tpns: PLUGIN_API_VERSION).
 */
export const API_VERSION: number = 1;
export const MIN_API_VERSION: number = 1;

/** l2tpns's plugin.h return codes, with its numbers. */
export const PLUGIN_RET_ERROR = 0;
export const PLUGIN_RET_OK = 1;
export const PLUGIN_RET_STOP = 2;
export const PLUGIN_RET_NOTMASTER = 3;

/** The same codes as one object: `PLUGIN_RET.OK`. */
export const PLUGIN_RET = { ERROR: PLUGIN_RET_ERROR, OK: PLUGIN_RET_OK, STOP: PLUGIN_RET_STOP, NOTMASTER: PLUGIN_RET_NOTMASTER } as const;

/**
 * What a hook answers. OK: carry on with the next plugin. STOP: done, skip the rest. ERROR: this
 * plugin failed, skip the rest. NOTMASTER: only the cluster master may do this (control hook).
 */
export type PluginResult = (typeof PLUGIN_RET)[keyof typeof PLUGIN_RET];

export function isPluginResult(v: unknown): v is PluginResult {
  return v === PLUGIN_RET_ERROR || v === PLUGIN_RET_OK || v === PLUGIN_RET_STOP || v === PLUGIN_RET_NOTMASTER;
}

export function pluginResultName(r: PluginResult): "ERROR" | "OK" | "STOP" | "NOTMASTER" {
  switch (r) {
    case PLUGIN_RET_ERROR:
      return "ERROR";
    case PLUGIN_RET_OK:
      return "OK";
    case PLUGIN_RET_STOP:
      return "STOP";
    case PLUGIN_RET_NOTMASTER:
      return "NOTMASTER";
    default: {
      const never: never = r;
      return never;
    }
  }
}

/** Every hook, in l2tpns's order (plugin.h: PLUGIN_PRE_AUTH = 1 ... PLUGIN_NEW_SESSION_MASTER). */
export const HOOK_NAMES = [
  "pre_auth",
  "post_auth",
  "packet_rx",
  "packet_tx",
  "timer",
  "new_session",
  "kill_session",
  "control",
  "radius_response",
  "radius_reset",
  "radius_account",
  "become_master",
  "new_session_master",
] as const;

export type HookName = (typeof HOOK_NAMES)[number];

/** Hooks that run in the data workers, once per packet: they must answer at once (no promise). */
export type PacketHookName = "packet_rx" | "packet_tx";
export const PACKET_HOOKS: readonly HookName[] = ["packet_rx", "packet_tx"];

export function isHookName(name: string): name is HookName {
  return (HOOK_NAMES as readonly string[]).includes(name);
}

/** PPP protocol numbers of the authentication protocols (l2tpns's `protocol` field). */
export const PPP_PAP = 0xc023;
export const PPP_CHAP = 0xc223;
export type AuthProtocolNumber = typeof PPP_PAP | typeof PPP_CHAP;

/** A tunnel as a plugin sees it (l2tpns: tunnelt). A snapshot taken when the hook is called. */
export interface TunnelView {
  /** Our tunnel id. */
  readonly id: number;
  /** The LAC's tunnel id. */
  readonly peerId: number;
  readonly peerAddress: string;
  readonly peerPort: number;
  /** The LAC's Host Name AVP. */
  readonly hostName?: string;
}

/** A session as a plugin sees it (l2tpns: sessiont). A snapshot taken when the hook is called. */
export interface SessionView {
  /** The session id: what nsctl, the CLI and RADIUS (NAS-Port) name the session by. */
  readonly id: number;
  /** Our tunnel id, and our L2TP session id within the tunnel. */
  readonly tunnelId: number;
  readonly l2tpSessionId: number;
  /** The user, once authentication started (after pre_auth: as the plugins left it). */
  readonly username?: string;
  /** The IPv4 address, dotted, once one is assigned. */
  readonly address?: string;
  /** PPP reached the network phase: the session carries traffic (l2tpns: s->ip set). */
  readonly online: boolean;
  readonly callingNumber?: string;
  readonly calledNumber?: string;
  readonly acctSessionId: string;
  readonly rxPackets: number;
  readonly txPackets: number;
  readonly rxOctets: number;
  readonly txOctets: number;
  /** From the Access-Accept: Filter-Id and Cisco-AVPair values. */
  readonly filterIds: readonly string[];
  readonly ciscoAvPairs: readonly string[];
  /** Throttled: kbit/s in (from the subscriber) and out; absent: not throttled. */
  readonly throttle?: { readonly in: number; readonly out: number };
  /** Intercepted: where the copies go. */
  readonly snoop?: { readonly address: string; readonly port: number };
  /** In the walled garden. */
  readonly gardened?: boolean;
}

/** pre_auth: the credentials are in; RADIUS (or chap-secrets) is not yet asked. */
export interface PreAuthParams {
  readonly tunnel: TunnelView;
  readonly session: SessionView;
  /** May be changed: what RADIUS is asked about and what the session is known by from now on. */
  username: string;
  /** PAP: the password, which may be changed. CHAP: undefined (the peer sent a hash, not a password). */
  password: string | undefined;
  readonly protocol: AuthProtocolNumber;
  /** Set to false to refuse the login here (l2tpns: continue_auth = 0). */
  continueAuth: boolean;
}

/** post_auth: the answer is in; the session is not yet given an address. */
export interface PostAuthParams {
  readonly tunnel: TunnelView;
  readonly session: SessionView;
  readonly username: string;
  /** Whether the login is allowed so far; set it to force the answer (the garden plugin does). */
  authAllowed: boolean;
  readonly protocol: AuthProtocolNumber;
  /** The LAC's Tx Connect Speed AVP (RFC 2661 4.4.5), as sent, when it sent one (l2tpns: tx_connect_speed). */
  readonly txConnectSpeed?: number;
  /** Its Rx Connect Speed AVP; a plugin may set one the LAC did not send (l2tpns's setrxspeed does). */
  rxConnectSpeed?: number;
}

/**
 * packet_rx (from the subscriber) / packet_tx (to it): one IP packet of a session, in a data
 * worker, which has the session's numbers but not the rest of its state. The plugin may read and
 * change the packet in place; any answer but OK ends the chain, and STOP drops the packet.
 */
export interface PacketParams {
  /** Our tunnel id, and the session's id (SessionView.id). */
  readonly tunnelId: number;
  readonly sessionId: number;
  /** The IP packet (l2tpns: buf and len). */
  readonly buf: Uint8Array;
}

/** timer: once a second. */
export interface TimerParams {
  /** Unix time, seconds (l2tpns: time_now). */
  readonly timeNow: number;
}

/** new_session, kill_session, radius_reset, new_session_master: one session. */
export interface SessionParams {
  readonly tunnel: TunnelView;
  readonly session: SessionView;
}

/** radius_response: one key=value of a Cisco-AVPair in an Access-Accept (or CoA). */
export interface RadiusResponseParams {
  readonly tunnel: TunnelView;
  readonly session: SessionView;
  readonly key: string;
  readonly value: string;
}

/** A RADIUS attribute a plugin adds (type 26 for a Vendor-Specific one, value as sent). */
export interface RadiusAttributeOut {
  readonly type: number;
  readonly value: Uint8Array;
}

/** radius_account: an Accounting-Request is being built; plugins may add attributes. */
export interface RadiusAccountParams {
  readonly tunnel: TunnelView;
  readonly session: SessionView;
  readonly statusType: "start" | "interim" | "stop";
  /** l2tpns: uint8_t **packet; here the attributes to append. */
  readonly attributes: RadiusAttributeOut[];
}

/** become_master: this node just became the cluster master (l2tpns passes nothing; lnsd the time). */
export interface BecomeMasterParams {
  /** Unix time, seconds. */
  readonly timeNow: number;
}

/** control: an nsctl command that is not a built-in (l2tpns: param_control). */
export interface ControlParams {
  /** Whether this node is the cluster master (a standalone node always is). */
  readonly iamMaster: boolean;
  /** The command word and its arguments (argc is argv.length). */
  readonly argv: readonly string[];
  /** Set by the plugin that handles the command (l2tpns: NSCTL_RES_OK / NSCTL_RES_ERR). */
  response: "ok" | "error" | undefined;
  /** The text nsctl prints: one line, or several (l2tpns: additional). */
  additional: string | readonly string[] | undefined;
}

/** Each hook's parameters. */
export interface HookParams {
  pre_auth: PreAuthParams;
  post_auth: PostAuthParams;
  packet_rx: PacketParams;
  packet_tx: PacketParams;
  timer: TimerParams;
  new_session: SessionParams;
  kill_session: SessionParams;
  control: ControlParams;
  radius_response: RadiusResponseParams;
  radius_reset: SessionParams;
  radius_account: RadiusAccountParams;
  become_master: BecomeMasterParams;
  new_session_master: SessionParams;
}

/** Packet hooks answer at once; the others may answer with a promise (the host waits, with a limit). */
export type HookReturn<H extends HookName> = H extends PacketHookName ? PluginResult : PluginResult | Promise<PluginResult>;

export type HookFn<H extends HookName> = (params: HookParams[H], api: PluginApi) => HookReturn<H>;

/** The hooks a plugin declares: only these are called, and only these names are allowed. */
export type PluginHooks = { readonly [H in HookName]?: HookFn<H> };

/** What a plugin module exports, as `export const plugin: Plugin = { ... }`. */
export interface Plugin {
  /** The contract version the plugin was written for: API_VERSION when it was built. */
  readonly apiVersion: number;
  /** The name it is loaded by (its file or folder name). */
  readonly name: string;
  /** One line for `show plugins`. */
  readonly description?: string;
  readonly hooks: PluginHooks;
  /** Usage lines nsctl's `help` prints for its control commands (l2tpns: plugin_control_help). */
  readonly controlHelp?: readonly string[];
  /** Called once when loaded, before any hook; throwing (or rejecting) refuses the load. */
  init?(api: PluginApi): void | Promise<void>;
  /** Called once when unloaded, after the last hook. */
  done?(): void | Promise<void>;
}

/** l2tpns's log levels: 0 critical ... 5 packet detail. */
export type PluginLogLevel = "critical" | "error" | "warn" | "info" | "debug" | "packet";

/** A startup-config value as getConfig gives it. */
export type ConfigValue = string | number | boolean | readonly string[];

/** What a helper call that acts on a session answers. */
export type ApiResult = { readonly ok: true } | { readonly ok: false; readonly error: string };

/**
 * What the daemon offers a plugin (l2tpns: struct pluginfuncs). Each plugin gets its own, whose
 * log lines carry its name. Calls that act take effect on the control thread at once.
 */
export interface PluginApi {
  /** The contract version the daemon implements. */
  readonly apiVersion: number;
  /** A log line at an l2tpns level (or 0-5), about a session when its id is given. */
  readonly log: (level: PluginLogLevel | number, message: string, sessionId?: number) => void;
  /** l2tpns get_session_by_id. */
  readonly findSession: (id: number) => SessionView | undefined;
  /** l2tpns get_session_by_username: the user's newest online session, else any of theirs. */
  readonly findSessionByUser: (username: string) => SessionView | undefined;
  /** Every session, in no set order. */
  readonly sessions: () => SessionView[];
  /** A startup-config setting by its l2tpns name (`set NAME VALUE`); undefined for an unknown name. */
  readonly getConfig: (name: string) => ConfigValue | undefined;
  /** l2tpns sessionshutdown: LCP Terminate, then CDN; RADIUS Acct-Terminate-Cause Admin-Reset. */
  readonly dropSession: (id: number, reason: string) => ApiResult;
  /** l2tpns sessionkill: the session ends at once (CDN, no LCP Terminate exchange). */
  readonly killSession: (id: number, reason: string) => ApiResult;
  /** l2tpns throttle: rates in kbit/s, 0 for none (both 0: unthrottle). */
  readonly throttle: (id: number, rateInKbps: number, rateOutKbps: number) => ApiResult;
  /** Intercept a session's traffic to address:port (l2tpns: snoop_ip / snoop_port); port 0 stops. */
  readonly snoop: (id: number, address: string, port: number) => ApiResult;
  /** Put a session in the walled garden, or take it out. */
  readonly garden: (id: number, on: boolean) => ApiResult;
  /** l2tpns radiusnew + radiussend: send an Accounting-Request for the session now. */
  readonly sendRadius: (id: number, statusType: "start" | "interim" | "stop") => ApiResult;
  /** The session is known by another user name from now on (l2tpns: ungarden SID USER). */
  readonly setUsername: (id: number, username: string) => ApiResult;
}

/**
 * A plugin name as an operator gives it (nsctl, CLI, startup-config): a bare name, since it
 * becomes a file name in the plugin directory (l2tpns: PLUGINDIR/NAME.so).
 */
export function pluginNameProblem(name: string): string | undefined {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(name) || name.includes("..")) return `'${name}' is not a plugin name`;
  return undefined;
}
