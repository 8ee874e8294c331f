// The load tool's worker thread, in one of two roles. "lac": owns the receive side of the test
// LAC's UDP socket (the one its L2TP control connection uses, so the LNS takes the data), counts
// the test packets that come back and hands every other datagram to the main thread, and blasts
// test packets with sendmmsg at a rate, a window or flat out. "reflector": on the internet host,
// sends every datagram back to where it came from. Batched native I/O only (recvmmsg/sendmmsg);
// the loop yields to the event loop every few ms so that commands get in.
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import { loadTrafficAddon, type TrafficAddon } from "./traffic-addon.js";
import {
  decodeSessionTable,
  newDownstreamParse,
  REFLECTOR_TOTALS,
  ReflectorTotal,
  parseDownstream,
  TRAFFIC_ENCAP_BYTES,
  TrafficCounters,
  TrafficTotal,
  writeUpstreamPacket,
  type BlastParams,
  type TrafficSession,
} from "./traffic.js";

const STRIDE = 2048;
const BATCH = 256;
/** Longest stretch of work before the loop yields to the event loop. */
const SLICE_MS = 4;
/** Window mode: with the window full and nothing back for this long, the packets in flight are taken as lost. */
const WINDOW_STALL_MS = 50;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}

function num(r: Record<string, unknown>, k: string): number {
  const v = r[k];
  if (typeof v !== "number") throw new TypeError(`traffic worker: ${k} is not a number`);
  return v;
}

function blastParams(r: Record<string, unknown>): BlastParams {
  return { runId: num(r, "runId"), ipBytes: num(r, "ipBytes"), dst: num(r, "dst"), dstPort: num(r, "dstPort"), srcPort: num(r, "srcPort"), ratePps: num(r, "ratePps"), window: num(r, "window") };
}

interface Init {
  readonly role: "lac" | "reflector";
  readonly fd: number;
  readonly wakeFd: number;
  readonly counters: SharedArrayBuffer;
  readonly sessions: number;
  /** lac: the LNS, where test packets go. */
  readonly lnsAddress: number;
  readonly lnsPort: number;
}

function init(d: unknown): Init {
  if (!isRecord(d)) throw new TypeError("traffic worker: no workerData");
  const role = d.role;
  const counters = d.counters;
  if ((role !== "lac" && role !== "reflector") || !(counters instanceof SharedArrayBuffer)) throw new TypeError("traffic worker: bad workerData");
  return { role, counters, fd: num(d, "fd"), wakeFd: num(d, "wakeFd"), sessions: num(d, "sessions"), lnsAddress: num(d, "lnsAddress"), lnsPort: num(d, "lnsPort") };
}

function parent(): MessagePort {
  if (parentPort === null) throw new Error("traffic-worker: not a worker thread");
  return parentPort;
}
const port = parent();
const cfg = init(workerData);
const addon: TrafficAddon = loadTrafficAddon();
const rxBuf = new Uint8Array(STRIDE * BATCH);
const rxLens = new Int32Array(BATCH);
const rxAddrs = new Uint32Array(2 * BATCH);
const txOffsets = new Int32Array(BATCH);
const txLens = new Int32Array(BATCH);
const txAddrs = new Uint32Array(2 * BATCH);
const wakeScratch = new Uint8Array(8);
const wakeLens = new Int32Array(1);
let quitting = false;

function drainWake(): void {
  addon.tunRead(cfg.wakeFd, wakeScratch, 0, 8, 1, wakeLens);
}

// ---- reflector --------------------------------------------------------------------------------

function reflectorLoop(): void {
  const totals = new Float64Array(cfg.counters, 0, REFLECTOR_TOTALS);
  const step = (): void => {
    if (quitting) return;
    const deadline = performance.now() + SLICE_MS;
    for (;;) {
      const n = addon.udpRecv(cfg.fd, rxBuf, 0, STRIDE, BATCH, rxLens, rxAddrs);
      if (n > 0) {
        let m = 0;
        for (let i = 0; i < n; i++) {
          const len = rxLens[i] ?? -1;
          if (len < 0) {
            totals[ReflectorTotal.truncated] = (totals[ReflectorTotal.truncated] ?? 0) + 1;
            continue;
          }
          // Back to the sender: same payload, addresses swapped by the kernel's reply.
          txOffsets[m] = i * STRIDE;
          txLens[m] = len;
          txAddrs[2 * m] = rxAddrs[2 * i] ?? 0;
          txAddrs[2 * m + 1] = rxAddrs[2 * i + 1] ?? 0;
          m++;
        }
        const sent = m === 0 ? 0 : addon.udpSend(cfg.fd, rxBuf, txOffsets, txLens, txAddrs, m);
        totals[ReflectorTotal.receivedPackets] = (totals[ReflectorTotal.receivedPackets] ?? 0) + n;
        totals[ReflectorTotal.sentPackets] = (totals[ReflectorTotal.sentPackets] ?? 0) + sent;
        totals[ReflectorTotal.sendShort] = (totals[ReflectorTotal.sendShort] ?? 0) + m - sent;
        if (performance.now() < deadline) continue;
        break;
      }
      const bits = addon.wait(cfg.fd, -1, cfg.wakeFd, 50);
      if ((bits & 4) !== 0) {
        drainWake();
        break;
      }
      if (bits === 0 || performance.now() >= deadline) break;
    }
    setImmediate(step);
  };
  step();
}

// ---- LAC --------------------------------------------------------------------------------------

function lacLoop(): void {
  const counters = new TrafficCounters(cfg.counters, cfg.sessions);
  const totals = counters.totals;
  const parse = newDownstreamParse();
  let sessions: TrafficSession[] = [];
  /** (local Tunnel ID << 16 | local Session ID) -> session index. */
  let byIds = new Map<number, number>();
  let addresses = new Uint32Array(0);
  let blast: BlastParams | undefined;
  let runId = -1;
  let fromPort = -1;
  let txBuf = new Uint8Array(0);
  let slot = 0;
  let datagramBytes = 0;
  const txIndex = new Int32Array(BATCH);
  let cursor = 0;
  let blastStartMs = 0;
  let blastSent = 0;
  let blastBack = 0;
  let presumedLost = 0;
  let lastBackMs = 0;

  const add = (slotIndex: number, v: number): void => {
    totals[slotIndex] = (totals[slotIndex] ?? 0) + v;
  };

  const receive = (): number => {
    let total = 0;
    for (let round = 0; round < 8; round++) {
      const n = addon.udpRecv(cfg.fd, rxBuf, 0, STRIDE, BATCH, rxLens, rxAddrs);
      if (n <= 0) break;
      total += n;
      let control: { data: Uint8Array<ArrayBuffer>; address: number; port: number }[] | undefined;
      let good = 0;
      let goodBytes = 0;
      for (let i = 0; i < n; i++) {
        const len = rxLens[i] ?? -1;
        if (len < 0) {
          add(TrafficTotal.truncated, 1);
          continue;
        }
        const start = i * STRIDE;
        if (fromPort >= 0 && parseDownstream(rxBuf, start, len, fromPort, parse)) {
          if (parse.runId !== runId) {
            add(TrafficTotal.stale, 1);
            continue;
          }
          blastBack++;
          const idx = byIds.get(((parse.tunnelId << 16) | parse.sessionId) >>> 0);
          if (idx === undefined || idx !== parse.sessionIndex || addresses[idx] !== parse.dst) {
            add(TrafficTotal.misrouted, 1);
            continue;
          }
          good++;
          goodBytes += parse.ipBytes;
          counters.sessionReceived[idx] = (counters.sessionReceived[idx] ?? 0) + 1;
          continue;
        }
        const data = new Uint8Array(len);
        data.set(rxBuf.subarray(start, start + len));
        (control ??= []).push({ data, address: rxAddrs[2 * i] ?? 0, port: rxAddrs[2 * i + 1] ?? 0 });
      }
      add(TrafficTotal.receivedPackets, good);
      add(TrafficTotal.receivedBytes, goodBytes);
      if (control !== undefined) {
        add(TrafficTotal.toControl, control.length);
        port.postMessage({ type: "control", packets: control }, control.map((c) => c.data.buffer));
      }
      if (n < BATCH) break;
    }
    if (total > 0) lastBackMs = performance.now();
    return total;
  };

  const allowance = (b: BlastParams, now: number): number => {
    let allowed = BATCH;
    if (b.window > 0) {
      let inFlight = blastSent - blastBack - presumedLost;
      if (inFlight >= b.window && now - lastBackMs > WINDOW_STALL_MS) {
        presumedLost += inFlight;
        inFlight = 0;
        lastBackMs = now;
      }
      allowed = Math.min(allowed, b.window - inFlight);
    }
    if (b.ratePps > 0) {
      let due = Math.floor((b.ratePps * (now - blastStartMs)) / 1000) - blastSent;
      if (due > 4 * BATCH) {
        // Fell behind (a pause): do not burst to catch up.
        blastStartMs = now - ((blastSent + BATCH) * 1000) / b.ratePps;
        due = BATCH;
      }
      allowed = Math.min(allowed, due);
    }
    return allowed;
  };

  const send = (max: number): number => {
    const n = Math.min(max, BATCH);
    const count = sessions.length;
    for (let i = 0; i < n; i++) {
      txIndex[i] = cursor;
      txOffsets[i] = cursor * slot;
      txLens[i] = datagramBytes;
      cursor++;
      if (cursor >= count) cursor = 0;
    }
    const sent = addon.udpSend(cfg.fd, txBuf, txOffsets, txLens, txAddrs, n);
    for (let i = 0; i < sent; i++) {
      const idx = txIndex[i] ?? 0;
      counters.sessionSent[idx] = (counters.sessionSent[idx] ?? 0) + 1;
    }
    if (sent < n) {
      add(TrafficTotal.sendShort, n - sent);
      cursor = ((txIndex[sent] ?? 0) + count) % count;
    }
    blastSent += sent;
    add(TrafficTotal.sentPackets, sent);
    add(TrafficTotal.sentBytes, sent * (datagramBytes - TRAFFIC_ENCAP_BYTES));
    return sent;
  };

  const startBlast = (b: BlastParams): void => {
    if (sessions.length === 0) throw new Error("traffic worker: blast without sessions");
    slot = (TRAFFIC_ENCAP_BYTES + b.ipBytes + 63) & ~63;
    txBuf = new Uint8Array(slot * sessions.length);
    for (const s of sessions) datagramBytes = writeUpstreamPacket(txBuf, s.index * slot, { session: s, dst: b.dst, dstPort: b.dstPort, srcPort: b.srcPort, ipBytes: b.ipBytes, runId: b.runId });
    for (let i = 0; i < BATCH; i++) {
      txAddrs[2 * i] = cfg.lnsAddress;
      txAddrs[2 * i + 1] = cfg.lnsPort;
    }
    runId = b.runId;
    fromPort = b.dstPort;
    cursor = 0;
    blastSent = 0;
    blastBack = 0;
    presumedLost = 0;
    blastStartMs = performance.now();
    lastBackMs = blastStartMs;
    blast = b;
  };

  port.on("message", (m: unknown) => {
    if (!isRecord(m)) return;
    switch (m.type) {
      case "sessions": {
        const table = m.table;
        if (!(table instanceof Uint32Array)) return;
        sessions = decodeSessionTable(table).slice(0, cfg.sessions);
        byIds = new Map(sessions.map((s) => [((s.localTunnelId << 16) | s.localSessionId) >>> 0, s.index]));
        addresses = new Uint32Array(sessions.map((s) => s.address));
        return;
      }
      case "blast":
        startBlast(blastParams(m));
        return;
      case "stop":
        blast = undefined;
        port.postMessage({ type: "stopped" });
        return;
      default:
        return;
    }
  });

  const step = (): void => {
    if (quitting) return;
    const deadline = performance.now() + SLICE_MS;
    for (;;) {
      let did = receive();
      const b = blast;
      if (b !== undefined) {
        const allowed = allowance(b, performance.now());
        if (allowed > 0) did += send(allowed);
      }
      if (performance.now() >= deadline) break;
      if (did === 0) {
        const bits = addon.wait(cfg.fd, -1, cfg.wakeFd, b === undefined ? 20 : 1);
        if ((bits & 4) !== 0) {
          drainWake();
          break;
        }
        if (b === undefined && bits === 0) break;
      }
    }
    setImmediate(step);
  };
  step();
}

port.on("message", (m: unknown) => {
  if (isRecord(m) && m.type === "quit") {
    quitting = true;
    port.close();
  }
});
port.postMessage({ type: "ready" });
if (cfg.role === "lac") lacLoop();
else reflectorLoop();
