// @lnsd/ppp: the PPP layer of an L2TP session. The RFC 1661 automaton as a table, LCP / PAP /
// CHAP / IPCP / IPV6CP, LCP Echo keepalive, proxy LCP and authentication; an LNS (server) role and
// a client role for the test LAC. Pure control-plane logic over @lnsd/wire; runs on the control thread.
export * from "./config.js";
export * from "./cause.js";
export * from "./fsm.js";
export * from "./negotiation.js";
export * from "./lcp.js";
export * from "./ipcp.js";
export * from "./ipv6cp.js";
export * from "./auth.js";
export * from "./proxy.js";
export * from "./link.js";
export * from "./server.js";
export * from "./client.js";
