// @lnsd/wire: pure codecs for L2TPv2, PPP and IP. No I/O, no clock, no logger (STYLE.md).
export * from "./result.js";
export * from "./errors.js";
export { Reader } from "./reader.js";
export * from "./ppp/index.js";
export * from "./ip/index.js";
export * from "./l2tp/index.js";
export * from "./pcap.js";
export * from "./acct-terminate-cause.js";
