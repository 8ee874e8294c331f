// @lnsd/control: the nsctl control protocol (UDP 1702), its server and the nsctl client.
export * from "./args.js";
export * from "./protocol.js";
export * from "./server.js";
export * from "./client.js";
