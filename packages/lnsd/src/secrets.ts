// Local authentication, used when no RADIUS server is configured: the users of a secrets file in
// pppd's chap-secrets format (pppd(8), AUTHENTICATION), checked for PAP (RFC 1334) and CHAP with
// MD5 (RFC 1994). Parsing is a pure function of the text; runs on the control thread.
import { createHash, timingSafeEqual } from "node:crypto";
import { dirname, isAbsolute, join } from "node:path";
import { formatIpv4, parseIpv4 } from "@lnsd/wire";
import {
  Problems,
  desCrypt,
  fileLines,
  isDesCryptHash,
  md5Crypt,
  readConfigFile,
  type ConfigResult,
  type StartupSettings,
} from "@lnsd/config";

/** One line of the file: the secret `client` uses towards `server`. */
export interface SecretEntry {
  readonly line: number;
  /** The user name, or "*" for any. */
  readonly client: string;
  /** Our name (hostname), or "*" for any. */
  readonly server: string;
  readonly secret: string;
  /** The one address the file gives the user; absent for "*", "-" or none (the pool gives one). */
  readonly address?: number;
}

export interface SecretsFile {
  readonly entries: readonly SecretEntry[];
}

const WILDCARD = "*";

/** A logical line: its words and the line it starts on. */
interface Words {
  readonly line: number;
  readonly words: string[];
}

/**
 * Splits the file into words as pppd reads an options file: blanks separate words; "..." or '...'
 * quote blanks (a quote may open mid-word); a backslash takes the next character as it is, and at
 * the end of a line joins the next line; "#" at the start of a word comments out the rest of the line.
 */
function splitWords(text: string, problems: Problems): Words[] {
  const out: Words[] = [];
  let current: Words | undefined;
  let word: string | undefined;
  let quote: string | undefined;
  fileLines(text).forEach((raw, i) => {
    const line = i + 1;
    current ??= { line, words: [] };
    let continued = false;
    let at = 0;
    while (at < raw.length) {
      const c = raw.charAt(at++);
      if (c === "\\") {
        if (at === raw.length) {
          continued = true;
          break;
        }
        word = (word ?? "") + raw.charAt(at++);
      } else if (quote !== undefined) {
        if (c === quote) quote = undefined;
        else word = (word ?? "") + c;
      } else if (c === '"' || c === "'") {
        quote = c;
        word ??= "";
      } else if (c === " " || c === "\t" || c === "\f" || c === "\v") {
        if (word !== undefined) current.words.push(word);
        word = undefined;
      } else if (c === "#" && word === undefined) {
        break;
      } else {
        word = (word ?? "") + c;
      }
    }
    if (continued) return;
    if (quote !== undefined) {
      problems.error(line, `unterminated ${quote === '"' ? "double" : "single"} quote`);
      current = word = quote = undefined;
      return;
    }
    if (word !== undefined) current.words.push(word);
    if (current.words.length > 0) out.push(current);
    current = word = undefined;
  });
  if (current !== undefined) {
    if (quote !== undefined) problems.error(current.line, "unterminated quote at the end of the file");
    else {
      if (word !== undefined) current.words.push(word);
      if (current.words.length > 0) out.push(current);
    }
  }
  return out;
}

/** The address part: none, "-" or "*" (the pool gives one), or one IPv4 address. */
function parseAddresses(words: readonly string[]): { ok: true; address?: number } | { ok: false; error: string } {
  const [only, ...more] = words;
  if (only === undefined) return { ok: true };
  const all = words.join(" ");
  if (more.length === 0) {
    if (only === "-" || only === WILDCARD) return { ok: true };
    const address = parseIpv4(only, { syntax: "strict" });
    if (address === undefined) {
      return /[/!+]/.test(only)
        ? { ok: false, error: `'${only}': lnsd gives each user one address; subnets, '+' and '!' are not supported` }
        : { ok: false, error: `'${only}' is not an IPv4 address, '*' or '-'` };
    }
    if (address === 0 || address === 0xffffffff) return { ok: false, error: `${only} cannot be given to a user` };
    return { ok: true, address };
  }
  return { ok: false, error: `'${all}': lnsd gives each user one address; write one IPv4 address, '*' or '-'` };
}

/** Parses a chap-secrets file: "client server secret [address]" per line. Errors name the file and line. */
export function parseChapSecrets(text: string, file = "chap-secrets"): ConfigResult<SecretsFile> {
  const problems = new Problems(file);
  const entries: SecretEntry[] = [];
  const byPair = new Map<string, number>();
  const byAddress = new Map<number, SecretEntry>();
  for (const { line, words } of splitWords(text, problems)) {
    const [client, server, secret, ...rest] = words;
    if (client === undefined || server === undefined || secret === undefined) {
      problems.error(line, `expected 'client server secret [address]', found ${words.length} word${words.length === 1 ? "" : "s"}`);
      continue;
    }
    if (secret.startsWith("@")) {
      problems.error(line, `${client}: secrets read from a file ('${secret}') are not supported; write the secret itself`);
      continue;
    }
    const addresses = parseAddresses(rest);
    if (!addresses.ok) {
      problems.error(line, `${client}: ${addresses.error}`);
      continue;
    }
    const entry: SecretEntry = { line, client, server, secret, ...(addresses.address === undefined ? {} : { address: addresses.address }) };
    entries.push(entry);

    if (secret === "") problems.warn(line, `${client}: the secret is empty, so this line lets no one in`);
    if (client === WILDCARD) problems.warn(line, "client '*': any user name is accepted with this secret");
    const pair = JSON.stringify([client, server]);
    const earlier = byPair.get(pair);
    if (earlier !== undefined) problems.warn(line, `${client} ${server}: already given on line ${earlier}, which is the one used`);
    else byPair.set(pair, line);
    if (entry.address !== undefined) {
      const other = byAddress.get(entry.address);
      if (other !== undefined && other.client !== client) {
        problems.warn(line, `${formatIpv4(entry.address)} is also given to ${other.client} (line ${other.line}): only one of them can be logged in at a time`);
      } else byAddress.set(entry.address, entry);
    }
  }
  return problems.result({ entries });
}

export type LocalAuthFailure =
  /** No line for this user and our name. */
  | "no-secret"
  /** The line's secret is empty. */
  | "empty-secret"
  | "wrong-password"
  /** A CHAP Response whose Value is not 16 bytes (RFC 1994 4.1 with MD5). */
  | "bad-response";

export type LocalAuthResult =
  /** `address`: the one the file gives the user, if any (as a RADIUS Framed-IP-Address would). */
  | { readonly ok: true; readonly line: number; readonly address?: number }
  | { readonly ok: false; readonly reason: LocalAuthFailure; readonly line?: number };

const digest = (b: Uint8Array): Buffer => createHash("sha256").update(b).digest();

/** Compares without leaking where (or whether in length) the two differ. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

const bytesOf = (s: string | Uint8Array): Uint8Array => (typeof s === "string" ? Buffer.from(s, "utf8") : s);

/** pppd: a PAP password that is not the secret is run through crypt(3) and compared again. */
function cryptMatches(secret: string, password: Uint8Array): boolean {
  const text = Buffer.from(password).toString("utf8");
  if (/^\$1\$[^$]{0,8}\$[./0-9A-Za-z]{22}$/.test(secret)) return sameBytes(bytesOf(md5Crypt(text, secret)), bytesOf(secret));
  if (isDesCryptHash(secret)) return sameBytes(bytesOf(desCrypt(text, secret)), bytesOf(secret));
  return false;
}

/** The secrets of one file as seen from a server name (our hostname), ready to check logins. */
export class LocalSecrets {
  private readonly exact = new Map<string, SecretEntry>();
  private readonly anyClient: SecretEntry | undefined;

  constructor(
    readonly file: SecretsFile,
    readonly serverName: string,
  ) {
    let anyClient: SecretEntry | undefined;
    for (const e of file.entries) {
      if (e.server !== serverName && e.server !== WILDCARD) continue;
      if (e.client === WILDCARD) anyClient = better(anyClient, e);
      else this.exact.set(e.client, better(this.exact.get(e.client), e));
    }
    this.anyClient = anyClient;
  }

  /** pppd: the line for this client and server with the fewest wildcards; on a tie, the first. */
  find(user: string): SecretEntry | undefined {
    const exact = this.exact.get(user);
    return exact === undefined ? this.anyClient : this.anyClient === undefined ? exact : better(exact, this.anyClient);
  }

  /** PAP (RFC 1334 2.2.1): the password is the secret, or (pppd) its crypt(3) hash is. */
  verifyPap(user: string, password: string | Uint8Array): LocalAuthResult {
    const entry = this.find(user);
    if (entry === undefined) return { ok: false, reason: "no-secret" };
    if (entry.secret === "") return { ok: false, reason: "empty-secret", line: entry.line };
    const given = bytesOf(password);
    const ok = sameBytes(given, bytesOf(entry.secret)) || cryptMatches(entry.secret, given);
    return ok ? accepted(entry) : { ok: false, reason: "wrong-password", line: entry.line };
  }

  /** CHAP with MD5 (RFC 1994 2 and 4.1): the Response Value is MD5(Identifier || secret || Challenge). */
  verifyChapMd5(user: string, id: number, challenge: Uint8Array, response: Uint8Array): LocalAuthResult {
    if (!Number.isInteger(id) || id < 0 || id > 255) throw new RangeError(`CHAP Identifier ${id} is not one byte`);
    const entry = this.find(user);
    if (entry === undefined) return { ok: false, reason: "no-secret" };
    if (entry.secret === "") return { ok: false, reason: "empty-secret", line: entry.line };
    if (response.length !== 16) return { ok: false, reason: "bad-response", line: entry.line };
    const expected = createHash("md5").update(Uint8Array.of(id)).update(bytesOf(entry.secret)).update(challenge).digest();
    return timingSafeEqual(expected, response) ? accepted(entry) : { ok: false, reason: "wrong-password", line: entry.line };
  }
}

const wildcards = (e: SecretEntry): number => (e.client === WILDCARD ? 1 : 0) + (e.server === WILDCARD ? 1 : 0);

function better(a: SecretEntry | undefined, b: SecretEntry): SecretEntry {
  if (a === undefined) return b;
  const d = wildcards(a) - wildcards(b);
  return d < 0 || (d === 0 && a.line < b.line) ? a : b;
}

function accepted(e: SecretEntry): LocalAuthResult {
  return e.address === undefined ? { ok: true, line: e.line } : { ok: true, line: e.line, address: e.address };
}

/** Local authentication is used when no RADIUS server is set. */
export function usesLocalSecrets(s: Pick<StartupSettings, "primary_radius" | "secondary_radius">): boolean {
  return s.primary_radius === "0.0.0.0" && s.secondary_radius === "0.0.0.0";
}

/** local_secrets_file, relative to the startup-config's directory unless absolute. */
export function localSecretsPath(startupConfig: string, localSecretsFile: string): string {
  return isAbsolute(localSecretsFile) ? localSecretsFile : join(dirname(startupConfig), localSecretsFile);
}

/** Reads and parses a secrets file; an unreadable (or missing) file is one error naming it (line 0). */
export function readChapSecretsFile(path: string): Promise<ConfigResult<SecretsFile>> {
  return readConfigFile(path, parseChapSecrets);
}
