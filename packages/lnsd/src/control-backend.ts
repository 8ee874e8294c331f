// The nsctl backend of lnsd: what the control port's built-ins and control requests reach: the
// plugin host (plugins.ts). Without one, load_plugin / unload_plugin fail as l2tpns fails them,
// saying why, and every other command is one no plugin handles. Runs on the control thread.
import { err, NSCTL_TEXT, type ControlBackend, type ControlResponse } from "@lnsd/control";
import { pluginNameProblem } from "@lnsd/plugin-api";

export { pluginNameProblem };

/** What the plugin host provides (plugins.ts: LnsdPlugins). */
export interface PluginHostControl {
  load(name: string): ControlResponse | Promise<ControlResponse>;
  unload(name: string): ControlResponse | Promise<ControlResponse>;
  /** Each loaded plugin's help lines, in load order. */
  helpLines(): readonly string[];
  /** Runs the plugins' control hooks in load order; "unhandled action" when none takes it. */
  control(args: readonly string[]): ControlResponse | Promise<ControlResponse>;
}

/** l2tpns's texts for a plugin it cannot load or unload, with lnsd's reason after them. */
export const NO_PLUGIN_HOST = "the plugin host is not available in this lnsd build";

export function lnsdControlBackend(host?: PluginHostControl): ControlBackend {
  return {
    loadPlugin: (name) => {
      const problem = pluginNameProblem(name);
      if (problem !== undefined) return err(`error loading plugin: ${problem}`);
      return host === undefined ? err(`error loading plugin ${name}: ${NO_PLUGIN_HOST}`) : host.load(name);
    },
    unloadPlugin: (name) => {
      const problem = pluginNameProblem(name);
      if (problem !== undefined) return err(`plugin not found: ${problem}`);
      return host === undefined ? err(`plugin not loaded: ${name} (${NO_PLUGIN_HOST})`) : host.unload(name);
    },
    help: () => host?.helpLines() ?? [],
    control: (args) => (host === undefined ? err(NSCTL_TEXT.unhandled) : host.control(args)),
  };
}
