// The CLI against clients that mean harm (issue 11), on loopback addresses: the telnet bytes that
// once ended the process, option storms, unterminated subnegotiations, a 1 MB line, a client that
// never reads, connection floods from one address and from loopback, login and idle timeouts, and
// a backend that throws. After each: the server still answers, the event loop was never held up.
import t from "tap";
import { connect, type Socket } from "node:net";
import type { CliBackend } from "../src/index.js";
import { CliServer } from "../src/index.js";
import { fakeBackend } from "./fake-backend.js";

const ADDR = "127.0.34.1";
/** Not 127.0.0.1: a remote client, which must log in. */
const REMOTE = "127.0.34.2";
const USERS = "admin:secret\n";

interface Conn {
  readonly socket: Socket;
  /** Everything received so far, IAC sequences included, as latin1. */
  text(): string;
  waitFor(pattern: RegExp | string, timeoutMs?: number): Promise<void>;
  closed: Promise<void>;
}

function open(port: number, localAddress?: string): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: ADDR, port, ...(localAddress === undefined ? {} : { localAddress }) });
    let got = "";
    const waiters = new Set<() => void>();
    socket.on("data", (d: Buffer) => {
      got += d.toString("latin1");
      for (const w of waiters) w();
    });
    socket.on("error", () => undefined);
    const closed = new Promise<void>((r) => socket.once("close", () => { r(); for (const w of waiters) w(); }));
    socket.once("connect", () => {
      socket.setNoDelay(true);
      resolve({
        socket,
        text: () => got,
        closed,
        waitFor: (pattern, timeoutMs = 3000) =>
          new Promise<void>((ok, fail) => {
            const test = (): boolean => (typeof pattern === "string" ? got.includes(pattern) : pattern.test(got));
            if (test()) {
              ok();
              return;
            }
            const timer = setTimeout(() => { waiters.delete(check); fail(new Error(`timed out waiting for ${String(pattern)}; got ${JSON.stringify(got.slice(-300))}`)); }, timeoutMs);
            const check = (): void => {
              if (!test()) return;
              clearTimeout(timer);
              waiters.delete(check);
              ok();
            };
            waiters.add(check);
          }),
      });
    });
    socket.once("error", reject);
  });
}

/** The worst event-loop delay while `f` runs, sampled every 10 ms. */
async function worstLag<T>(f: () => Promise<T>): Promise<{ value: T; lagMs: number }> {
  let worst = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 10);
    last = now;
  }, 10);
  try {
    const value = await f();
    return { value, lagMs: worst };
  } finally {
    clearInterval(timer);
  }
}

/** `show version` from 127.0.0.1 (no login): the CLI still serves the operator. */
async function showVersion(port: number): Promise<string> {
  const c = await open(port, "127.0.0.1");
  try {
    await c.waitFor("lns> ");
    c.socket.write("show version\r\n");
    await c.waitFor("lnsd 0.1.0");
    return c.text();
  } finally {
    c.socket.destroy();
  }
}

async function listen(t: { teardown(f: () => unknown): void }, extra: Partial<Parameters<typeof CliServer.listen>[0]> = {}, backend: CliBackend = fakeBackend({ sessions: 3, users: USERS })): Promise<{ server: CliServer; logs: string[] }> {
  const logs: string[] = [];
  const server = await CliServer.listen({ backend, address: "0.0.0.0", port: 0, log: (_l, m) => { logs.push(m); }, ...extra });
  t.teardown(() => server.close());
  return { server, logs };
}

void t.test("IAC IP then IAC WILL ECHO at the Username: prompt (the bytes that ended lnsd) ends only that connection", async (t) => {
  const { server } = await listen(t);
  const port = server.local.port;
  const c = await open(port, REMOTE);
  await c.waitFor("Username: ");
  c.socket.write(Buffer.from([0xff, 0xf4, 0xff, 0xfb, 0x01]));
  await c.closed;
  t.pass("the connection was closed");
  // The same with the two in separate reads, and with a storm of options after the IP.
  const d = await open(port, REMOTE);
  await d.waitFor("Username: ");
  d.socket.write(Buffer.from([0xff, 0xf4]));
  await new Promise((r) => setTimeout(r, 20));
  const storm: number[] = [];
  for (let i = 0; i < 2000; i++) storm.push(0xff, 0xfb + (i % 4), i % 256);
  d.socket.write(Buffer.from(storm));
  await d.closed;
  t.match(await showVersion(port), /lnsd 0\.1\.0/, "the CLI still answers");
});

void t.test("option storms and binary garbage: no crash, every connection bounded", async (t) => {
  const { server } = await listen(t);
  const port = server.local.port;
  let seed = 0x1234567;
  const rand = (): number => {
    seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
    return (seed >>> 0) & 0xff;
  };
  const conns = await Promise.all(Array.from({ length: 4 }, () => open(port, REMOTE)));
  for (const c of conns) {
    const bytes = Buffer.alloc(200_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = i % 7 === 0 ? 0xff : rand();
    c.socket.write(bytes);
  }
  await new Promise((r) => setTimeout(r, 300));
  for (const c of conns) c.socket.destroy();
  t.match(await showVersion(port), /lnsd 0\.1\.0/, "the CLI still answers");
});

void t.test("an unterminated subnegotiation is capped and counted", async (t) => {
  const { server } = await listen(t);
  const c = await open(server.local.port, REMOTE);
  await c.waitFor("Username: ");
  const sb = Buffer.concat([Buffer.from([0xff, 0xfa, 31]), Buffer.alloc(100_000, 0x41)]);
  c.socket.write(sb);
  for (let i = 0; i < 100 && server.counters.telnetErrors === 0; i++) await new Promise((r) => setTimeout(r, 10));
  t.ok(server.counters.telnetErrors >= 1, `the overflow is counted (${server.counters.telnetErrors})`);
  // IAC SE ends it; the prompt works again.
  c.socket.write(Buffer.from([0xff, 0xf0]));
  c.socket.write("admin\r\n");
  await c.waitFor("Password: ");
  c.socket.destroy();
});

void t.test("a 1 MB line is discarded with a message and holds up nothing", async (t) => {
  const { server } = await listen(t);
  const port = server.local.port;
  for (const who of ["remote, at the Username: prompt", "loopback, at the command prompt"] as const) {
    const c = await open(port, who.startsWith("remote") ? REMOTE : "127.0.0.1");
    await c.waitFor(who.startsWith("remote") ? "Username: " : "lns> ");
    const before = process.memoryUsage().rss;
    const { lagMs } = await worstLag(async () => {
      c.socket.write(`${"x".repeat(1 << 20)}\r\n`);
      await c.waitFor("Line too long", 10_000);
    });
    t.ok(lagMs < 200, `${who}: event loop delayed at most ${Math.round(lagMs)} ms`);
    t.ok(c.text().length < 64 * 1024, `${who}: the echo stops at the limit (${c.text().length} bytes sent back)`);
    const grewMb = (process.memoryUsage().rss - before) / 2 ** 20;
    t.ok(grewMb < 64, `${who}: memory grew ${grewMb.toFixed(1)} MB`);
    // The session goes on: the next line is read afresh.
    if (who.startsWith("remote")) {
      c.socket.write("admin\r\n");
      await c.waitFor("Password: ");
    } else {
      c.socket.write("show version\r\n");
      await c.waitFor("lnsd 0.1.0");
    }
    c.socket.destroy();
  }
});

void t.test("a client that sends but never reads cannot make us buffer without bound", async (t) => {
  const { server } = await listen(t, { maxPendingOutput: 64 * 1024 });
  const c = await open(server.local.port, "127.0.0.1");
  await c.waitFor("lns> ");
  c.socket.pause();
  const before = process.memoryUsage().rss;
  // Each line is a command whose answer is longer than the line.
  const line = "show version\r\n";
  for (let i = 0; i < 20_000; i++) c.socket.write(line);
  await new Promise((r) => setTimeout(r, 1500));
  const grewMb = (process.memoryUsage().rss - before) / 2 ** 20;
  t.ok(grewMb < 64, `memory grew ${grewMb.toFixed(1)} MB`);
  t.match(await showVersion(server.local.port), /lnsd 0\.1\.0/, "the CLI still answers others");
  c.socket.destroy();
});

void t.test("connection floods: per-address limit, total limit, and loopback always gets in", async (t) => {
  const { server } = await listen(t, { maxClients: 8, maxClientsPerSource: 4, loopbackSlots: 8 });
  const port = server.local.port;
  const mine: Conn[] = [];
  t.teardown(() => { for (const c of mine) c.socket.destroy(); });
  // One remote address: 4 get a prompt, the 5th is told why and closed.
  for (let i = 0; i < 4; i++) mine.push(await open(port, REMOTE));
  for (const c of mine) await c.waitFor("Username: ");
  const fifth = await open(port, REMOTE);
  await fifth.closed;
  t.match(fifth.text(), /Too many CLI connections from your address/);
  // 200 from other remote addresses: the total stays at the limit, and loopback still gets in.
  const flood = await Promise.all(Array.from({ length: 200 }, (_, i) => open(port, `127.0.35.${String(1 + (i % 50))}`)));
  mine.push(...flood);
  t.ok(server.clientCount <= 8, `at most the limit connected (${server.clientCount})`);
  t.match(await showVersion(port), /lnsd 0\.1\.0/, "loopback gets in during a remote flood");
  // An operator's session from loopback, in use, then 200 silent loopback connections: a new one
  // still gets in (the silent ones make room), and the operator's session is not the one closed.
  const operator = await open(port, "127.0.0.1");
  mine.push(operator);
  await operator.waitFor("lns> ");
  operator.socket.write("show version\r\n");
  await operator.waitFor("lnsd 0.1.0");
  const local = await Promise.all(Array.from({ length: 200 }, () => open(port, "127.0.0.1")));
  mine.push(...local);
  t.match(await showVersion(port), /lnsd 0\.1\.0/, "loopback gets in past 200 idle loopback connections");
  t.notOk(operator.socket.destroyed || operator.text().includes("Closed to make room"), `the operator's session in use was not closed to make room (it saw ${JSON.stringify(operator.text().slice(-120))}; destroyed ${String(operator.socket.destroyed)})`);
  t.ok(server.counters.evicted > 0, `idle connections made room (${server.counters.evicted})`);
});

void t.test("login and idle timeouts close the connection", async (t) => {
  const { server } = await listen(t, { loginTimeoutMs: 200, idleTimeoutMs: 400 });
  const a = await open(server.local.port, REMOTE);
  await a.waitFor("Username: ");
  await a.closed;
  t.match(a.text(), /Login timed out/);
  t.equal(server.counters.loginTimeouts, 1);
  const b = await open(server.local.port, "127.0.0.1");
  await b.waitFor("lns> ");
  await b.closed;
  t.match(b.text(), /Idle timeout/);
  t.equal(server.counters.idleTimeouts, 1);
});

void t.test("a throw while handling one connection ends that connection, not the server", async (t) => {
  const base = fakeBackend({ sessions: 3, users: USERS });
  let explode = false;
  const backend: CliBackend = Object.assign(Object.create(base) as CliBackend, {
    hostname: () => {
      if (explode) throw new Error("injected");
      return base.hostname();
    },
    users: () => {
      if (explode) throw new Error("injected at accept");
      return base.users();
    },
  });
  const { server, logs } = await listen(t, {}, backend);
  const port = server.local.port;
  const c = await open(port, "127.0.0.1");
  await c.waitFor("lns> ");
  explode = true;
  c.socket.write("\r\n");
  await c.closed;
  t.equal(server.counters.errors, 1, "counted");
  t.match(logs.join("\n"), /injected/, "logged");
  // An error while accepting: that connection only.
  const d = await open(port, "127.0.0.1");
  await d.closed;
  t.equal(server.counters.errors, 2);
  explode = false;
  t.match(await showVersion(port), /lnsd 0\.1\.0/, "the next connection is served");
});
