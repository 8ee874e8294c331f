// Traditional DES crypt(3) (13 characters: 2 of salt, 11 of hash), for "{crypt}" passwords in the
// users file. Node's OpenSSL 3 has no DES without the legacy provider, so DES is here, bit by bit
// from FIPS 46-3: the tables below are the standard's. crypt: the key is the first 8 password bytes,
// 7 bits each; the 12 salt bits swap pairs of E-box outputs; a zero block is encrypted 25 times.
// Speed does not matter: it runs once per CLI login.
import { CRYPT_ALPHABET } from "./md5-crypt.js";

// FIPS 46-3 tables, 1-based bit numbers as printed in the standard.
const IP = [
  58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4, 62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
  57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3, 61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7,
];
const P = [16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10, 2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25];
const PC1 = [
  57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36,
  63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22, 14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
];
const PC2 = [
  14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2,
  41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
];
const SHIFTS = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1];
const S = [
  [
    14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7, 0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8,
    4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0, 15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13,
  ],
  [
    15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10, 3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5,
    0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15, 13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9,
  ],
  [
    10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8, 13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1,
    13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7, 1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12,
  ],
  [
    7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15, 13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9,
    10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4, 3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14,
  ],
  [
    2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9, 14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6,
    4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14, 11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3,
  ],
  [
    12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11, 10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8,
    9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6, 4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13,
  ],
  [
    4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1, 13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6,
    1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2, 6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12,
  ],
  [
    13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7, 1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2,
    7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8, 2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11,
  ],
];
/** The final permutation is the inverse of IP. */
const FP: number[] = IP.map((_, i) => IP.indexOf(i + 1) + 1);
/** E: each S-box input takes 6 bits of R, overlapping its neighbours by one bit on each side. */
const E: number[] = Array.from({ length: 48 }, (_, i) => ((Math.floor(i / 6) * 4 + (i % 6) + 31) % 32) + 1);

type Bits = readonly number[];

const permute = (input: Bits, table: readonly number[]): number[] => table.map((n) => input[n - 1] ?? 0);

function bytesToBits(bytes: Uint8Array): number[] {
  return Array.from({ length: bytes.length * 8 }, (_, i) => ((bytes[i >> 3] ?? 0) >> (7 - (i & 7))) & 1);
}

function bitsToBytes(bits: Bits): Uint8Array {
  const out = new Uint8Array(bits.length >> 3);
  bits.forEach((b, i) => {
    if (b) out[i >> 3] = (out[i >> 3] ?? 0) | (0x80 >> (i & 7));
  });
  return out;
}

/** The 16 round keys, 48 bits each (FIPS 46-3 key schedule). */
function roundKeys(key: Bits): number[][] {
  const cd = permute(key, PC1);
  let c = cd.slice(0, 28);
  let d = cd.slice(28);
  return SHIFTS.map((n) => {
    c = [...c.slice(n), ...c.slice(0, n)];
    d = [...d.slice(n), ...d.slice(0, n)];
    return permute([...c, ...d], PC2);
  });
}

/** One DES encryption of a 64-bit block; `expansion` is E, possibly with crypt's salt swaps. */
function encryptBits(block: Bits, keys: readonly Bits[], expansion: readonly number[]): number[] {
  const ip = permute(block, IP);
  let l = ip.slice(0, 32);
  let r = ip.slice(32);
  for (const k of keys) {
    const x = permute(r, expansion).map((b, i) => b ^ (k[i] ?? 0));
    const f: number[] = [];
    for (let box = 0; box < 8; box++) {
      const six = x.slice(box * 6, box * 6 + 6);
      const row = ((six[0] ?? 0) << 1) | (six[5] ?? 0);
      const col = ((six[1] ?? 0) << 3) | ((six[2] ?? 0) << 2) | ((six[3] ?? 0) << 1) | (six[4] ?? 0);
      const v = S[box]?.[row * 16 + col] ?? 0;
      f.push((v >> 3) & 1, (v >> 2) & 1, (v >> 1) & 1, v & 1);
    }
    const next = permute(f, P).map((b, i) => b ^ (l[i] ?? 0));
    l = r;
    r = next;
  }
  return permute([...r, ...l], FP);
}

/** Plain DES-ECB of one 8-byte block with an 8-byte key (parity bits ignored); for tests against FIPS vectors. */
export function desEncryptBlock(key: Uint8Array, block: Uint8Array): Uint8Array {
  return bitsToBytes(encryptBits(bytesToBits(block), roundKeys(bytesToBits(key)), E));
}

/** Whether a string is a traditional DES crypt hash: 13 characters of crypt's alphabet. */
export function isDesCryptHash(hash: string): boolean {
  return /^[./0-9A-Za-z]{13}$/.test(hash);
}

/** crypt(3) in its traditional DES form. `salt` gives the salt in its first 2 characters (a whole hash will do). */
export function desCrypt(password: string, salt: string): string {
  const saltChars = salt.slice(0, 2);
  const saltValues = [0, 1].map((i) => CRYPT_ALPHABET.indexOf(saltChars.charAt(i)));
  if (saltChars.length !== 2 || saltValues.some((v) => v < 0)) {
    throw new RangeError(`DES crypt salt must be 2 characters of ${CRYPT_ALPHABET}`);
  }
  const expansion = [...E];
  saltValues.forEach((value, i) => {
    for (let j = 0; j < 6; j++) {
      if ((value >> j) & 1) {
        const a = 6 * i + j;
        const b = a + 24;
        [expansion[a], expansion[b]] = [expansion[b] ?? 0, expansion[a] ?? 0];
      }
    }
  });
  // The key: 7 bits of each of the first 8 password bytes, placed above an (ignored) parity bit.
  const keyBytes = new Uint8Array(8);
  Buffer.from(password, "utf8")
    .subarray(0, 8)
    .forEach((byte, i) => {
      keyBytes[i] = (byte << 1) & 0xff;
    });
  const keys = roundKeys(bytesToBits(keyBytes));
  let block: number[] = new Array<number>(64).fill(0);
  for (let i = 0; i < 25; i++) block = encryptBits(block, keys, expansion);
  const bits = [...block, 0, 0];
  let out = saltChars;
  for (let i = 0; i < 11; i++) {
    const six = bits.slice(i * 6, i * 6 + 6).reduce((acc, b) => (acc << 1) | b, 0);
    out += CRYPT_ALPHABET.charAt(six);
  }
  return out;
}
