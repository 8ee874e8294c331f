// @lnsd/control: the nsctl control protocol (UDP 1702) and the nsctl client.
export * from "./args.js";
