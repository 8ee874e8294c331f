import t from "tap";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import {
  desCrypt,
  formatConfigError,
  md5Crypt,
  parseStoredPassword,
  parseUsers,
  verifyCliLogin,
  verifyPassword,
  type ConfigResult,
  type UsersFile,
} from "../src/index.js";
import { desEncryptBlock } from "../src/des-crypt.js";

const here = (p: string): string => new URL(p, import.meta.url).pathname;
const messages = (r: ConfigResult<unknown>): string[] => (r.ok ? [] : r.errors.map(formatConfigError));

// MD5-crypt vectors, recorded from `openssl passwd -1 -salt SALT PASSWORD` (OpenSSL 3.0).
const MD5_VECTORS: readonly (readonly [string, string, string])[] = [
  ["password", "saltsalt", "$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/"],
  ["lnsd", "ab", "$1$ab$mBH51jUap1LXhe8OgUOWG0"],
  ["", "xyz", "$1$xyz$kjXWClpYD0.j9bPLUk/Ii."],
  ["a-very-long-password-longer-than-sixteen-bytes", "12345678", "$1$12345678$.yRhwbFcJYXjrxAM1Cq45/"],
  ["pässwörd", "ü1", "$1$ü1$UDDZr0ZE3jm5KEFsmdtEU0"],
  ["x", "", "$1$$LP5.V3ajGqHDdXW6XwZQy."],
];

// Traditional DES crypt vectors, recorded from perl's crypt() (glibc libxcrypt):
//   perl -e 'print crypt("secret", "ab")'   (passwords as UTF-8 bytes)
const DES_VECTORS: readonly (readonly [string, string, string])[] = [
  ["secret", "ab", "abNANd1rDfiNc"],
  ["password", "./", "./xZjzHv5vzVE"],
  ["lnsd", "..", "..djxRUopnfU2"],
  ["longpassword123", "zZ", "zZq3RWy/G71sk"],
  ["", "Ab", "AbVtehnQZDSpU"],
  ["pässwörd", "9Q", "9QR3t.VdsSswU"],
];

function have(cmd: string, args: readonly string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

void t.test("MD5-crypt against recorded openssl vectors", (t) => {
  for (const [password, salt, hash] of MD5_VECTORS) {
    t.equal(md5Crypt(password, salt), hash, `${password} / ${salt}`);
    t.equal(md5Crypt(password, hash), hash, "the salt can be taken from the hash");
  }
  t.equal(md5Crypt("password", "toolongsaltvalue"), md5Crypt("password", "toolongs"), "the salt stops at 8 characters");
  t.end();
});

void t.test("MD5-crypt against openssl, now", { skip: have("openssl", ["version"]) ? false : "no openssl" }, (t) => {
  const cases = [["", "s"], ["p", "12345678"], ["sixteen-bytes-xx", "abc"], ["seventeen-bytes-x", "./Az"], ["spaces in it", "q"]];
  for (const [password = "", salt = ""] of cases) {
    const expected = execFileSync("openssl", ["passwd", "-1", "-salt", salt, password], { encoding: "utf8" }).trim();
    t.equal(md5Crypt(password, salt), expected, `${password} / ${salt}`);
  }
  t.end();
});

void t.test("DES block cipher: the FIPS 46 worked example", (t) => {
  const out = desEncryptBlock(Buffer.from("133457799BBCDFF1", "hex"), Buffer.from("0123456789ABCDEF", "hex"));
  t.equal(Buffer.from(out).toString("hex"), "85e813540f0ab405");
  t.end();
});

void t.test("DES crypt against recorded libxcrypt vectors", (t) => {
  for (const [password, salt, hash] of DES_VECTORS) {
    t.equal(desCrypt(password, salt), hash, `${password} / ${salt}`);
    t.equal(desCrypt(password, hash), hash, "the salt can be taken from the hash");
  }
  t.equal(desCrypt("12345678", "ab"), desCrypt("123456789", "ab"), "only 8 characters count");
  t.throws(() => desCrypt("x", "a"), RangeError);
  t.throws(() => desCrypt("x", "a!"), RangeError);
  t.end();
});

void t.test("DES crypt against perl's crypt(), now", { skip: have("perl", ["-e", "1"]) ? false : "no perl" }, (t) => {
  for (const [password, salt] of [["hello", "xy"], ["Passw0rd!", "/."], ["a", "Zz"], ["exactly8", "q7"]] as const) {
    const expected = execFileSync("perl", ["-e", "print crypt($ARGV[0], $ARGV[1])", password, salt], { encoding: "utf8" });
    t.equal(desCrypt(password, salt), expected, `${password} / ${salt}`);
  }
  t.end();
});

void t.test("password formats", (t) => {
  t.same(parseStoredPassword("plain"), { ok: true, value: { scheme: "plain", text: "plain" } });
  t.same(parseStoredPassword("with:colon"), { ok: true, value: { scheme: "plain", text: "with:colon" } });
  t.same(parseStoredPassword("$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/"), { ok: true, value: { scheme: "md5-crypt", hash: "$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/" } });
  t.same(parseStoredPassword("{crypt}$1$ab$mBH51jUap1LXhe8OgUOWG0"), { ok: true, value: { scheme: "md5-crypt", hash: "$1$ab$mBH51jUap1LXhe8OgUOWG0" } });
  t.same(parseStoredPassword("{crypt}abNANd1rDfiNc"), { ok: true, value: { scheme: "des-crypt", hash: "abNANd1rDfiNc" } });
  t.same(parseStoredPassword("$1$short"), { ok: false, error: "'$1$short' is not a valid MD5-crypt hash ($1$SALT$ then 22 characters)" });
  t.same(parseStoredPassword("{crypt}abc"), {
    ok: false,
    error: "'abc' after {crypt} is not a hash the system's crypt(3) knows ($1$, $5$, $6$, $y$, $gy$, $7$, $2b$, ... or 13 characters of DES)",
  });
  t.same(parseStoredPassword("$6$salt$abcdef"), {
    ok: true,
    value: { scheme: "plain", text: "$6$salt$abcdef" },
    warning: "'$6$salt$abcdef' looks like a $6$ hash but has no {crypt} before it: l2tpns and lnsd take it as the plain-text password (write {crypt}$6$... to use it as a hash)",
  });
  t.same(parseStoredPassword("{crypt}$5$x$y"), { ok: false, error: "'$5$x$y' after {crypt} is not a valid sha256crypt hash" });
  t.end();
});

void t.test("the users file", async (t) => {
  const text = [
    "# CLI users",
    "",
    "admin:plain secret",
    "md5:$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/",
    "des:{crypt}abNANd1rDfiNc",
    "enable:{crypt}./xZjzHv5vzVE",
    "colon:a:b",
  ].join("\r\n");
  const r = parseUsers(text, "users");
  t.same(messages(r), []);
  if (!r.ok) return;
  const users: UsersFile = r.value;
  t.same(users.users.map((u) => [u.line, u.username, u.password.scheme]), [
    [3, "admin", "plain"],
    [4, "md5", "md5-crypt"],
    [5, "des", "des-crypt"],
    [7, "colon", "plain"],
  ]);
  t.same(users.enable, { scheme: "des-crypt", hash: "./xZjzHv5vzVE" });
  t.ok(await verifyCliLogin(users, "admin", "plain secret"));
  t.notOk(await verifyCliLogin(users, "admin", "plain secreT"));
  t.ok(await verifyCliLogin(users, "md5", "password"));
  t.notOk(await verifyCliLogin(users, "md5", "passwore"));
  t.ok(await verifyCliLogin(users, "des", "secret"));
  t.notOk(await verifyCliLogin(users, "des", "secrets"), "DES crypt sees the first 8 characters, and 'secrets' differs");
  t.ok(await verifyCliLogin(users, "colon", "a:b"));
  t.notOk(await verifyCliLogin(users, "enable", "password"), "enable is not a login");
  t.notOk(await verifyCliLogin(users, "nobody", "x"));
  if (users.enable !== undefined) {
    t.ok(await verifyPassword(users.enable, "password"));
    t.notOk(await verifyPassword(users.enable, "Password"));
  }
});

void t.test("bad users files", (t) => {
  const r = parseUsers(
    ["no colon here", ":nopass", "bad user:x", "a:1", "a:2", "enable:x", "enable:y", "h:$6$s$abc", "e:"].join("\n"),
    "users",
  );
  t.same(messages(r), [
    "users:1: expected 'username:password'",
    "users:2: missing username before ':'",
    "users:3: username 'bad user' contains blanks",
    "users:5: user a is listed again (first on line 4)",
    "users:7: the enable password is given again (first on line 6)",
  ]);
  t.same(r.warnings.map(formatConfigError), [
    "users:8: h: '$6$s$abc' looks like a $6$ hash but has no {crypt} before it: l2tpns and lnsd take it as the plain-text password (write {crypt}$6$... to use it as a hash)",
    "users:9: e has an empty password",
  ]);
  t.end();
});

void t.test("the example users files", (t) => {
  for (const file of ["/etc/l2tpns/users", here("../../../../etc/users")]) {
    if (!existsSync(file)) continue;
    const r = parseUsers(readFileSync(file, "utf8"), file);
    t.same(messages(r), [], file);
  }
  t.end();
});
