// @lnsd/dataplane: the TUN device, the batched UDP and TUN system calls, the shared session table
// and the worker threads that forward subscribers' packets.
export * from "./tun.js";
export * from "./native.js";
export * from "./tables.js";
export * from "./filters.js";
export * from "./forward.js";
export * from "./shaper.js";
export * from "./dataplane.js";
export type { ControlDatagram, WorkerInit } from "./worker.js";
