// The users file: CLI logins, one "username:password" per line ("#" lines are comments). The
// password is plain text, "$1$salt$hash" (MD5-crypt) or "{crypt}" followed by a DES crypt hash; the
// user "enable" holds the password of the privileged mode instead of a login (l2tpns manual).
import { createHash, timingSafeEqual } from "node:crypto";
import { desCrypt, isDesCryptHash } from "./des-crypt.js";
import { fileLines, Problems, type ConfigResult } from "./errors.js";
import { CRYPT_ALPHABET, md5Crypt } from "./md5-crypt.js";

export type StoredPassword =
  | { readonly scheme: "plain"; readonly text: string }
  /** "$1$SALT$HASH", with or without "{crypt}" before it in the file. */
  | { readonly scheme: "md5-crypt"; readonly hash: string }
  /** 13 characters: 2 of salt, 11 of hash; written "{crypt}HASH". */
  | { readonly scheme: "des-crypt"; readonly hash: string };

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

export type PasswordResult = { readonly ok: true; readonly value: StoredPassword } | { readonly ok: false; readonly error: string };

/** Reads the password part of a users line. */
export function parseStoredPassword(text: string): PasswordResult {
  const crypted = text.startsWith(CRYPT_PREFIX);
  const body = crypted ? text.slice(CRYPT_PREFIX.length) : text;
  if (body.startsWith("$1$")) {
    return MD5_CRYPT.test(body)
      ? { ok: true, value: { scheme: "md5-crypt", hash: body } }
      : { ok: false, error: `'${body}' is not a valid MD5-crypt hash ($1$SALT$ then 22 characters)` };
  }
  const scheme = /^\$[0-9a-z]{1,2}\$/.exec(body)?.[0];
  if (scheme !== undefined) {
    return { ok: false, error: `password hash scheme '${scheme}' is not supported: use $1$ (MD5-crypt), {crypt} (DES) or plain text` };
  }
  if (!crypted) return { ok: true, value: { scheme: "plain", text } };
  return isDesCryptHash(body)
    ? { ok: true, value: { scheme: "des-crypt", hash: body } }
    : { ok: false, error: `'${body}' after {crypt} is not a DES crypt hash (13 characters of ${CRYPT_ALPHABET})` };
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
    const parsed = parseStoredPassword(raw.slice(colon + 1));
    if (!parsed.ok) {
      problems.error(line, `${username}: ${parsed.error}`);
      return;
    }
    if (parsed.value.scheme === "plain" && parsed.value.text === "") problems.warn(line, `${username} has an empty password`);
    if (username === ENABLE_USER) {
      if (enable !== undefined) problems.error(line, `the enable password is given again (first on line ${enable.line})`);
      else enable = { password: parsed.value, line };
      return;
    }
    const before = users.find((u) => u.username === username);
    if (before !== undefined) {
      problems.error(line, `user ${username} is listed again (first on line ${before.line})`);
      return;
    }
    users.push({ line, username, password: parsed.value });
  });
  return problems.result(enable === undefined ? { users } : { users, enable: enable.password });
}

/** Compares without an early exit (on the SHA-256 of each side, so lengths do not matter either). */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** Whether `candidate` is the password stored. */
export function verifyPassword(stored: StoredPassword, candidate: string): boolean {
  switch (stored.scheme) {
    case "plain":
      return sameSecret(stored.text, candidate);
    case "md5-crypt":
      return sameSecret(stored.hash, md5Crypt(candidate, stored.hash));
    case "des-crypt":
      return sameSecret(stored.hash, desCrypt(candidate, stored.hash));
  }
}

/** Checks a CLI login against the users file: the user must exist and the password match. */
export function verifyCliLogin(file: UsersFile, username: string, password: string): boolean {
  const user = file.users.find((u) => u.username === username);
  return user !== undefined && verifyPassword(user.password, password);
}
