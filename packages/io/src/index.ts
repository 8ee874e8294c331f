// @lnsd/io: the side effects the protocol packages share, behind small interfaces with in-memory
// versions for in-process tests (STYLE.md): a Clock and a UDP endpoint. Depends on nothing.
export * from "./clock.js";
export * from "./udp.js";
