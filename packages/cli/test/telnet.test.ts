// The CLI as an operator meets it: Debian's telnet client, driven by expect, against a CliServer
// with a test backend on loopback; and a slow reader of 100,000 sessions that must not hold up a
// second user.
import t from "tap";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CliServer } from "../src/index.js";
import { fakeBackend } from "./fake-backend.js";

const ADDR = "127.0.33.1";
/** A client address that is not 127.0.0.1: such clients must log in. */
const REMOTE = "127.0.33.2";

type Step = readonly [send: string, expect: string];

/** Runs telnet under expect; each step sends text then waits for a glob (exact text: -ex). */
async function telnet(port: number, steps: readonly Step[], bindAddress?: string): Promise<{ code: number | null; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), "lnsd-cli-"));
  // A Tcl string: specials escaped, control characters as octal escapes.
  const tcl = (s: string): string =>
    `"${Array.from(s, (c) => (/[\\"$[\]]/.test(c) ? `\\${c}` : c.charCodeAt(0) < 0x20 ? `\\${c.charCodeAt(0).toString(8).padStart(3, "0")}` : c)).join("")}"`;
  const lines = [
    "set timeout 5",
    `spawn telnet ${bindAddress === undefined ? "" : `-b ${bindAddress} `}${ADDR} ${port}`,
    ...steps.flatMap(([send, want], i) => [
      ...(send === "" ? [] : [`send -- ${tcl(send)}`]),
      // One line, no braces around the whole list: a braced one-line list would be one pattern.
      `expect -ex ${tcl(want)} {} timeout { puts "\\nSTEP ${i} TIMED OUT waiting for ${want.replace(/[^ -~]/g, "?").replace(/[\\"$[\]{}]/g, "")}"; exit 1 } eof { puts "\\nSTEP ${i}: EOF"; exit 2 }`,
    ]),
    "exit 0",
  ];
  const script = join(dir, "cli.exp");
  writeFileSync(script, `${lines.join("\n")}\n`);
  const proc = spawn("/usr/bin/expect", ["-f", script], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", TERM: "vt100" } });
  let output = "";
  proc.stdout.on("data", (d: Buffer) => (output += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((r) => proc.on("exit", (c) => { r(c); }));
  return { code, output: output.replace(/\r/g, "") };
}

void t.test("a real telnet client: ?, help, abbreviations, filters, history, Tab, modes, errors", async (t) => {
  const server = await CliServer.listen({ backend: fakeBackend({ sessions: 5, users: "admin:secret\nenable:enpw\n" }), address: ADDR, port: 0 });
  t.teardown(() => server.close());
  const r = await telnet(server.local.port, [
    ["", "lns> "],
    ["?", "  no                   \r\n\r\nlns> "],
    ["sh ses\r", "dslloadtest5@optusnet.com.au     10.78.0.5       N N N N"],
    ["", "lns> "],
    ["show session | include test3\r", "dslloadtest3"],
    ["", "lns> "],
    ["show session | count\r", "6\r\n"],
    ["show tunnels ?", "  <1-499>              Show specific tunnel by id\r\n  <cr>\r\n\r\nlns> show tunnels "],
    ["\x15sho\t", "show "],
    ["ver\t", "version "],
    ["\r", "lnsd 0.1.0"],
    ["bogus\r", 'Invalid command "bogus"'],
    ["show\r", "Incomplete command"],
    // Up arrow twice: back to "show version" past "bogus"... three entries back.
    ["\x1b[A\x1b[A\x1b[A\r", "lnsd 0.1.0"],
    ["enable\r", "Password: "],
    ["enpw\r", "lns# "],
    ["configure terminal\r", "lns(config)# "],
    ["set ?", "  cli_bind_address"],
    ["\x15exit\r", "lns# "],
    ["disable\r", "lns> "],
    ["quit\r", "Connection closed"],
  ]);
  t.equal(r.code, 0, "the whole dialogue ran", { output: r.output.slice(-800) });
  t.match(r.output, /sh ses\n {2}SID LkToSID {2}TID Username/);
});

void t.test("a client that is not 127.0.0.1 logs in; a wrong password is refused", async (t) => {
  const server = await CliServer.listen({ backend: fakeBackend({ sessions: 5, users: "admin:$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1\nenable:{crypt}ab6.Zd8V1s4sY\n" }), address: ADDR, port: 0 });
  t.teardown(() => server.close());
  const r = await telnet(server.local.port, [
    ["", "Username: "],
    ["admin\r", "Password: "],
    ["wrong\r", "Access denied"],
    ["", "Username: "],
    ["admin\r", "Password: "],
    ["secret\r", "lns> "],
    ["enable\r", "Password: "],
    ["nope\r", "Access denied\r\n\r\nlns> "],
    ["enable\r", "Password: "],
    ["enpw\r", "lns# "],
    ["exit\r", "Connection closed"],
  ], REMOTE);
  t.equal(r.code, 0, "the whole dialogue ran", { output: r.output.slice(-800) });
  t.notMatch(r.output, /secret|enpw/, "passwords are not echoed");
});

void t.test("no users file: a remote client is turned away", async (t) => {
  const server = await CliServer.listen({ backend: fakeBackend({ sessions: 0 }), address: ADDR, port: 0 });
  t.teardown(() => server.close());
  const r = await telnet(server.local.port, [["", "No users are configured"]], REMOTE);
  t.equal(r.code, 0, "the dialogue ran", { output: r.output });
});

void t.test("a slow reader of 100,000 sessions holds up neither the event loop nor another user", async (t) => {
  const server = await CliServer.listen({ backend: fakeBackend({ sessions: 100_000 }), address: ADDR, port: 0 });
  t.teardown(() => server.close());
  // The slow one: asks for every session, then reads 4 KiB every 20 ms.
  const slow = connect({ host: ADDR, port: server.local.port });
  let slowBytes = 0;
  slow.on("data", (d: Buffer) => {
    slowBytes += d.length;
    slow.pause();
    setTimeout(() => slow.resume(), 20);
  });
  await new Promise((r) => slow.once("connect", r));
  slow.setNoDelay(true);
  slow.write("show session\r\n");
  // The event loop's worst delay while the slow client is being served.
  let worstLagMs = 0;
  let last = performance.now();
  const lag = setInterval(() => {
    const now = performance.now();
    worstLagMs = Math.max(worstLagMs, now - last - 10);
    last = now;
  }, 10);
  await new Promise((r) => setTimeout(r, 300));
  const started = performance.now();
  const r = await telnet(server.local.port, [["", "lns> "], ["show version\r", "lnsd 0.1.0"], ["quit\r", "Connection closed"]]);
  const tookMs = performance.now() - started;
  clearInterval(lag);
  t.equal(r.code, 0, "the dialogue ran", { output: r.output });
  t.ok(tookMs < 3000, `the other user's command answered in ${Math.round(tookMs)} ms`);
  t.ok(worstLagMs < 200, `event loop lag at most ${Math.round(worstLagMs)} ms`);
  t.ok(slowBytes > 0 && slowBytes < 100_000 * 150, `the slow reader is still reading (${slowBytes} bytes so far)`);
  for (let i = 0; i < 100 && server.clientCount > 1; i++) await new Promise((r) => setTimeout(r, 20));
  t.equal(server.clientCount, 1, "only the slow client is left");
  slow.destroy();
});
