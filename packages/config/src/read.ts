// Reading the config files from disk: the only I/O of this package, kept apart from the parsers.
// A file that cannot be read is one error naming it (line 0), like any other config error.
import { readFile } from "node:fs/promises";
import type { ConfigResult } from "./errors.js";
import { parseIpPool, type IpPool } from "./ip-pool.js";
import { parseStartupConfig, type StartupConfig } from "./startup-config.js";
import { parseUsers, type UsersFile } from "./users.js";

type Read = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly code: string | undefined };

async function read(path: string): Promise<Read> {
  try {
    return { ok: true, text: await readFile(path, "utf8") };
  } catch (e) {
    const code = e instanceof Error && "code" in e && typeof e.code === "string" ? e.code : undefined;
    return { ok: false, code };
  }
}

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

function unreadable<T>(path: string, code: string | undefined): ConfigResult<T> {
  return { ok: false, errors: [{ file: path, line: 0, message: `cannot read: ${describe(code)}` }], warnings: [] };
}

/** Reads a file and parses it with `parse`; an unreadable file is one error naming it (line 0). */
export async function readConfigFile<T>(path: string, parse: (text: string, file: string) => ConfigResult<T>): Promise<ConfigResult<T>> {
  const r = await read(path);
  return r.ok ? parse(r.text, path) : unreadable(path, r.code);
}

export async function readStartupConfigFile(path: string): Promise<ConfigResult<StartupConfig>> {
  const r = await read(path);
  return r.ok ? parseStartupConfig(r.text, path) : unreadable(path, r.code);
}

export async function readIpPoolFile(path: string): Promise<ConfigResult<IpPool>> {
  const r = await read(path);
  return r.ok ? parseIpPool(r.text, path) : unreadable(path, r.code);
}

/** A missing users file is not an error: the value is then undefined (l2tpns: CLI open to the local host). */
export async function readUsersFile(path: string): Promise<ConfigResult<UsersFile | undefined>> {
  const r = await read(path);
  if (!r.ok) return r.code === "ENOENT" ? { ok: true, value: undefined, warnings: [] } : unreadable(path, r.code);
  return parseUsers(r.text, path);
}
