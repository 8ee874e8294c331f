// The users file: CLI logins, one "username:password" per line ("#" lines are comments). As libcli
// reads it for l2tpns: "{crypt}" (any case) then a hash goes to crypt(3), and so does "$1$..."
// without it; anything else is the plain-text password. MD5-crypt and DES are computed here, the
// other schemes ($5$, $6$, $y$, ...) by the system's crypt(3). The user "enable" holds the password
// of the privileged mode instead of a login (l2tpns manual).
import { createHash, timingSafeEqual } from "node:crypto";
import { desCrypt, isDesCryptHash } from "./des-crypt.js";
import { fileLines, Problems, type ConfigError, type ConfigResult } from "./errors.js";
import { md5Crypt } from "./md5-crypt.js";
import { systemCrypt } from "./system-crypt.js";

export type StoredPassword =
  | { readonly scheme: "plain"; readonly text: string }
  /** "$1$SALT$HASH", with or without "{crypt}" before it in the file. */
  | { readonly scheme: "md5-crypt"; readonly hash: string }
  /** 13 characters: 2 of salt, 11 of hash; written "{crypt}HASH". */
  | { readonly scheme: "des-crypt"; readonly hash: string }
  /** "{crypt}$5$...", "$6$", "$y$", ...: checked by the system's crypt(3). */
  | { readonly scheme: "system-crypt"; readonly hash: string }
  /** A hash nothing here can check: no password matches it. */
  | { readonly scheme: "unusable"; readonly hash: string };

export interface CliUser {
  readonly line: number;
  readonly username: string;
  readonly password: StoredPassword;
}

export interface UsersFile {
  /** The CLI logins. With none, l2tpns lets anyone in from the local host, and no one from elsewhere. */
  readonly users: readonly CliUser[];
  /** From the user "enable": the password for the privileged mode. */
  readonly enable?: StoredPassword;
}

export const ENABLE_USER = "enable";
const CRYPT_PREFIX = "{crypt}";
const MD5_CRYPT = /^\$1\$[^$]{0,8}\$[./0-9A-Za-z]{22}$/;

/** The hash schemes of libxcrypt (Debian 12's crypt(3)) beyond MD5 and DES, by prefix; some with their exact form. */
const SYSTEM_SCHEMES: readonly { readonly prefix: string; readonly name: string; readonly form?: RegExp }[] = [
  { prefix: "$5$", name: "sha256crypt", form: /^\$5\$(rounds=[0-9]+\$)?[^$]{0,16}\$[./0-9A-Za-z]{43}$/ },
  { prefix: "$6$", name: "sha512crypt", form: /^\$6\$(rounds=[0-9]+\$)?[^$]{0,16}\$[./0-9A-Za-z]{86}$/ },
  { prefix: "$y$", name: "yescrypt" },
  { prefix: "$gy$", name: "gost-yescrypt" },
  { prefix: "$7$", name: "scrypt" },
  { prefix: "$2b$", name: "bcrypt" },
  { prefix: "$2a$", name: "bcrypt" },
  { prefix: "$2y$", name: "bcrypt" },
  { prefix: "$sha1$", name: "sha1crypt" },
  { prefix: "$md5", name: "sunmd5" },
  { prefix: "_", name: "bsdicrypt" },
];
/** What crypt(3) hashes are made of; nothing else (no blank, no line end) is passed to it. */
const HASH_CHARACTERS = /^[$./0-9A-Za-z=,+_-]+$/;
const KNOWN = "($1$, $5$, $6$, $y$, $gy$, $7$, $2b$, ... or 13 characters of DES)";

export type PasswordResult =
  | { readonly ok: true; readonly value: StoredPassword; readonly warning?: string }
  | { readonly ok: false; readonly error: string };

/** Reads the password part of a users line; an error says why it can never match. */
export function parseStoredPassword(text: string): PasswordResult {
  const crypted = text.slice(0, CRYPT_PREFIX.length).toLowerCase() === CRYPT_PREFIX;
  const body = crypted ? text.slice(CRYPT_PREFIX.length) : text;
  if (body.startsWith("$1$")) {
    return MD5_CRYPT.test(body)
      ? { ok: true, value: { scheme: "md5-crypt", hash: body } }
      : { ok: false, error: `'${body}' is not a valid MD5-crypt hash ($1$SALT$ then 22 characters)` };
  }
  const scheme = SYSTEM_SCHEMES.find((s) => body.startsWith(s.prefix));
  if (!crypted) {
    // libcli: without {crypt}, only $1$ is a hash.
    const looks = /^\$[0-9a-z]{1,5}\$/.exec(body)?.[0];
    return looks === undefined
      ? { ok: true, value: { scheme: "plain", text } }
      : {
          ok: true,
          value: { scheme: "plain", text },
          warning: `'${body}' looks like a ${looks} hash but has no {crypt} before it: l2tpns and lnsd take it as the plain-text password (write {crypt}${looks}... to use it as a hash)`,
        };
  }
  if (scheme !== undefined && HASH_CHARACTERS.test(body)) {
    return scheme.form === undefined || scheme.form.test(body)
      ? { ok: true, value: { scheme: "system-crypt", hash: body } }
      : { ok: false, error: `'${body}' after {crypt} is not a valid ${scheme.name} hash` };
  }
  if (isDesCryptHash(body)) return { ok: true, value: { scheme: "des-crypt", hash: body } };
  return { ok: false, error: `'${body}' after {crypt} is not a hash the system's crypt(3) knows ${KNOWN}` };
}

export function parseUsers(text: string, file = "users"): ConfigResult<UsersFile> {
  const problems = new Problems(file);
  const users: CliUser[] = [];
  let enable: { password: StoredPassword; line: number } | undefined;
  fileLines(text).forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === "" || raw.trimStart().startsWith("#")) return;
    const colon = raw.indexOf(":");
    if (colon < 0) {
      problems.error(line, "expected 'username:password'");
      return;
    }
    const username = raw.slice(0, colon);
    if (username === "" || /\s/.test(username)) {
      problems.error(line, username === "" ? "missing username before ':'" : `username '${username}' contains blanks`);
      return;
    }
    // A password that can never match is a warning, as libcli takes it: the other users still log in.
    const parsed = parseStoredPassword(raw.slice(colon + 1));
    const isEnable = username === ENABLE_USER;
    if (!parsed.ok) {
      problems.warn(line, `${username}: ${parsed.error}: ${isEnable ? "enable will refuse every password" : "this user cannot log in"}`);
    } else if (parsed.warning !== undefined) {
      problems.warn(line, `${username}: ${parsed.warning}`);
    }
    const password: StoredPassword = parsed.ok ? parsed.value : { scheme: "unusable", hash: raw.slice(colon + 1) };
    if (password.scheme === "plain" && password.text === "") problems.warn(line, `${username} has an empty password`);
    if (isEnable) {
      if (enable !== undefined) problems.error(line, `the enable password is given again (first on line ${enable.line})`);
      else enable = { password, line };
      return;
    }
    if (!parsed.ok) return;
    const before = users.find((u) => u.username === username);
    if (before !== undefined) {
      problems.error(line, `user ${username} is listed again (first on line ${before.line})`);
      return;
    }
    users.push({ line, username, password });
  });
  return problems.result(enable === undefined ? { users } : { users, enable: enable.password });
}

/** Compares without an early exit (on the SHA-256 of each side, so lengths do not matter either). */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** Whether `candidate` is the password stored (the system's crypt(3) runs in a child process). */
export async function verifyPassword(stored: StoredPassword, candidate: string): Promise<boolean> {
  switch (stored.scheme) {
    case "plain":
      return sameSecret(stored.text, candidate);
    case "md5-crypt":
      return sameSecret(stored.hash, md5Crypt(candidate, stored.hash));
    case "des-crypt":
      return sameSecret(stored.hash, desCrypt(candidate, stored.hash));
    case "system-crypt": {
      const hash = await systemCrypt(candidate, stored.hash);
      return hash !== undefined && sameSecret(stored.hash, hash);
    }
    case "unusable":
      return false;
  }
}

/** Checks a CLI login against the users file: the user must exist and the password match. */
export async function verifyCliLogin(file: UsersFile, username: string, password: string): Promise<boolean> {
  const user = file.users.find((u) => u.username === username);
  return user !== undefined && (await verifyPassword(user.password, password));
}

/**
 * The users whose hash the system's crypt(3) cannot compute (a scheme this libxcrypt was built
 * without): one warning each, for `lnsd -t` and the start. Runs crypt(3) once per such hash.
 */
export async function checkSystemCrypt(file: UsersFile, fileName: string): Promise<ConfigError[]> {
  const entries: { line: number | undefined; username: string; password: StoredPassword }[] = [
    ...file.users,
    ...(file.enable === undefined ? [] : [{ line: undefined, username: ENABLE_USER, password: file.enable }]),
  ];
  const out: ConfigError[] = [];
  for (const e of entries) {
    if (e.password.scheme !== "system-crypt") continue;
    if ((await systemCrypt("", e.password.hash)) !== undefined) continue;
    out.push({ file: fileName, line: e.line ?? 0, message: `${e.username}: the system's crypt(3) cannot check '${e.password.hash}' (no perl, or a scheme it does not know): ${e.username === ENABLE_USER ? "enable will refuse every password" : "this user cannot log in"}` });
  }
  return out;
}
