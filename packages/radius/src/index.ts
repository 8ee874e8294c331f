// @lnsd/radius: the LNS's RADIUS client (authentication, accounting, failover; RFC 2865, 2866,
// 2869, 3162, 3579) and Dynamic Authorization server (Disconnect, CoA; RFC 5176). Runs on the
// control thread; the codec under it is pure.
export * from "./codec/index.js";
export * from "./client.js";
export * from "./client-log.js";
export * from "./accounting.js";
export * from "./dae.js";
