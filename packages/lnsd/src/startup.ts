// Where the daemon's config files are: ip_pool and users (and chap-secrets) are looked for beside
// the startup-config, as l2tpns does.
import { dirname, join } from "node:path";

export interface ConfigFiles {
  readonly startupConfig: string;
  readonly ipPool: string;
  readonly users: string;
}

export function configFilesFor(startupConfig: string): ConfigFiles {
  const dir = dirname(startupConfig);
  return { startupConfig, ipPool: join(dir, "ip_pool"), users: join(dir, "users") };
}
