// MD5-crypt, the "$1$salt$hash" password scheme of FreeBSD and glibc crypt(3), written from the
// algorithm's description: an MD5 of password, magic and salt, mixed with an MD5 of password, salt,
// password; then 1000 rounds that alternate the password, the salt and the running digest; the
// 16 bytes printed as 22 characters of crypt's base-64 alphabet in a fixed byte order.
import { createHash } from "node:crypto";

export const CRYPT_ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const MAGIC = "$1$";

const md5 = (...parts: readonly Uint8Array[]): Buffer => {
  const h = createHash("md5");
  for (const p of parts) h.update(p);
  return h.digest();
};

/** `count` characters of crypt's base-64, least significant 6 bits first. */
function toBase64(value: number, count: number): string {
  let out = "";
  let v = value;
  for (let i = 0; i < count; i++) {
    out += CRYPT_ALPHABET.charAt(v & 0x3f);
    v >>>= 6;
  }
  return out;
}

/** The salt of a "$1$" string: up to 8 characters, ending at the next "$". */
export function md5CryptSalt(setting: string): string {
  const body = setting.startsWith(MAGIC) ? setting.slice(MAGIC.length) : setting;
  const end = body.indexOf("$");
  return (end < 0 ? body : body.slice(0, end)).slice(0, 8);
}

/** "$1$SALT$HASH" for a password (UTF-8) and a salt (or a whole "$1$..." string to take the salt from). */
export function md5Crypt(password: string, salt: string): string {
  const pw = Buffer.from(password, "utf8");
  const saltText = md5CryptSalt(salt);
  const s = Buffer.from(saltText, "utf8");
  const magic = Buffer.from(MAGIC, "utf8");

  const alternate = md5(pw, s, pw);
  const parts: Uint8Array[] = [pw, magic, s];
  for (let left = pw.length; left > 0; left -= 16) parts.push(alternate.subarray(0, Math.min(16, left)));
  // For each bit of the password length, low bit first: a zero byte if set, else the first password byte.
  for (let bits = pw.length; bits > 0; bits >>>= 1) parts.push(bits & 1 ? Buffer.of(0) : pw.subarray(0, 1));
  let digest = md5(...parts);

  for (let round = 0; round < 1000; round++) {
    const step: Uint8Array[] = [round & 1 ? pw : digest];
    if (round % 3 !== 0) step.push(s);
    if (round % 7 !== 0) step.push(pw);
    step.push(round & 1 ? digest : pw);
    digest = md5(...step);
  }

  const b = (i: number): number => digest[i] ?? 0;
  const triple = (x: number, y: number, z: number): string => toBase64((b(x) << 16) | (b(y) << 8) | b(z), 4);
  const hash =
    triple(0, 6, 12) + triple(1, 7, 13) + triple(2, 8, 14) + triple(3, 9, 15) + triple(4, 10, 5) + toBase64(b(11), 2);
  return `${MAGIC}${saltText}$${hash}`;
}
