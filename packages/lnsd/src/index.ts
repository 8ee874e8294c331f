// @lnsd/lnsd: the daemon's composition root.
export * from "./args.js";
export * from "./startup.js";
export * from "./log.js";
export * from "./daemon.js";
export * from "./trace.js";
export * from "./pool.js";
export * from "./secrets.js";
export * from "./sessions.js";
export * from "./local-auth.js";
export * from "./data-path.js";
export * from "./router-advert.js";
export * from "./radius-auth.js";
export * from "./radius-accounting.js";
export * from "./radius-dae.js";
export * from "./control-backend.js";
export * from "./metrics.js";
export * from "./cli-backend.js";
