// The users file's {crypt} hashes beyond MD5 and DES: l2tpns hands them to the system's crypt(3)
// (libcli), so SHA-crypt, yescrypt and the rest work there; lnsd asks the same crypt(3) through perl.
import t from "tap";
import { execFileSync } from "node:child_process";
import { formatConfigError, parseStoredPassword, parseUsers, systemCrypt, verifyCliLogin, verifyPassword } from "../src/index.js";

const PASSWORD = "lnsd pässword";

// Made by Debian 12's `mkpasswd -m METHOD 'lnsd pässword'` (whois 5.5.17, libxcrypt 4.4.33).
const MKPASSWD_VECTORS: readonly (readonly [string, string])[] = [
  ["sha256crypt", "$5$MyPIDCHUIXPrHDS1$5u3rCOo6NLaxWLZewAbdAmcWFqlQo2eOIWDnCOdgED8"],
  ["sha512crypt", "$6$Ithy7bhbIlFQ/hr3$7S0qOz1X01zBEB.W.5fQLCnjd3T2wD68QCF4k1JgtkM3nhHQ3A6vkv.kVFl26BONABgfIS7cyV1QTqtP7.JPJ0"],
  ["yescrypt", "$y$j9T$ynW18rvchjdOxw8B8PO6X/$OYxL5pyWRZgxORiMkWdP8t9Q77m7biYiKsIjLLmwgR3"],
  ["gost-yescrypt", "$gy$j9T$GBXZMjyySC1ohcnYewbIg.$5UXlxg.Jh7czX1IRPRWJndF2S2maU2xziXnwZrxWp94"],
  ["scrypt", "$7$CU..../....S0aIY59bgW/80NfnBVuFx0$inDAs3WReJPEjYC4lxfISwIsQyQcBLEIpY.spzByOT8"],
  ["bcrypt", "$2b$05$hIP9f6RvSiXs9VgtOzDt0Ob6/qHul.udLXbJsWl3rr50IRdpLnYAi"],
];

// Ulrich Drepper, "Unix crypt using SHA-256 and SHA-512", test vectors.
const DREPPER_VECTORS: readonly (readonly [string, string])[] = [
  ["Hello world!", "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"],
  ["Hello world!", "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"],
  ["Hello world!", "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."],
];

function have(cmd: string, args: readonly string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

void t.test("{crypt} hashes of every scheme Debian's mkpasswd makes", async (t) => {
  for (const [method, hash] of MKPASSWD_VECTORS) {
    const parsed = parseStoredPassword(`{crypt}${hash}`);
    t.ok(parsed.ok, `${method}: accepted`);
    if (!parsed.ok) continue;
    t.equal(parsed.value.scheme, "system-crypt", method);
    t.ok(await verifyPassword(parsed.value, PASSWORD), `${method}: the right password`);
    t.notOk(await verifyPassword(parsed.value, "lnsd passwörd"), `${method}: a wrong one`);
    t.notOk(await verifyPassword(parsed.value, ""), `${method}: an empty one`);
  }
});

void t.test("SHA-crypt: Drepper's vectors through the system's crypt(3)", async (t) => {
  for (const [password, hash] of DREPPER_VECTORS) {
    t.equal(await systemCrypt(password, hash), hash, hash.slice(0, 20));
  }
  t.equal(await systemCrypt("a\nb", "$5$saltstring"), await systemCrypt("a\nb", "$5$saltstring$"), "a line feed in a password is kept");
  t.not(await systemCrypt("a\nb", "$5$saltstring"), await systemCrypt("a", "$5$saltstring"));
});

void t.test("a users file of mkpasswd hashes: every login works, an unknown scheme is a warning", async (t) => {
  const lines = [
    "# users made with mkpasswd",
    `y:{crypt}${MKPASSWD_VECTORS[2]?.[1] ?? ""}`,
    `six:{CRYPT}${MKPASSWD_VECTORS[1]?.[1] ?? ""}`,
    "odd:{crypt}$9$abc$def",
    "plainish:$6$not$ahash",
    "md5:$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/",
  ];
  const r = parseUsers(lines.join("\n"), "/etc/l2tpns/users");
  t.ok(r.ok, "the file loads");
  if (!r.ok) return;
  t.same(r.warnings.map(formatConfigError), [
    "/etc/l2tpns/users:4: odd: '$9$abc$def' after {crypt} is not a hash the system's crypt(3) knows ($1$, $5$, $6$, $y$, $gy$, $7$, $2b$, ... or 13 characters of DES): this user cannot log in",
    "/etc/l2tpns/users:5: plainish: '$6$not$ahash' looks like a $6$ hash but has no {crypt} before it: l2tpns and lnsd take it as the plain-text password (write {crypt}$6$... to use it as a hash)",
  ]);
  t.same(r.value.users.map((u) => u.username), ["y", "six", "plainish", "md5"], "the unusable user is left out, the others stay");
  t.ok(await verifyCliLogin(r.value, "y", PASSWORD), "yescrypt login");
  t.ok(await verifyCliLogin(r.value, "six", PASSWORD), "sha512crypt login, {crypt} in any case as libcli");
  t.notOk(await verifyCliLogin(r.value, "six", "wrong"));
  t.ok(await verifyCliLogin(r.value, "plainish", "$6$not$ahash"), "as libcli: plain text");
  t.ok(await verifyCliLogin(r.value, "md5", "password"));
  t.notOk(await verifyCliLogin(r.value, "odd", "anything"));
});

void t.test("an unusable enable password refuses enable, it does not open it", async (t) => {
  const r = parseUsers("admin:x\nenable:{crypt}$9$abc$def\n", "users");
  t.ok(r.ok);
  if (!r.ok) return;
  t.same(r.warnings.map(formatConfigError), [
    "users:2: enable: '$9$abc$def' after {crypt} is not a hash the system's crypt(3) knows ($1$, $5$, $6$, $y$, $gy$, $7$, $2b$, ... or 13 characters of DES): enable will refuse every password",
  ]);
  t.not(r.value.enable, undefined);
  if (r.value.enable !== undefined) t.notOk(await verifyPassword(r.value.enable, "anything"));
});

void t.test("against mkpasswd, now", { skip: have("mkpasswd", ["--version"]) ? false : "no mkpasswd (Debian package whois)" }, async (t) => {
  for (const method of ["yescrypt", "sha512crypt", "sha256crypt"]) {
    const hash = execFileSync("mkpasswd", ["-m", method, "-s"], { input: "fresh one\n", encoding: "utf8" }).trim();
    const parsed = parseStoredPassword(`{crypt}${hash}`);
    t.ok(parsed.ok && (await verifyPassword(parsed.value, "fresh one")), `${method}: ${hash}`);
  }
});
