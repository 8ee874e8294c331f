// The `lac` command: its argument parser, the report's text, and one run of the built entry point
// against an LNS on 127.0.0.1.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import t from "tap";
import { countResults, formatReport, parseHostPort, parseLacArgs, timeStats, type LacReport } from "../src/index.js";
import { startLns } from "./lib/lns.js";

void t.test("parseHostPort", (t) => {
  t.same(parseHostPort("192.0.2.1"), { host: "192.0.2.1", port: 1701 });
  t.same(parseHostPort("192.0.2.1:1702"), { host: "192.0.2.1", port: 1702 });
  t.same(parseHostPort("[2001:db8::1]:1703"), { host: "2001:db8::1", port: 1703 });
  t.same(parseHostPort("[2001:db8::1]"), { host: "2001:db8::1", port: 1701 });
  t.same(parseHostPort("2001:db8::1"), { host: "2001:db8::1", port: 1701 });
  t.same(parseHostPort("lns.example:1701"), { host: "lns.example", port: 1701 });
  for (const bad of ["", ":1701", "192.0.2.1:", "192.0.2.1:0", "192.0.2.1:70000", "192.0.2.1:x", "[::1", "[::1]x"]) t.equal(parseHostPort(bad), undefined, bad);
  t.end();
});

void t.test("parseLacArgs", (t) => {
  const p = parseLacArgs(["--lns", "127.0.0.1:1702", "--tunnels", "3", "--sessions=4", "--secret", "s", "--loss", "0.1", "--dup=0.05", "--reorder", "0.1", "--delay", "2", "--jitter", "3", "--seed", "9", "--hold", "forever", "--json", "-v", "--max-in-setup", "7", "--bind", "127.0.0.1", "--timeout", "5"]);
  t.same(p, {
    ok: true,
    command: {
      lns: { host: "127.0.0.1", port: 1702 },
      tunnels: 3,
      sessions: 4,
      timeoutMs: 5000,
      holdMs: "forever",
      json: true,
      verbose: true,
      secret: "s",
      bindAddress: "127.0.0.1",
      maxCallsInSetup: 7,
      impairment: { loss: 0.1, duplication: 0.05, reorder: 0.1, delayMs: 2, jitterMs: 3 },
      seed: 9,
    },
  });
  t.same(parseLacArgs(["--lns", "127.0.0.1", "--tunnels", "1", "--sessions", "0"]), { ok: true, command: { lns: { host: "127.0.0.1", port: 1701 }, tunnels: 1, sessions: 0, timeoutMs: 60_000, holdMs: 0, json: false, verbose: false } });
  t.same(parseLacArgs(["--help"]), { ok: "help" });
  const errors: [string[], RegExp][] = [
    [[], /--lns is required/],
    [["--lns", "x:y"], /expected ADDR\[:PORT\]/],
    [["--lns", "127.0.0.1"], /--tunnels is required; --sessions is required/],
    [["--lns", "127.0.0.1", "--tunnels", "0", "--sessions", "1"], /--tunnels 0: expected an integer from 1/],
    [["--lns", "127.0.0.1", "--tunnels", "1", "--sessions", "1", "--loss", "2"], /--loss 2: expected a number from 0 to 1/],
    [["--lns", "127.0.0.1", "--tunnels", "1", "--sessions", "1", "--hold", "soon"], /--hold soon/],
    [["--lns"], /--lns needs a value/],
    [["--frobnicate", "1"], /unknown option --frobnicate/],
    [["stray"], /unexpected argument 'stray'/],
  ];
  for (const [argv, re] of errors) {
    const r = parseLacArgs(argv);
    t.match(r.ok === false ? r.message : "", re, argv.join(" "));
  }
  t.end();
});

void t.test("report: time statistics, result grouping, text", (t) => {
  t.same(timeStats([]), { count: 0, minMs: 0, medianMs: 0, p95Ms: 0, maxMs: 0 });
  t.same(timeStats([5, 1, 3, 2, 4]), { count: 5, minMs: 1, medianMs: 3, p95Ms: 5, maxMs: 5 });
  t.same(countResults([{ by: "peer", resultCode: 2, errorCode: 7 }, { by: "local", resultCode: 10 }, { by: "peer", resultCode: 2, errorCode: 7, message: "m" }]), [
    { by: "peer", resultCode: 2, errorCode: 7, count: 2 },
    { by: "local", resultCode: 10, count: 1 },
  ]);
  const zero = { sent: 0, retransmitted: 0, received: 0, duplicates: 0, outOfOrderHeld: 0, outOfWindow: 0, zlbSent: 0, badNr: 0 };
  const r: LacReport = {
    elapsedMs: 1234.4,
    tunnels: { requested: 2, up: 1, failed: 1, established: 1, failures: [{ by: "local", resultCode: 4, count: 1, message: "wrong secret" }], setup: timeStats([3]) },
    sessions: { requested: 4, placed: 2, up: 2, refused: 0, failed: 0, established: 2, down: 0, refusals: [], failures: [], setup: timeStats([1, 2]) },
    reliable: zero,
    drops: { "control-wrong-peer": 2 },
  };
  const text = formatReport(r);
  t.match(text, /^tunnels: 1\/2 up, 1 failed, 1 established now$/m);
  t.match(text, /tunnel failure: 1 x result 4 \(requester not authorized to establish a control channel\) here: "wrong secret"/);
  t.match(text, /^sessions: 2\/4 up, 0 refused, 0 failed, 2 never placed, 2 established now, 0 down$/m);
  t.match(text, /^session setup: min 1 ms, median 2 ms, p95 2 ms, max 2 ms$/m);
  t.match(text, /^drops: control-wrong-peer=2$/m);
  t.match(text, /^elapsed: 1234 ms$/m);
  t.end();
});

const LAC_BIN = fileURLToPath(new URL("../src/bin/lac.js", import.meta.url));

function runLac(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [LAC_BIN, ...args], { encoding: "utf8", timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

void t.test("the lac command runs the simulator against an LNS and prints the report", async (t) => {
  const lns = await startLns();
  t.teardown(() => { lns.close(); });
  const text = await runLac(["--lns", `127.0.0.1:${lns.address.port}`, "--tunnels", "2", "--sessions", "5", "--bind", "127.0.0.1"]);
  t.equal(text.code, 0, text.stderr);
  t.match(text.stdout, /^tunnels: 2\/2 up, 0 failed/m);
  t.match(text.stdout, /^sessions: 10\/10 up, 0 refused, 0 failed, 0 never placed, 0 established now, 10 down$/m);
  t.match(text.stderr, /all up: 10\/10 calls, 2\/2 tunnels/);
  t.equal(lns.up.length, 10, "the LNS saw the ten calls");
  t.equal(lns.node.sessionCount, 0, "and their CDNs");

  const json = await runLac(["--lns", `127.0.0.1:${lns.address.port}`, "--tunnels", "1", "--sessions", "3", "--dup", "0.3", "--reorder", "0.3", "--delay", "1", "--jitter", "2", "--seed", "1", "--json"]);
  t.equal(json.code, 0, json.stderr);
  const parsed: unknown = JSON.parse(json.stdout);
  t.match(parsed, { tunnels: { up: 1 }, sessions: { up: 3 }, impairment: { txDuplicated: Number, rxReordered: Number } });

  const usage = await runLac(["--tunnels", "1"]);
  t.equal(usage.code, 2);
  t.match(usage.stderr, /--lns is required\nusage: lac/);
  const refused = await runLac(["--lns", `127.0.0.1:${lns.address.port}`, "--tunnels", "1", "--sessions", "1", "--secret", "x", "--timeout", "5"]);
  t.equal(refused.code, 1, "exit 1 when not everything came up");
  t.match(refused.stdout, /tunnel failure: 1 x result 4/);
});
