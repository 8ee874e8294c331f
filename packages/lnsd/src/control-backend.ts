// The nsctl backend of lnsd: what the control port's built-ins and control requests reach. Until
// the plugin host lands, load_plugin / unload_plugin fail as l2tpns fails them, saying why, and
// every other command is one no plugin handles. Runs on the control thread.
import { err, NSCTL_TEXT, type ControlBackend, type ControlResponse } from "@lnsd/control";

/** What the plugin host will provide (issue 7); absent in this build. */
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

/**
 * A plugin name as nsctl gives it, checked before anything looks for a file by it: a bare name
 * (l2tpns builds PLUGINDIR/NAME.so from it, so "../x" would leave the directory).
 */
export function pluginNameProblem(name: string): string | undefined {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(name) || name.includes("..")) return `'${name}' is not a plugin name`;
  return undefined;
}

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
