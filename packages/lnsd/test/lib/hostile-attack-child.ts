// The hostile host of the hostile-input test: run in a namespace (another host, or lnsd's own for
// its loopback), it throws what it is told at lnsd's CLI (TCP) and UDP ports. Each command line is
// "WHAT TAG ARGS..." and runs at once, beside the others; its result comes back as {TAG: {...}}.
// Every random choice comes from the seed given, so a failure can be replayed. Argument: the local
// addresses to open TCP connections from, in turn, comma-separated (none: the kernel's choice).
//   storm TAG HOST SEED CONNS ITEMS       random telnet option sequences (IAC ...)
//   crash TAG HOST CONNS                  ff f4 ff fb 01 at the first prompt (Username: or the CLI's)
//   sb TAG HOST SEED CONNS KB             IAC SB and KB KiB of option data, never IAC SE
//   longline TAG HOST CONNS KB            one line of KB KiB at the first prompt, then CR LF
//   garbage TAG HOST SEED CONNS KB        random bytes
//   slow TAG HOST CONNS SECONDS MS        one byte every MS milliseconds for SECONDS
//   idle TAG HOST N / closeidle TAG       N connections that say nothing, held until closeidle
//                                         (which answers as {TAG-closed: ...})
//   probe TAG HOST TIMEOUT_MS             `show version`: {ok, ms, text}
//   udp TAG HOST PORT KIND SEED N [ARGS]  N datagrams of KIND (random, nsctl, dae, l2tp-header,
//                                         l2tp-avp, sccrq, l2tp-real TID SID); dae takes USER IP
import { createSocket } from "node:dgram";
import { connect, type Socket } from "node:net";
import { createInterface } from "node:readline";
import { seededRandom } from "@lnsd/testkit";
import { emit } from "./child-io.js";

const CLI_PORT = 23;
/** Local addresses to connect from, in turn (argument 1, comma-separated); none: the kernel's choice. */
const SOURCES = (process.argv[2] ?? "").split(",").filter((a) => a !== "");
let nextSource = 0;
const IAC = 255;
const SB = 250;
const SE = 240;
/** libcli's prompts (`host>`, `host#`, `host(config)#`) and the login's. */
const PROMPT = /(\n[\w.-]+(\([\w-]+\))?[>#] |Username: )$/;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Rnd = () => number;
const intBelow = (rnd: Rnd, max: number): number => Math.floor(rnd() * max);
const randomBytes = (rnd: Rnd, len: number, exclude?: number): Buffer => {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) {
    let v = intBelow(rnd, 256);
    if (v === exclude) v = 0x41;
    b[i] = v;
  }
  return b;
};

/** One TCP connection to the CLI, with what it said as text (telnet commands taken out). */
class Conn {
  readonly socket: Socket;
  text = "";
  /** Characters received in all (the text is trimmed). */
  received = 0;
  connected = false;
  closed = false;
  closedByServer = false;
  error = "";
  private state = 0;
  private wakers = new Set<() => void>();
  readonly opened: Promise<boolean>;
  readonly ended: Promise<void>;

  constructor(host: string) {
    // From the host's addresses in turn (a remote attacker with many addresses), unless to loopback.
    const from = host.startsWith("127.") ? undefined : SOURCES[nextSource++ % SOURCES.length];
    this.socket = connect({ host, port: CLI_PORT, ...(from === undefined ? {} : { localAddress: from }) });
    this.opened = new Promise((resolve) => {
      this.socket.once("connect", () => {
        this.connected = true;
        resolve(true);
      });
      this.socket.once("close", () => { resolve(false); });
    });
    this.ended = new Promise((resolve) => {
      this.socket.once("close", () => {
        this.closed = true;
        this.wake();
        resolve();
      });
    });
    this.socket.on("end", () => {
      this.closedByServer = true;
      this.socket.end();
    });
    this.socket.on("error", (e) => { this.error ||= e.message; });
    this.socket.on("data", (d: Buffer) => { this.take(d); });
  }

  private take(d: Buffer): void {
    this.received += d.length;
    const keep: number[] = [];
    for (const b of d) {
      switch (this.state) {
        case 0:
          if (b === IAC) this.state = 1;
          else if (b !== 13 && b !== 0) keep.push(b);
          break;
        case 1:
          if (b === IAC) keep.push(IAC);
          this.state = b === SB ? 3 : b >= 251 && b <= 254 ? 2 : 0;
          break;
        case 2:
          this.state = 0;
          break;
        case 3:
          if (b === IAC) this.state = 4;
          break;
        case 4:
          this.state = b === SE ? 0 : 3;
          break;
      }
    }
    this.text = (this.text + Buffer.from(keep).toString("latin1")).slice(-20_000);
    this.wake();
  }

  private wake(): void {
    for (const w of this.wakers) w();
  }

  /** Resolves true once the text matches (then it is cleared up to the match's end), false at the deadline or close. */
  async waitFor(re: RegExp, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const m = re.exec(this.text);
      if (m !== null) {
        this.text = this.text.slice(m.index + m[0].length);
        return true;
      }
      const left = deadline - performance.now();
      if (this.closed || left <= 0) return false;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.wakers.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.wakers.add(done);
      });
    }
  }

  /** Writes, waiting for the socket to drain; false when it closed or the deadline passed first. */
  async write(b: Buffer, deadline = performance.now() + 10_000): Promise<boolean> {
    if (this.closed || this.socket.destroyed) return false;
    if (this.socket.write(b)) return true;
    const left = deadline - performance.now();
    if (left <= 0) return false;
    return new Promise((resolve) => {
      const done = (v: boolean): void => {
        clearTimeout(timer);
        this.socket.off("drain", onDrain);
        this.socket.off("close", onClose);
        resolve(v);
      };
      const onDrain = (): void => { done(true); };
      const onClose = (): void => { done(false); };
      const timer = setTimeout(() => { done(false); }, left);
      this.socket.on("drain", onDrain);
      this.socket.on("close", onClose);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Runs f for 0..n-1, `width` at a time. */
async function pool(n: number, width: number, f: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < n) await f(next++);
  };
  await Promise.all(Array.from({ length: Math.min(width, n) }, lane));
}

interface ConnTally {
  conns: number;
  connected: number;
  closedByServer: number;
  errors: string[];
  bytes: number;
  items: number;
  sawPrompt: number;
  answered: number;
  samples: string[];
}
const tally = (): ConnTally => ({ conns: 0, connected: 0, closedByServer: 0, errors: [], bytes: 0, items: 0, sawPrompt: 0, answered: 0, samples: [] });
function settle(t: ConnTally, c: Conn): void {
  t.conns++;
  if (c.connected) t.connected++;
  if (c.closedByServer) t.closedByServer++;
  if (c.error !== "" && t.errors.length < 5) t.errors.push(c.error);
}

/** One random telnet item: an option negotiation, a command, a short subnegotiation, or a stray byte. */
function telnetItem(rnd: Rnd): Buffer {
  switch (intBelow(rnd, 8)) {
    case 0:
    case 1:
    case 2:
      return Buffer.from([IAC, 251 + intBelow(rnd, 4), intBelow(rnd, 256)]);
    case 3:
      return Buffer.from([IAC, 240 + intBelow(rnd, 11)]);
    case 4:
      return Buffer.concat([Buffer.from([IAC, SB, intBelow(rnd, 256)]), randomBytes(rnd, intBelow(rnd, 12), IAC), Buffer.from([IAC, SE])]);
    case 5:
      // Interrupt Process then an option, the crash of issue 11.
      return Buffer.from([IAC, 244, IAC, 251 + intBelow(rnd, 4), intBelow(rnd, 256)]);
    case 6:
      return Buffer.from([IAC, IAC]);
    default:
      return randomBytes(rnd, 1 + intBelow(rnd, 3));
  }
}

async function storm(host: string, seed: number, conns: number, items: number): Promise<ConnTally> {
  const t = tally();
  const rnd = seededRandom(seed);
  const per = Math.max(1, Math.floor(items / conns));
  await pool(conns, 10, async () => {
    const c = new Conn(host);
    if (await c.opened) {
      await c.waitFor(PROMPT, 1000);
      for (let i = 0; i < per; i += 20) {
        const chunk: Buffer[] = [];
        for (let j = i; j < Math.min(per, i + 20); j++) chunk.push(telnetItem(rnd));
        const b = Buffer.concat(chunk);
        if (!(await c.write(b, performance.now() + 3000))) break;
        t.items += chunk.length;
        t.bytes += b.length;
        await new Promise((r) => setImmediate(r));
      }
      await sleep(100);
    }
    c.close();
    await c.ended;
    settle(t, c);
  });
  return t;
}

async function crash(host: string, conns: number): Promise<ConnTally> {
  const t = tally();
  await pool(conns, 5, async () => {
    const c = new Conn(host);
    if (await c.opened) {
      if (await c.waitFor(PROMPT, 3000)) t.sawPrompt++;
      if (await c.write(Buffer.from([0xff, 0xf4, 0xff, 0xfb, 0x01]))) t.bytes += 5;
      await sleep(300);
      await c.write(Buffer.from("\r\n"));
      await sleep(100);
    }
    c.close();
    await c.ended;
    settle(t, c);
  });
  return t;
}

async function subnegotiation(host: string, seed: number, conns: number, kb: number): Promise<ConnTally> {
  const t = tally();
  const rnd = seededRandom(seed);
  await pool(conns, 4, async () => {
    const c = new Conn(host);
    if (await c.opened) {
      await c.waitFor(PROMPT, 1000);
      const deadline = performance.now() + 8000;
      if (await c.write(Buffer.from([IAC, SB, intBelow(rnd, 256)]), deadline)) {
        for (let sent = 0; sent < kb; sent += 16) {
          const b = randomBytes(rnd, 16 * 1024, IAC);
          if (!(await c.write(b, deadline))) break;
          t.bytes += b.length;
        }
      }
      await sleep(100);
    }
    c.close();
    await c.ended;
    settle(t, c);
  });
  return t;
}

/** tooLong: answered with words to that effect; refused: turned away or closed for another connection first. */
async function longLine(host: string, conns: number, kb: number): Promise<ConnTally & { tooLong: number; refused: number }> {
  const t = { ...tally(), tooLong: 0, refused: 0 };
  await pool(conns, 2, async () => {
    const c = new Conn(host);
    if (await c.opened) {
      if (await c.waitFor(PROMPT, 3000)) t.sawPrompt++;
      const deadline = performance.now() + 15_000;
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      let complete = true;
      for (let sent = 0; sent < kb; sent += 64) {
        if (!(await c.write(chunk, deadline))) {
          complete = false;
          break;
        }
        t.bytes += chunk.length;
      }
      if (complete) await c.write(Buffer.from("\r\n"), deadline);
      // The echo of a line being typed is its characters: look for words.
      if (await c.waitFor(/too long|exceed|overflow/i, 5000)) t.tooLong++;
      else if (/Too many|make room/.test(c.text)) t.refused++;
      else if (t.samples.length < 3) t.samples.push(JSON.stringify(c.text.replace(/A{20,}/g, (m) => `A*${m.length}`).slice(-300)));
    }
    c.close();
    await c.ended;
    settle(t, c);
  });
  return t;
}

async function garbage(host: string, seed: number, conns: number, kb: number): Promise<ConnTally> {
  const t = tally();
  const rnd = seededRandom(seed);
  await pool(conns, 8, async () => {
    const c = new Conn(host);
    if (await c.opened) {
      const deadline = performance.now() + 5000;
      for (let sent = 0; sent < kb; sent += 4) {
        const b = randomBytes(rnd, 4096);
        if (!(await c.write(b, deadline))) break;
        t.bytes += b.length;
      }
      await sleep(50);
    }
    c.close();
    await c.ended;
    settle(t, c);
  });
  return t;
}

async function slow(host: string, conns: number, seconds: number, intervalMs: number): Promise<ConnTally> {
  const t = tally();
  const script = Buffer.from("admin\r\nnot the password\r\nshow version\r\n\xff\xfb\x01\xff\xfa\x18");
  await Promise.all(
    Array.from({ length: conns }, async (_, i) => {
      const c = new Conn(host);
      if (await c.opened) {
        const end = performance.now() + seconds * 1000;
        for (let k = i; performance.now() < end; k++) {
          if (!(await c.write(script.subarray(k % script.length, (k % script.length) + 1), end))) break;
          t.bytes++;
          await sleep(intervalMs);
        }
      }
      c.close();
      await c.ended;
      settle(t, c);
    }),
  );
  return t;
}

const idleConns = new Map<string, Conn[]>();

async function idle(tag: string, host: string, n: number): Promise<ConnTally & { stillOpen: number }> {
  const t = { ...tally(), stillOpen: 0 };
  const conns: Conn[] = [];
  idleConns.set(tag, conns);
  for (let i = 0; i < n; i += 50) {
    const batch = Array.from({ length: Math.min(50, n - i) }, () => new Conn(host));
    conns.push(...batch);
    await Promise.all(batch.map((c) => c.opened));
  }
  // What the server does with them at once (a refusal closes at once).
  await sleep(500);
  for (const c of conns) {
    t.conns++;
    if (c.connected) t.connected++;
    if (c.closedByServer) t.closedByServer++;
    if (!c.closed) t.stillOpen++;
  }
  return t;
}

async function closeIdle(tag: string): Promise<{ closed: number; closedByServer: number }> {
  const conns = idleConns.get(tag) ?? [];
  idleConns.delete(tag);
  const byServer = conns.filter((c) => c.closedByServer).length;
  for (const c of conns) c.close();
  await Promise.all(conns.map((c) => c.ended));
  return { closed: conns.length, closedByServer: byServer };
}

async function probe(host: string, timeoutMs: number): Promise<{ ok: boolean; ms: number; text: string }> {
  const t0 = performance.now();
  const c = new Conn(host);
  let ok = false;
  if (await c.opened) {
    if (await c.waitFor(PROMPT, timeoutMs)) {
      await c.write(Buffer.from("show version\r"));
      ok = await c.waitFor(/lnsd \S+[^\n]*\n[\s\S]*[>#] $/, Math.max(100, timeoutMs - (performance.now() - t0)));
    }
  }
  const text = c.text.slice(-300);
  c.close();
  await c.ended;
  return { ok, ms: Math.round(performance.now() - t0), text: ok ? "" : `${text}${c.error === "" ? "" : ` (${c.error})`}${c.closedByServer ? " (closed by lnsd)" : ""}` };
}

// ---- UDP --------------------------------------------------------------------------------------

function nsctlDatagram(rnd: Rnd): Buffer {
  if (intBelow(rnd, 5) === 0) return randomBytes(rnd, intBelow(rnd, 1600));
  const argc = intBelow(rnd, 300);
  const parts: Buffer[] = [Buffer.from([0x90, 0x13, intBelow(rnd, 3) === 0 ? intBelow(rnd, 256) : 0x12 + intBelow(rnd, 3), argc & 0xff])];
  for (let i = 0; i < Math.min(argc, intBelow(rnd, 20)); i++) {
    const len = intBelow(rnd, 256);
    parts.push(Buffer.from([len]), randomBytes(rnd, intBelow(rnd, 3) === 0 ? intBelow(rnd, 300) : len));
  }
  if (intBelow(rnd, 2) === 0) parts.push(Buffer.from([0xff]));
  return Buffer.concat(parts).subarray(0, 65_000);
}

/** A RADIUS-shaped DAE request (RFC 5176: Disconnect 40, CoA 43) with lying lengths and attributes; some name the live session. */
function daeDatagram(rnd: Rnd, user: string, ip: string): Buffer {
  if (intBelow(rnd, 6) === 0) return randomBytes(rnd, intBelow(rnd, 100));
  const attrs: Buffer[] = [];
  if (intBelow(rnd, 3) === 0) {
    attrs.push(Buffer.concat([Buffer.from([1, 2 + user.length]), Buffer.from(user)]));
    attrs.push(Buffer.from([8, 6, ...ip.split(".").map(Number)]));
    if (intBelow(rnd, 2) === 0) attrs.push(Buffer.concat([Buffer.from([80, 18]), randomBytes(rnd, 16)]));
  } else {
    for (let i = intBelow(rnd, 12); i > 0; i--) {
      const len = intBelow(rnd, 4) === 0 ? intBelow(rnd, 3) : 2 + intBelow(rnd, 40);
      attrs.push(Buffer.concat([Buffer.from([intBelow(rnd, 256), len]), randomBytes(rnd, Math.max(0, intBelow(rnd, 4) === 0 ? intBelow(rnd, 60) : len - 2))]));
    }
  }
  const body = Buffer.concat(attrs);
  const p = Buffer.concat([Buffer.alloc(20), body]);
  const codes = [40, 43, 41, 42, 44, 45, 1, 2, 4];
  p[0] = intBelow(rnd, 5) === 0 ? intBelow(rnd, 256) : (codes[intBelow(rnd, codes.length)] ?? 40);
  p[1] = intBelow(rnd, 256);
  const lengths = [p.length, intBelow(rnd, 20), p.length + 1 + intBelow(rnd, 4000), intBelow(rnd, 0x10000)];
  p.writeUInt16BE(lengths[intBelow(rnd, lengths.length)] ?? p.length, 2);
  randomBytes(rnd, 16).copy(p, 4);
  return p.subarray(0, intBelow(rnd, 8) === 0 ? intBelow(rnd, p.length + 1) : p.length);
}

/** L2TP header bits (RFC 2661 3.1): T 0x8000, L 0x4000, S 0x0800, O 0x0200, P 0x0100, version in the low nibble. */
function l2tpHeaderDatagram(rnd: Rnd): Buffer {
  const len = intBelow(rnd, 64);
  const b = randomBytes(rnd, Math.max(2, len));
  const bits = [0xc802, 0x0002, 0x4002, 0x0802, 0x0202, 0x4a02, 0xc803, 0xc800, 0x8002, 0xc002, 0x0b02];
  const flags = intBelow(rnd, 4) === 0 ? intBelow(rnd, 0x10000) : ((bits[intBelow(rnd, bits.length)] ?? 0xc802) | (intBelow(rnd, 2) === 0 ? 0 : intBelow(rnd, 0x10000) & 0x30f0));
  b.writeUInt16BE(flags, 0);
  if (b.length >= 4 && (flags & 0x4000) !== 0 && intBelow(rnd, 2) === 0) b.writeUInt16BE(intBelow(rnd, 3) === 0 ? b.length : intBelow(rnd, 0x10000), 2);
  return b;
}

/** An AVP (RFC 2661 4.1): M 0x8000, H 0x4000, length in the low 10 bits; lengths that lie. */
function avp(rnd: Rnd, type: number, value: Buffer): Buffer {
  const h = Buffer.alloc(6);
  const honest = 6 + value.length;
  const len = intBelow(rnd, 6) === 0 ? intBelow(rnd, 1024) : honest;
  h.writeUInt16BE((intBelow(rnd, 2) === 0 ? 0x8000 : 0) | (intBelow(rnd, 8) === 0 ? 0x4000 : 0) | (intBelow(rnd, 16) === 0 ? 0x3c00 : 0) | (len & 0x3ff), 0);
  h.writeUInt16BE(intBelow(rnd, 8) === 0 ? intBelow(rnd, 0x10000) : 0, 2);
  h.writeUInt16BE(type, 4);
  return Buffer.concat([h, value]);
}

function controlMessage(rnd: Rnd, tunnelId: number, avps: Buffer[]): Buffer {
  const body = Buffer.concat(avps);
  const h = Buffer.alloc(12);
  h.writeUInt16BE(0xc802, 0);
  h.writeUInt16BE(intBelow(rnd, 6) === 0 ? intBelow(rnd, 0x10000) : 12 + body.length, 2);
  h.writeUInt16BE(tunnelId, 4);
  h.writeUInt16BE(intBelow(rnd, 4) === 0 ? intBelow(rnd, 0x10000) : 0, 6);
  h.writeUInt16BE(intBelow(rnd, 0x10000), 8);
  h.writeUInt16BE(intBelow(rnd, 0x10000), 10);
  return Buffer.concat([h, body]);
}

function l2tpAvpDatagram(rnd: Rnd): Buffer {
  const avps: Buffer[] = [avp(rnd, 0, Buffer.from([0, intBelow(rnd, 4) === 0 ? intBelow(rnd, 256) : 1 + intBelow(rnd, 16)]))];
  for (let i = intBelow(rnd, 10); i > 0; i--) avps.push(avp(rnd, intBelow(rnd, 4) === 0 ? intBelow(rnd, 0x10000) : intBelow(rnd, 48), randomBytes(rnd, intBelow(rnd, 4) === 0 ? intBelow(rnd, 1100) : intBelow(rnd, 20))));
  return controlMessage(rnd, intBelow(rnd, 3) === 0 ? 0 : intBelow(rnd, 0x10000), avps);
}

/** SCCRQ (RFC 2661 6.1) with the required AVPs, some of them wrong. */
function sccrqDatagram(rnd: Rnd): Buffer {
  const u16 = (v: number): Buffer => Buffer.from([v >> 8, v & 0xff]);
  const u32 = (v: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(v >>> 0); return b; };
  const pick = <T>(honest: T, wrong: () => T): T => (intBelow(rnd, 5) === 0 ? wrong() : honest);
  const avps = [
    avp(rnd, 0, u16(1)),
    avp(rnd, 2, pick(Buffer.from([1, 0]), () => randomBytes(rnd, intBelow(rnd, 5)))),
    avp(rnd, 3, pick(u32(3), () => randomBytes(rnd, intBelow(rnd, 7)))),
    avp(rnd, 7, pick(Buffer.from(`hostile-${intBelow(rnd, 1e6)}`), () => randomBytes(rnd, intBelow(rnd, 1000)))),
    avp(rnd, 9, pick(u16(1 + intBelow(rnd, 0xffff)), () => randomBytes(rnd, intBelow(rnd, 5)))),
  ];
  if (intBelow(rnd, 2) === 0) avps.push(avp(rnd, 10, pick(u16(intBelow(rnd, 0x10000)), () => randomBytes(rnd, intBelow(rnd, 5)))));
  if (intBelow(rnd, 3) === 0) avps.push(avp(rnd, 11, randomBytes(rnd, intBelow(rnd, 40))));
  if (intBelow(rnd, 3) === 0) avps.push(avp(rnd, 5, randomBytes(rnd, intBelow(rnd, 12))));
  return controlMessage(rnd, 0, avps);
}

/** Aimed at the live tunnel and session, from a host that is not its peer: data and control. */
function l2tpRealDatagram(rnd: Rnd, tunnelId: number, sessionId: number): Buffer {
  if (intBelow(rnd, 4) === 0) {
    // Control on the live tunnel: StopCCN (4), CDN (14), HELLO, garbage.
    const types = [4, 14, 6, 1 + intBelow(rnd, 16)];
    const avps = [avp(rnd, 0, Buffer.from([0, types[intBelow(rnd, types.length)] ?? 4]))];
    if (intBelow(rnd, 2) === 0) avps.push(avp(rnd, 1, Buffer.from([0, 1 + intBelow(rnd, 7)])));
    if (intBelow(rnd, 2) === 0) avps.push(avp(rnd, 14, Buffer.from([sessionId >> 8, sessionId & 0xff])));
    const m = controlMessage(rnd, tunnelId, avps);
    if (intBelow(rnd, 2) === 0) m.writeUInt16BE(sessionId, 6);
    return m;
  }
  // Data (RFC 2661 3.1), PPP inside: LCP Terminate-Request and Configure-Request among the rest.
  const lcpCodes = [5, 1, 2, 6, 9, 11, 7, 8, intBelow(rnd, 256)];
  const ppp =
    intBelow(rnd, 2) === 0
      ? Buffer.concat([Buffer.from([0xff, 0x03, 0xc0, 0x21, lcpCodes[intBelow(rnd, lcpCodes.length)] ?? 5, intBelow(rnd, 256), 0, 4 + 8]), randomBytes(rnd, 8)])
      : Buffer.concat([Buffer.from([0xff, 0x03]), randomBytes(rnd, intBelow(rnd, 200))]);
  const withLength = intBelow(rnd, 2) === 0;
  const h = Buffer.alloc(withLength ? 8 : 6);
  h.writeUInt16BE(withLength ? 0x4002 : 0x0002, 0);
  let at = 2;
  if (withLength) {
    h.writeUInt16BE(intBelow(rnd, 3) === 0 ? intBelow(rnd, 0x10000) : h.length + ppp.length, 2);
    at = 4;
  }
  h.writeUInt16BE(tunnelId, at);
  h.writeUInt16BE(sessionId, at + 2);
  return Buffer.concat([h, ppp]);
}

async function udp(host: string, port: number, kind: string, seed: number, n: number, args: string[]): Promise<{ sent: number; errors: number; answers: number }> {
  const rnd = seededRandom(seed);
  const sock = createSocket("udp4");
  let errors = 0;
  let answers = 0;
  sock.on("error", () => { errors++; });
  sock.on("message", () => { answers++; });
  await new Promise<void>((r) => { sock.bind(0, r); });
  const make = (): Buffer => {
    switch (kind) {
      case "nsctl":
        return nsctlDatagram(rnd);
      case "dae":
        return daeDatagram(rnd, args[0] ?? "", args[1] ?? "0.0.0.0");
      case "l2tp-header":
        return l2tpHeaderDatagram(rnd);
      case "l2tp-avp":
        return l2tpAvpDatagram(rnd);
      case "sccrq":
        return sccrqDatagram(rnd);
      case "l2tp-real":
        return l2tpRealDatagram(rnd, Number(args[0] ?? "0"), Number(args[1] ?? "0"));
      default:
        return randomBytes(rnd, intBelow(rnd, 1500));
    }
  };
  let sent = 0;
  for (let i = 0; i < n; i++) {
    const d = make();
    await new Promise<void>((r) => {
      sock.send(d, port, host, (e) => {
        if (e === null) sent++;
        else errors++;
        r();
      });
    });
    if (i % 25 === 24) await sleep(1);
  }
  await sleep(200);
  sock.close();
  return { sent, errors, answers };
}

async function run(words: string[]): Promise<unknown> {
  const [what = "", , host = "127.0.0.1"] = words;
  const num = (i: number): number => Number(words[i] ?? "0");
  switch (what) {
    case "storm":
      return storm(host, num(3), num(4), num(5));
    case "crash":
      return crash(host, num(3));
    case "sb":
      return subnegotiation(host, num(3), num(4), num(5));
    case "longline":
      return longLine(host, num(3), num(4));
    case "garbage":
      return garbage(host, num(3), num(4), num(5));
    case "slow":
      return slow(host, num(3), num(4), num(5));
    case "idle":
      return idle(words[1] ?? "", host, num(3));
    case "closeidle":
      return closeIdle(words[1] ?? "");
    case "probe":
      return probe(host, num(3));
    case "udp":
      return udp(host, num(3), words[4] ?? "random", num(5), num(6), words.slice(7));
    default:
      return { unknown: what };
  }
}

const rl = createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const words = line.trim().split(/\s+/);
  const tag = words[0] === "closeidle" ? `${words[1] ?? ""}-closed` : (words[1] ?? "result");
  run(words).then(
    (r) => { emit(tag, r); },
    (e: unknown) => { emit(tag, { failed: e instanceof Error ? (e.stack ?? e.message) : String(e) }); },
  );
});
rl.on("close", () => {
  for (const conns of idleConns.values()) for (const c of conns) c.close();
  process.exit(0);
});
emit("ready", true);
