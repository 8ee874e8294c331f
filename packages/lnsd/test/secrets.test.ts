import t from "tap";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatIpv4 } from "@lnsd/wire";
import { defaultSettings, formatConfigError, parseStartupConfig, type ConfigResult } from "@lnsd/config";
import {
  LocalSecrets,
  localSecretsPath,
  parseChapSecrets,
  readChapSecretsFile,
  usesLocalSecrets,
  type SecretsFile,
} from "../src/index.js";

const here = (p: string): string => new URL(p, import.meta.url).pathname;

function secrets(text: string): SecretsFile {
  const r = parseChapSecrets(text, "chap-secrets");
  if (!r.ok) throw new Error(r.errors.map(formatConfigError).join("\n"));
  return r.value;
}

const errors = (r: ConfigResult<unknown>): string[] => (r.ok ? [] : r.errors.map(formatConfigError));
const warnings = (r: ConfigResult<unknown>): string[] => r.warnings.map(formatConfigError);

/** RFC 1994 2 and 4.1, written out apart from the code under test. */
function chapMd5(id: number, secret: string, challenge: Buffer): Buffer {
  return createHash("md5").update(Buffer.concat([Buffer.from([id]), Buffer.from(secret, "utf8"), challenge])).digest();
}

void t.test("etc/chap-secrets, the demo users", (t) => {
  const r = parseChapSecrets(readFileSync(here("../../../../etc/chap-secrets"), "utf8"), "etc/chap-secrets");
  t.same(errors(r), []);
  t.same(warnings(r), []);
  if (!r.ok) {
    t.end();
    return;
  }
  t.same(
    r.value.entries.map((e) => [e.client, e.server, e.secret, e.address === undefined ? "pool" : formatIpv4(e.address)]),
    [
      ["demo1", "*", "demo1pass", "pool"],
      ["demo2", "*", "demo2 pass phrase", "pool"],
      ["demo3", "*", "demo3pass", "198.51.100.200"],
    ],
  );
  const local = new LocalSecrets(r.value, "lns1");
  t.same(local.verifyPap("demo1", "demo1pass"), { ok: true, line: 5 });
  t.same(local.verifyPap("demo3", "demo3pass"), { ok: true, line: 7, address: 0xc63364c8 });
  t.end();
});

void t.test("words as pppd reads them: quotes, backslashes, comments, continuation", (t) => {
  const file = secrets(
    [
      "# comment line",
      "   # indented comment",
      "",
      'alice server "two words" # trailing comment',
      "bob\tserver 'single quoted' -",
      "carol server pass#word *",
      "dave server back\\ slash\\\\ 192.0.2.7",
      'erin server mid"dle quo"ted',
      'frank server ""',
      "grace server \\",
      "  continued 192.0.2.8",
      "heidi \"serv\\\"er\" 'it''s'",
      "ivan * x",
    ].join("\r\n"),
  );
  t.same(
    file.entries.map((e) => ({ line: e.line, client: e.client, server: e.server, secret: e.secret, ...(e.address === undefined ? {} : { address: formatIpv4(e.address) }) })),
    [
      { line: 4, client: "alice", server: "server", secret: "two words" },
      { line: 5, client: "bob", server: "server", secret: "single quoted" },
      { line: 6, client: "carol", server: "server", secret: "pass#word" },
      { line: 7, client: "dave", server: "server", secret: "back slash\\", address: "192.0.2.7" },
      { line: 8, client: "erin", server: "server", secret: "middle quoted" },
      { line: 9, client: "frank", server: "server", secret: "" },
      { line: 10, client: "grace", server: "server", secret: "continued", address: "192.0.2.8" },
      { line: 12, client: "heidi", server: 'serv"er', secret: "its" },
      { line: 13, client: "ivan", server: "*", secret: "x" },
    ],
  );
  t.end();
});

void t.test("bad lines: every error, with file and line", (t) => {
  const r = parseChapSecrets(
    [
      "good * secret",
      "onlytwo words",
      "alice * 'unterminated",
      "bob * @/etc/ppp/bob-secret",
      "carol * s 10.0.0.0/24",
      "dave * s 10.0.0.1 10.0.0.2",
      "erin * s !10.0.0.1",
      "frank * s 10.0.0.1+",
      "grace * s 300.1.1.1",
      "heidi * s - 10.0.0.1",
      "ivan * s 0.0.0.0",
      "judy * s 255.255.255.255",
      "kim",
      'last * "open',
    ].join("\n"),
    "/etc/lnsd/chap-secrets",
  );
  t.same(errors(r), [
    "/etc/lnsd/chap-secrets:2: expected 'client server secret [address]', found 2 words",
    "/etc/lnsd/chap-secrets:3: unterminated single quote",
    "/etc/lnsd/chap-secrets:4: bob: secrets read from a file ('@/etc/ppp/bob-secret') are not supported; write the secret itself",
    "/etc/lnsd/chap-secrets:5: carol: '10.0.0.0/24': lnsd gives each user one address; subnets, '+' and '!' are not supported",
    "/etc/lnsd/chap-secrets:6: dave: '10.0.0.1 10.0.0.2': lnsd gives each user one address; write one IPv4 address, '*' or '-'",
    "/etc/lnsd/chap-secrets:7: erin: '!10.0.0.1': lnsd gives each user one address; subnets, '+' and '!' are not supported",
    "/etc/lnsd/chap-secrets:8: frank: '10.0.0.1+': lnsd gives each user one address; subnets, '+' and '!' are not supported",
    "/etc/lnsd/chap-secrets:9: grace: '300.1.1.1' is not an IPv4 address, '*' or '-'",
    "/etc/lnsd/chap-secrets:10: heidi: '- 10.0.0.1': lnsd gives each user one address; write one IPv4 address, '*' or '-'",
    "/etc/lnsd/chap-secrets:11: ivan: 0.0.0.0 cannot be given to a user",
    "/etc/lnsd/chap-secrets:12: judy: 255.255.255.255 cannot be given to a user",
    "/etc/lnsd/chap-secrets:13: expected 'client server secret [address]', found 1 word",
    "/etc/lnsd/chap-secrets:14: unterminated double quote",
  ]);
  t.end();
});

void t.test("warnings: empty secret, any client, a pair given twice, an address given twice", (t) => {
  const r = parseChapSecrets(
    ["a * ''", "* * shared", "b lns1 one", "b lns1 two", "c * x 192.0.2.1", "d * y 192.0.2.1"].join("\n"),
    "cs",
  );
  t.same(errors(r), []);
  t.same(warnings(r), [
    "cs:1: a: the secret is empty, so this line lets no one in",
    "cs:2: client '*': any user name is accepted with this secret",
    "cs:4: b lns1: already given on line 3, which is the one used",
    "cs:6: 192.0.2.1 is also given to c (line 5): only one of them can be logged in at a time",
  ]);
  t.end();
});

void t.test("choosing the line: our name or '*', fewest wildcards, then the first", (t) => {
  const file = secrets(
    [
      "alice otherlns wrong-server",
      "alice * alice-any-server",
      "alice lns1 alice-exact",
      "alice lns1 alice-exact-again",
      "bob * bob-any-server",
      "* lns1 anyone-here",
      "carol otherlns carol-elsewhere",
      "* * anyone-anywhere",
    ].join("\n"),
  );
  const local = new LocalSecrets(file, "lns1");
  t.equal(local.find("alice")?.secret, "alice-exact", "exact client and server beat wildcards; the first of two");
  t.equal(local.find("bob")?.secret, "bob-any-server", "one wildcard each: the earlier line");
  t.equal(local.find("carol")?.secret, "anyone-here", "a line for another server does not count");
  t.equal(local.find("nobody")?.secret, "anyone-here");
  t.equal(new LocalSecrets(file, "lns2").find("nobody")?.secret, "anyone-anywhere");
  t.equal(new LocalSecrets(file, "LNS1").find("alice")?.secret, "alice-any-server", "names are case sensitive");
  t.equal(new LocalSecrets(secrets("alice lns1 x"), "lns2").find("alice"), undefined);
  t.end();
});

void t.test("PAP", (t) => {
  const local = new LocalSecrets(
    secrets(
      [
        "alice * 'correct horse' 192.0.2.10",
        "bob lns1 bobpass",
        "empty * ''",
        "md5 * $1$s4ltS4lt$T2HtOKWokl67WiFz6MY9H0",
        "des * abq4H5ta2zxbQ",
        "utf8 * pässwörd",
      ].join("\n"),
    ),
    "lns1",
  );
  t.same(local.verifyPap("alice", "correct horse"), { ok: true, line: 1, address: 0xc000020a });
  t.same(local.verifyPap("alice", Buffer.from("correct horse")), { ok: true, line: 1, address: 0xc000020a });
  t.same(local.verifyPap("alice", "correct horse "), { ok: false, reason: "wrong-password", line: 1 });
  t.same(local.verifyPap("alice", ""), { ok: false, reason: "wrong-password", line: 1 });
  t.same(local.verifyPap("bob", "bobpass"), { ok: true, line: 2 });
  t.same(local.verifyPap("Bob", "bobpass"), { ok: false, reason: "no-secret" });
  t.same(local.verifyPap("empty", ""), { ok: false, reason: "empty-secret", line: 3 });
  // pppd: a password that is not the secret is crypt(3)ed and compared again (hashes from openssl
  // passwd -1 and Python's crypt).
  t.same(local.verifyPap("md5", "crypted pw"), { ok: true, line: 4 });
  t.same(local.verifyPap("md5", "$1$s4ltS4lt$T2HtOKWokl67WiFz6MY9H0"), { ok: true, line: 4 }, "the secret itself, as pppd");
  t.same(local.verifyPap("md5", "crypted PW"), { ok: false, reason: "wrong-password", line: 4 });
  t.same(local.verifyPap("des", "crypted pw"), { ok: true, line: 5 });
  t.same(local.verifyPap("des", "crypted"), { ok: false, reason: "wrong-password", line: 5 });
  t.same(local.verifyPap("utf8", Buffer.from("pässwörd", "utf8")), { ok: true, line: 6 });
  t.same(local.verifyPap("utf8", Buffer.from("pässwörd", "latin1")), { ok: false, reason: "wrong-password", line: 6 });
  t.end();
});

void t.test("CHAP with MD5 (RFC 1994)", (t) => {
  const local = new LocalSecrets(secrets(["alice * 'correct horse' 192.0.2.10", "bob * bobpass", "empty * ''"].join("\n")), "lns1");
  for (const id of [0, 1, 77, 255]) {
    const challenge = randomBytes(16);
    const response = chapMd5(id, "correct horse", challenge);
    t.same(local.verifyChapMd5("alice", id, challenge, response), { ok: true, line: 1, address: 0xc000020a }, `id ${id}`);
    t.same(local.verifyChapMd5("alice", (id + 1) & 0xff, challenge, response), { ok: false, reason: "wrong-password", line: 1 });
    const flipped = Buffer.from(response);
    flipped[15] = (flipped[15] ?? 0) ^ 1;
    t.same(local.verifyChapMd5("alice", id, challenge, flipped), { ok: false, reason: "wrong-password", line: 1 });
  }
  // A fixed case: identifier 1, challenge 00..0f, secret "bobpass".
  const challenge = Buffer.from("000102030405060708090a0b0c0d0e0f", "hex");
  const response = chapMd5(1, "bobpass", challenge);
  t.same(local.verifyChapMd5("bob", 1, challenge, response), { ok: true, line: 2 });
  t.same(local.verifyChapMd5("bob", 1, challenge, chapMd5(1, "bobpasS", challenge)), { ok: false, reason: "wrong-password", line: 2 });
  t.same(local.verifyChapMd5("bob", 1, challenge, response.subarray(0, 15)), { ok: false, reason: "bad-response", line: 2 });
  t.same(local.verifyChapMd5("nobody", 1, challenge, response), { ok: false, reason: "no-secret" });
  t.same(local.verifyChapMd5("empty", 1, challenge, chapMd5(1, "", challenge)), { ok: false, reason: "empty-secret", line: 3 });
  t.throws(() => local.verifyChapMd5("bob", 256, challenge, response), RangeError);
  t.end();
});

void t.test("local_secrets_file, and when local authentication is used", (t) => {
  t.equal(localSecretsPath("/etc/l2tpns/startup-config", "chap-secrets"), "/etc/l2tpns/chap-secrets");
  t.equal(localSecretsPath("etc/startup-config", "sub/users.secrets"), "etc/sub/users.secrets");
  t.equal(localSecretsPath("/etc/l2tpns/startup-config", "/srv/lnsd/secrets"), "/srv/lnsd/secrets");
  t.equal(defaultSettings().local_secrets_file, "chap-secrets");
  t.ok(usesLocalSecrets(defaultSettings()), "no RADIUS server: local");
  const withRadius = parseStartupConfig("set primary_radius 192.0.2.1\nset local_secrets_file /srv/x\n");
  t.ok(withRadius.ok);
  if (withRadius.ok) {
    t.notOk(usesLocalSecrets(withRadius.value.settings));
    t.equal(withRadius.value.settings.local_secrets_file, "/srv/x");
  }
  t.notOk(usesLocalSecrets({ primary_radius: "0.0.0.0", secondary_radius: "192.0.2.2" }));
  t.end();
});

void t.test("reading the file", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "lnsd-secrets-"));
  const path = join(dir, "chap-secrets");
  writeFileSync(path, "alice * pw\nbroken\n");
  t.same(errors(await readChapSecretsFile(path)), [`${path}:2: expected 'client server secret [address]', found 1 word`]);
  writeFileSync(path, "alice * pw\n");
  const r = await readChapSecretsFile(path);
  t.ok(r.ok);
  t.same(errors(await readChapSecretsFile(join(dir, "missing"))), [`${join(dir, "missing")}: cannot read: no such file`]);
  t.same(errors(await readChapSecretsFile(dir)), [`${dir}: cannot read: is a directory`]);
});
