// @lnsd/l2tp: the L2TPv2 control plane (RFC 2661): reliable delivery, tunnel and session state
// machines, LNS and LAC roles. Runs on the control thread.
export * from "./seq.js";
export * from "./reliable.js";
export * from "./config.js";
export * from "./ids.js";
export * from "./session.js";
export * from "./data.js";
export * from "./tunnel.js";
export * from "./node.js";
