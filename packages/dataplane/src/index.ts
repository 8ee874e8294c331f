// @lnsd/dataplane: the TUN device and packet forwarding between it and the sessions.
export * from "./tun.js";
