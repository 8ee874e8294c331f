// The control server with a fake backend, driven by Debian's /usr/sbin/nsctl (l2tpns 2.4.1), by
// lnsd's own nsctl, and by garbage.
import t from "tap";
import { execFile } from "node:child_process";
import { createSocket } from "node:dgram";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  ControlServer,
  NSCTL_REQ_CONTROL,
  NSCTL_RES_ERR,
  NSCTL_RES_OK,
  decodeNsctl,
  err,
  nsctlRequest,
  ok,
  type ControlBackend,
  type ControlServerEvent,
} from "../src/index.js";

const DEBIAN_NSCTL = "/usr/sbin/nsctl";
const ourNsctl = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "bin", "nsctl.js");

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(file: string, args: readonly string[]): Promise<Run> {
  const [cmd, argv] = file.endsWith(".js") ? [process.execPath, [file, ...args]] : [file, [...args]];
  return new Promise((resolve) => {
    execFile(cmd, argv, { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, timeout: 10_000 }, (e, stdout, stderr) => {
      resolve({ code: e === null ? 0 : typeof e.code === "number" ? e.code : -1, stdout, stderr });
    });
  });
}

const loaded = new Set<string>();
const backend: ControlBackend = {
  loadPlugin: (name) => {
    if (loaded.has(name)) return err("plugin already loaded");
    loaded.add(name);
    return ok();
  },
  unloadPlugin: (name) => (loaded.delete(name) ? ok() : err("plugin not loaded")),
  help: () => (loaded.has("throttlectl") ? ["throttle USER|SID [RATE|[in|out] RATE ...]  Throttle user traffic"] : []),
  control: (args) => {
    if (args[0] === "echo") return ok(...args.slice(1));
    if (args[0] === "explode") throw new Error("plugin blew up");
    if (args[0] === "slow") return new Promise((r) => setTimeout(() => { r(ok("late but here")); }, 200));
    return err("unhandled action");
  },
};

const ADDR = "127.0.34.1";

void t.test("Debian's nsctl and lnsd's nsctl against the server", async (t) => {
  const events: ControlServerEvent[] = [];
  const server = await ControlServer.create({ bindAddress: ADDR, port: 1702, backend, onEvent: (e) => events.push(e) });
  t.teardown(() => { server.close(); });
  const clients = [...(existsSync(DEBIAN_NSCTL) ? [{ name: "debian", file: DEBIAN_NSCTL }] : []), { name: "lnsd", file: ourNsctl }];
  t.ok(clients.length === 2 || process.env.CI === undefined, "Debian's nsctl is installed (package l2tpns)");
  for (const c of clients) {
    loaded.clear();
    const h = ["-h", ADDR];
    let r = await run(c.file, [...h, "help"]);
    t.equal(r.code, 0, `${c.name}: help exits 0`);
    t.match(r.stdout, /load_plugin.*\n.*unload_plugin.*\n.*help/, `${c.name}: help lists the built-ins`);
    r = await run(c.file, [...h, "load_plugin", "throttlectl"]);
    t.same([r.code, r.stdout, r.stderr], [0, "", ""], `${c.name}: load_plugin ok, silent`);
    r = await run(c.file, [...h, "load_plugin", "throttlectl"]);
    t.same([r.code, r.stderr], [1, "plugin already loaded\n"], `${c.name}: load_plugin error on stderr, exit 1`);
    r = await run(c.file, [...h, "help"]);
    t.match(r.stdout, /throttle USER\|SID/, `${c.name}: help adds the backend's commands`);
    r = await run(c.file, [...h, "load_plugin"]);
    t.same([r.code, r.stderr], [1, "name of plugin required\n"], `${c.name}: load_plugin without a name`);
    r = await run(c.file, [...h, "unload_plugin", "throttlectl"]);
    t.equal(r.code, 0, `${c.name}: unload_plugin`);
    r = await run(c.file, [...h, "unload_plugin", "throttlectl"]);
    t.same([r.code, r.stderr], [1, "plugin not loaded\n"], `${c.name}: unload_plugin of what is not loaded`);
    r = await run(c.file, [...h, "echo", "one", "two words"]);
    t.same([r.code, r.stdout], [0, "one\ntwo words\n"], `${c.name}: a control command with arguments`);
    r = await run(c.file, [...h, "no_such_command"]);
    t.same([r.code, r.stderr], [1, "unhandled action\n"], `${c.name}: unknown command`);
    r = await run(c.file, [...h, "explode"]);
    t.same([r.code, r.stderr], [1, "error returned by plugin\n"], `${c.name}: a backend that throws`);
    r = await run(c.file, [...h, "slow"]);
    t.same([r.code, r.stdout], [0, "late but here\n"], `${c.name}: an answer that takes a while`);
  }
  t.ok(events.some((e) => e.kind === "backend-error" && e.detail === "plugin blew up"));
  t.ok(events.some((e) => e.kind === "request" && e.request.type === NSCTL_REQ_CONTROL && e.request.args[0] === "no_such_command"));
  // Nothing listening: an error message and exit 1, within the timeout.
  const nobody = await run(ourNsctl, ["-h", "127.0.34.2:1799", "-t", "1", "help"]);
  t.equal(nobody.code, 1);
  t.match(nobody.stderr, /nsctl: connection refused: nothing listens on 127\.0\.34\.2:1799/);
});

void t.test("garbage: counted, reported, never a crash; only datagrams with the magic get an answer", async (t) => {
  const events: ControlServerEvent[] = [];
  // The per-source rate has its own test: here every datagram is parsed.
  const server = await ControlServer.create({ bindAddress: ADDR, port: 0, backend, onEvent: (e) => events.push(e), ratePerSource: 100_000 });
  t.teardown(() => { server.close(); });
  const sock = createSocket("udp4");
  await new Promise<void>((r) => sock.bind(0, "127.0.0.1", r));
  t.teardown(() => { sock.close(); });
  const answers: Buffer[] = [];
  sock.on("message", (m) => answers.push(m));
  const send = (hex: string): Promise<void> => new Promise((r) => { sock.send(Buffer.from(hex, "hex"), server.local.port, ADDR, () => { r(); }); });
  await send(""); // empty
  await send("00"); // short, no magic
  await send("deadbeefff"); // bad magic
  await send("9013"); // magic, short
  await send("90131500ff"); // magic, bad type
  await send("90132100ff"); // a response sent to the server
  await send("90131300ff00"); // trailing byte
  for (let i = 0; i < 200; i++) await send(Buffer.from(Array.from({ length: i % 50 }, (_, j) => (i * 31 + j * 7) & 0xff)).toString("hex"));
  await send("90131300ff"); // still answers a good one
  await new Promise((r) => setTimeout(r, 200));
  const d = server.counters.dropped;
  t.equal(d.magic > 0 && d.short > 0 && d.type === 1 && d.long === 1 && d["not-a-request"] === 1, true, JSON.stringify(d));
  const decoded = answers.map((a) => decodeNsctl(a));
  t.ok(decoded.every((x) => x.ok), "every answer is a valid datagram");
  const errors = decoded.filter((x) => x.ok && x.value.type === NSCTL_RES_ERR);
  t.equal(errors.length, 3, "the unpack error goes to the 3 bad datagrams that carried the magic");
  t.ok(errors.every((x) => x.ok && x.value.args[0] === "error unpacking control packet"));
  t.ok(decoded.some((x) => x.ok && x.value.type === NSCTL_RES_OK), "the good request after the garbage is answered");
  t.ok(events.filter((e) => e.kind === "drop").length >= 206);
  const viaClient = await nsctlRequest({ type: NSCTL_REQ_CONTROL, args: ["echo", "still", "alive"] }, { host: ADDR, port: server.local.port, timeoutMs: 2000 });
  t.same(viaClient, { ok: true, response: { type: NSCTL_RES_OK, args: ["still", "alive"] } });
});

void t.test("one address over its rate is dropped and counted; another address is still answered", async (t) => {
  const server = await ControlServer.create({ bindAddress: ADDR, port: 0, backend, ratePerSource: 20 });
  t.teardown(() => { server.close(); });
  const flood = createSocket("udp4");
  await new Promise<void>((r) => flood.bind(0, "127.0.0.1", r));
  t.teardown(() => { flood.close(); });
  let answered = 0;
  flood.on("message", () => { answered++; });
  for (let i = 0; i < 500; i++) await new Promise<void>((r) => { flood.send(Buffer.from("90131300ff", "hex"), server.local.port, ADDR, () => { r(); }); });
  await new Promise((r) => setTimeout(r, 200));
  t.ok(server.counters.dropped.rate >= 100, `the flood is cut to its rate (${server.counters.dropped.rate} dropped)`);
  t.ok(answered >= 20 && answered <= 100, `the burst and the rate are answered (${answered})`);
  const other = createSocket("udp4");
  await new Promise<void>((r) => other.bind(0, "127.0.0.2", r));
  t.teardown(() => { other.close(); });
  const reply = new Promise<Buffer>((r) => other.once("message", r));
  other.send(Buffer.from("90131300ff", "hex"), server.local.port, ADDR);
  const d = decodeNsctl(await reply);
  t.ok(d.ok && d.value.type === NSCTL_RES_OK, "another address is served meanwhile");
});
