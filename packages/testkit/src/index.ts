// @lnsd/testkit: a LAC simulator built on @lnsd/l2tp's L2tpNode (LAC role) with an impairment
// layer, its report, and a tshark/dumpcap capture helper, for tests, the demo and benchmarks.
export * from "./impairment.js";
export * from "./report.js";
export * from "./lac.js";
export * from "./args.js";
export * from "./capture.js";
export * from "./ppp.js";
export * from "./traffic.js";
export * from "./traffic-io.js";
export * from "./freeradius.js";
