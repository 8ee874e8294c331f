// @lnsd/plugin-api: the plugin contract (hooks, parameters, result codes, the helper API) and the
// plugin host that loads plugins and runs their hooks. Plugins depend on this package only.
export * from "./contract.js";
export * from "./host.js";
export * from "./testing.js";
export * from "./helpers.js";
