// @lnsd/cluster: lnsd nodes sharing every session (issue 14). The l2tpns model (master heartbeats,
// slave pings, election by uptime then address), with the master's record journal replicated to
// every slave and an output commit: the master releases nothing a change caused until every
// up-to-date slave holds the change. Depends on @lnsd/io (Clock) and @lnsd/journal (the records'
// Entry messages); what the records mean is lnsd's.
export * from "./schema.js";
export * from "./frame.js";
export * from "./membership.js";
export * from "./replication.js";
export * from "./transport.js";
export * from "./memory.js";
export * from "./node.js";
