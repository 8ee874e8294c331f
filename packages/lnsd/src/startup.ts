// Start-up checks of the daemon that touch the file system: the startup-config must exist and be
// readable before anything else starts; ip_pool and users are looked for beside it, as l2tpns does.
import { readFile } from "node:fs/promises";
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

export type ReadResult = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly message: string };

function describe(code: string | undefined): string {
  switch (code) {
    case "ENOENT":
      return "no such file";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "is a directory";
    default:
      return code ?? "unknown error";
  }
}

/** Reads the startup-config, turning any failure into one clear line naming the file. */
export async function readStartupConfig(path: string): Promise<ReadResult> {
  try {
    return { ok: true, text: await readFile(path, "utf8") };
  } catch (e) {
    const code = e instanceof Error && "code" in e && typeof e.code === "string" ? e.code : undefined;
    return { ok: false, message: `cannot read startup-config ${path}: ${describe(code)}` };
  }
}
