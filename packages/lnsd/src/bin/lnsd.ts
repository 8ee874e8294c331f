// Entry point of the daemon (bin/lnsd). Parses the l2tpns command line, checks the config files,
// then starts the services that have landed.
import { configFilesFor, parseDaemonArgs, readStartupConfig, USAGE } from "../index.js";

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseDaemonArgs(argv);
  if (!parsed.ok) {
    console.error(`lnsd: ${parsed.message}\n${USAGE}`);
    return 2;
  }
  const files = configFilesFor(parsed.options.configFile);
  const config = await readStartupConfig(files.startupConfig);
  if (!config.ok) {
    console.error(`lnsd: ${config.message}`);
    return 1;
  }
  console.error(`lnsd: read ${files.startupConfig}; no network service has landed yet, exiting`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
