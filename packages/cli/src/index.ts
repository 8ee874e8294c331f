// @lnsd/cli: the operator's telnet CLI, with libcli's behaviour and l2tpns's command tree (see
// docs/cli.md). The daemon implements CliBackend; CliServer serves it over telnet. Control thread.
export type {
  CliBackend,
  CliCounters,
  CliLimits,
  CliPool,
  CliPoolEntry,
  CliRadius,
  CliRadiusRequest,
  CliResult,
  CliSession as CliSessionRow,
  CliThrottleRow,
  CliTunnel,
  CliUptime,
} from "./backend.js";
export { l2tpnsCommands, type TreeOptions } from "./commands.js";
export { KeyDecoder, LineEditor, type Key } from "./editor.js";
export { makeFilter, type LineFilter } from "./filters.js";
export { SESSION_HEADER, TUNNEL_HEADER, ctime, idleHistogram, openHistogram, runningConfigLines, sessionDetail, sessionRow, tunnelRow } from "./format.js";
export { CLI_PORT, CliServer, type CliServerCounters, type CliServerOptions } from "./server.js";
export { CliSession, type CliSessionOptions, type Terminal } from "./session.js";
export { FILTERS, helpLines, offer, parseLine, resolve, type ArgHelp, type ArgItem, type CommandContext, type CommandMode, type CommandSpec, type Lines } from "./tree.js";
