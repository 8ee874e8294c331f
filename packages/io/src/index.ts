// @lnsd/io: the side effects the protocol packages share, behind small interfaces with in-memory
// versions for in-process tests (STYLE.md): a Clock and a UDP endpoint; and a per-source rate
// limit for the servers that face the network. Depends on nothing.
export * from "./clock.js";
export * from "./udp.js";
export * from "./rate.js";
