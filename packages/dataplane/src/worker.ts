// A data worker (worker_threads): owns one UDP socket of the port-1701 group (the kernel steers a
// session's datagrams to it, see native udpSteer) and one queue of the multi-queue TUN device. It
// blocks in poll() on both and on a wake-up eventfd, moves packets in batches, and hands control
// traffic to the control thread. Allocates nothing per forwarded packet.
import { parentPort, workerData } from "node:worker_threads";
import { PLUGIN_RET_STOP, PluginHost, type PacketParams, type PluginApi, type PluginLogLevel } from "@lnsd/plugin-api";
import { buildIcmpUnreachable } from "@lnsd/wire";
import { Down, downOut, downstream, HEADROOM, Up, upOut, upstream, useShaperCounts } from "./forward.js";
import { Shaper } from "./shaper.js";
import { loadAddon } from "./native.js";
import { C, COUNTER_WORDS, G, R, RECORD_WORDS, STAT_WORDS, viewTables, WorkerStat, type TableBuffers } from "./tables.js";

export interface WorkerInit {
  readonly index: number;
  readonly buffers: TableBuffers;
  readonly udpFd: number;
  readonly tunFd: number;
  readonly wakeFd: number;
  /** Datagrams per system call batch. */
  readonly batch: number;
  /** Most datagrams per second this worker hands to the control thread. */
  readonly controlRate: number;
}

/** What a worker posts to the control thread. */
export interface ControlDatagram {
  readonly data: Uint8Array;
  readonly address: number;
  readonly port: number;
}

export type WorkerMessage =
  | { readonly kind: "control"; readonly batch: readonly ControlDatagram[] }
  | { readonly kind: "log"; readonly level: PluginLogLevel; readonly reason: string; readonly message: string };

/** What the control thread posts to a worker: the plugins with packet hooks, in load order. */
export interface PacketPluginsMessage {
  readonly kind: "plugins";
  readonly names: readonly string[];
  readonly pluginDirs: readonly string[];
}

const LEVELS: readonly PluginLogLevel[] = ["critical", "error", "warn", "info", "debug", "packet"];

/** A plugin's helper API in a worker: its log lines go to the control thread; the rest is the control thread's. */
function workerApi(port: NonNullable<typeof parentPort>, name: string): PluginApi {
  const no = { ok: false as const, error: "not available in a data worker (packet hooks only see the packet)" };
  const post = (m: WorkerMessage): void => { port.postMessage(m); };
  return {
    apiVersion: 1,
    // l2tpns levels by number: 0 critical .. 5 packet.
    log: (level, message, sessionId) => { post({ kind: "log", level: typeof level === "number" ? LEVELS[Math.max(0, Math.min(5, level))] ?? "info" : level, reason: `plugin-${name}`, message: `plugin ${name} (data worker): ${sessionId === undefined ? "" : `session ${sessionId}: `}${message}` }); },
    findSession: () => undefined,
    findSessionByUser: () => undefined,
    sessions: () => [],
    getConfig: () => undefined,
    dropSession: () => no,
    killSession: () => no,
    throttle: () => no,
    snoop: () => no,
    garden: () => no,
    sendRadius: () => no,
    setUsername: () => no,
  };
}

const SLOT = 2048;

async function run(init: WorkerInit, port: NonNullable<typeof parentPort>): Promise<void> {
  const native = loadAddon();
  const t = viewTables(init.buffers, init.index);
  const g = t.globals;
  const statBase = G.STATS + init.index * STAT_WORDS;
  const batch = init.batch;
  const upBuf = new Uint8Array(batch * SLOT);
  const upLens = new Int32Array(batch);
  const upAddrs = new Uint32Array(batch * 2);
  const tunOffsets = new Int32Array(batch);
  const tunLens = new Int32Array(batch);
  const downBuf = new Uint8Array(batch * SLOT);
  const downLens = new Int32Array(batch);
  const sendOffsets = new Int32Array(batch);
  const sendLens = new Int32Array(batch);
  const sendAddrs = new Uint32Array(batch * 2);
  // Interception: copies of intercepted sessions' IP packets, raw in UDP (as l2tpns's snoop).
  const snoopOffsets = new Int32Array(batch);
  const snoopLens = new Int32Array(batch);
  const snoopAddrs = new Uint32Array(batch * 2);
  const queueSnoop = (k: number, offset: number, length: number, address: number, p: number): number => {
    snoopOffsets[k] = offset;
    snoopLens[k] = length;
    snoopAddrs[2 * k] = address;
    snoopAddrs[2 * k + 1] = p;
    return k + 1;
  };
  // Throttled sessions over their rate wait here (per direction) instead of being dropped.
  const upShaper = new Shaper(t, true, SLOT);
  const downShaper = new Shaper(t, false, SLOT);
  useShaperCounts(upShaper.counts, downShaper.counts);
  const shapedOffsets = new Int32Array(batch);
  const shapedLens = new Int32Array(batch);
  const shapedAddrs = new Uint32Array(batch * 2);
  const throttleDrop = (slot: number): void => {
    Atomics.add(g, statBase + WorkerStat.THROTTLED, 1);
    Atomics.add(t.counters, slot * COUNTER_WORDS + C.DROPS, 1);
  };
  /** Lets out what the buckets allow: upstream to TUN, downstream to the LACs, in batches. */
  const drainShapers = (now: number): void => {
    for (const [shaper, up] of [[upShaper, true], [downShaper, false]] as const) {
      if (!shaper.pending) continue;
      let n = 0;
      let from: Uint8Array | undefined;
      const flush = (): void => {
        if (n === 0 || from === undefined) return;
        if (up) Atomics.add(g, statBase + WorkerStat.TUN_OUT, native.tunWrite(init.tunFd, from, shapedOffsets, shapedLens, n));
        else Atomics.add(g, statBase + WorkerStat.UDP_OUT, native.udpSend(init.udpFd, from, shapedOffsets, shapedLens, shapedAddrs, n));
        n = 0;
      };
      const dropped = shaper.drain(now, (buf, offset, length, address, p) => {
        from = buf;
        shapedOffsets[n] = offset;
        shapedLens[n] = length;
        shapedAddrs[2 * n] = address;
        shapedAddrs[2 * n + 1] = p;
        n++;
        if (n === batch) flush();
      });
      flush();
      if (dropped > 0) Atomics.add(g, statBase + WorkerStat.THROTTLED, dropped);
    }
  };

  // Packet hooks: only when a loaded plugin has one (then a small object per packet); none costs nothing.
  let plugins: PacketPluginsMessage = { kind: "plugins", names: [], pluginDirs: [] };
  const onPlugins = (m: PacketPluginsMessage): void => { plugins = m; };
  port.on("message", onPlugins);
  let pluginGen = 0;
  let host: PluginHost | undefined;
  const hooks = { rx: false, tx: false };
  const reloadPlugins = async (): Promise<void> => {
    // Let the control thread's message (posted before the generation moved) arrive.
    await new Promise((resolve) => setImmediate(resolve));
    await host?.unloadAll();
    const next = new PluginHost({
      pluginDirs: plugins.pluginDirs,
      api: (name) => workerApi(port, name),
      log: (level, reason, message) => { port.postMessage({ kind: "log", level, reason, message: `data worker ${init.index}: ${message}` } satisfies WorkerMessage); },
    });
    for (const name of plugins.names) await next.load(name);
    host = next;
    hooks.rx = next.has("packet_rx");
    hooks.tx = next.has("packet_tx");
  };
  /** Runs a packet hook on the IP packet at buf[offset, +length) of a slot's session; false: a plugin said STOP (drop it). */
  const packetHook = (hook: "packet_rx" | "packet_tx", slot: number, buf: Uint8Array, offset: number, length: number): boolean => {
    if (host === undefined) return true;
    const at = slot * RECORD_WORDS;
    const params: PacketParams = { tunnelId: (t.records[at + R.KEY] ?? 0) >>> 16, sessionId: t.records[at + R.SESSION_ID] ?? 0, buf: buf.subarray(offset, offset + length) };
    // A plugin that fails (ERROR) does not take the traffic with it: only STOP drops.
    if (host.callPacket(hook, params).result !== PLUGIN_RET_STOP) return true;
    Atomics.add(g, statBase + WorkerStat.PLUGIN_DROPPED, 1);
    return false;
  };
  const snoop = (buf: Uint8Array, count: number): void => {
    if (count === 0) return;
    const sent = native.udpSend(init.udpFd, buf, snoopOffsets, snoopLens, snoopAddrs, count);
    Atomics.add(g, statBase + WorkerStat.SNOOPED, sent);
  };
  let controlTokens = init.controlRate;
  let icmpTokens = 0;
  let lastSecond = 0;

  // Control traffic of one receive batch goes over in one message (a message costs microseconds).
  let pending: ControlDatagram[] = [];
  let pendingBuffers: ArrayBuffer[] = [];
  const toControl = (offset: number, length: number, address: number, p: number): void => {
    if (controlTokens <= 0) {
      Atomics.add(g, statBase + WorkerStat.CONTROL_OVERLOAD, 1);
      return;
    }
    controlTokens--;
    Atomics.add(g, statBase + WorkerStat.TO_CONTROL, 1);
    const data = upBuf.slice(offset, offset + length);
    pending.push({ data, address, port: p });
    pendingBuffers.push(data.buffer);
  };
  const flushControl = (): void => {
    if (pending.length === 0) return;
    port.postMessage({ kind: "control", batch: pending } satisfies WorkerMessage, pendingBuffers);
    pending = [];
    pendingBuffers = [];
  };

  const sendIcmp = (offset: number, length: number): void => {
    if (icmpTokens <= 0) return;
    const local = Atomics.load(g, G.LOCAL_ADDRESS) >>> 0;
    // RFC 792: host unreachable (code 1), as l2tpns sends for an address with no session.
    const r = buildIcmpUnreachable(downBuf.subarray(offset, offset + length), local, { code: 1 });
    if (!r.ok) return;
    icmpTokens--;
    Atomics.add(g, statBase + WorkerStat.ICMP_SENT, 1);
    tunOffsets[0] = 0;
    tunLens[0] = r.value.length;
    native.tunWrite(init.tunFd, r.value, tunOffsets, tunLens, 1);
  };

  for (;;) {
    // With packets waiting in a shaper, wake every millisecond to let them out on time.
    const ready = native.wait(init.udpFd, init.tunFd, init.wakeFd, upShaper.pending || downShaper.pending ? 1 : 1000);
    if (Atomics.load(g, G.STOP) !== 0) break;
    const gen = Atomics.load(g, G.PLUGIN_GEN);
    if (gen !== pluginGen) {
      pluginGen = gen;
      await reloadPlugins();
    }
    const now = Date.now();
    const second = Math.floor(now / 1000);
    if (second !== lastSecond) {
      lastSecond = second;
      controlTokens = init.controlRate;
      icmpTokens = Atomics.load(g, G.ICMP_RATE);
    }
    if ((ready & 1) !== 0) {
      // Upstream: a few batches per wake-up, so that a busy socket does not starve TUN.
      for (let round = 0; round < 4; round++) {
        const n = native.udpRecv(init.udpFd, upBuf, 0, SLOT, batch, upLens, upAddrs);
        if (n <= 0) break;
        Atomics.add(g, statBase + WorkerStat.BATCHES, 1);
        Atomics.add(g, statBase + WorkerStat.UDP_IN, n);
        let w = 0;
        let k = 0;
        for (let i = 0; i < n; i++) {
          const len = upLens[i] ?? -1;
          const off = i * SLOT;
          if (len < 0) {
            Atomics.add(g, statBase + WorkerStat.TRUNCATED, 1);
            continue;
          }
          const address = upAddrs[2 * i] ?? 0;
          const p = upAddrs[2 * i + 1] ?? 0;
          const r = upstream(t, statBase, upBuf, off, len, address, p, now);
          if (r === Up.ToTun) {
            if (hooks.rx && !packetHook("packet_rx", upOut.slot, upBuf, upOut.offset, upOut.length)) continue;
            tunOffsets[w] = upOut.offset;
            tunLens[w] = upOut.length;
            w++;
            if (upOut.snoopPort !== 0) k = queueSnoop(k, upOut.offset, upOut.length, upOut.snoopAddress, upOut.snoopPort);
          } else if (r === Up.Shape) {
            if (hooks.rx && !packetHook("packet_rx", upOut.slot, upBuf, upOut.offset, upOut.length)) continue;
            if (!upShaper.enqueue(upOut.slot, upBuf, upOut.offset, upOut.length, upOut.length, 0, 0)) throttleDrop(upOut.slot);
            else if (upOut.snoopPort !== 0) k = queueSnoop(k, upOut.offset, upOut.length, upOut.snoopAddress, upOut.snoopPort);
          } else if (r === Up.ToControl) {
            toControl(off, len, address, p);
          }
        }
        if (w > 0) {
          const written = native.tunWrite(init.tunFd, upBuf, tunOffsets, tunLens, w);
          Atomics.add(g, statBase + WorkerStat.TUN_OUT, written);
          if (written < w) Atomics.add(g, statBase + WorkerStat.TUN_WRITE_FAILED, w - written);
        }
        snoop(upBuf, k);
        flushControl();
        if (n < batch) break;
      }
    }
    if ((ready & 2) !== 0) {
      const tenth = Math.floor(now / 100) | 0;
      for (let round = 0; round < 4; round++) {
        const n = native.tunRead(init.tunFd, downBuf, HEADROOM, SLOT, batch, downLens);
        if (n <= 0) break;
        Atomics.add(g, statBase + WorkerStat.TUN_IN, n);
        let s = 0;
        let k = 0;
        for (let i = 0; i < n; i++) {
          const off = i * SLOT + HEADROOM;
          const len = downLens[i] ?? 0;
          const r = downstream(t, statBase, downBuf, off, len, tenth, now);
          if (r === Down.ToLac) {
            if (hooks.tx && !packetHook("packet_tx", downOut.slot, downBuf, downOut.ipOffset, downOut.ipLength)) continue;
            sendOffsets[s] = downOut.offset;
            sendLens[s] = downOut.length;
            sendAddrs[2 * s] = downOut.address;
            sendAddrs[2 * s + 1] = downOut.port;
            s++;
            if (downOut.snoopPort !== 0) k = queueSnoop(k, downOut.ipOffset, downOut.ipLength, downOut.snoopAddress, downOut.snoopPort);
          } else if (r === Down.Shape) {
            if (hooks.tx && !packetHook("packet_tx", downOut.slot, downBuf, downOut.ipOffset, downOut.ipLength)) continue;
            if (!downShaper.enqueue(downOut.slot, downBuf, downOut.offset, downOut.length, downOut.ipLength, downOut.address, downOut.port)) throttleDrop(downOut.slot);
            else if (downOut.snoopPort !== 0) k = queueSnoop(k, downOut.ipOffset, downOut.ipLength, downOut.snoopAddress, downOut.snoopPort);
          } else if (r === Down.NoSession) {
            Atomics.add(g, statBase + WorkerStat.NO_SESSION, 1);
            sendIcmp(off, len);
          }
        }
        if (s > 0) {
          const sent = native.udpSend(init.udpFd, downBuf, sendOffsets, sendLens, sendAddrs, s);
          Atomics.add(g, statBase + WorkerStat.UDP_OUT, sent);
          if (sent < s) Atomics.add(g, statBase + WorkerStat.SEND_FAILED, s - sent);
        }
        snoop(downBuf, k);
        if (n < batch) break;
      }
    }
    if (upShaper.pending || downShaper.pending) drainShapers(now);
  }
  // Nothing may keep the thread alive once the loop is left.
  port.off("message", onPlugins);
  await host?.unloadAll();
}

const init = workerData as WorkerInit | null;
if (parentPort !== null && init !== null) {
  const p = parentPort;
  run(init, p).catch((e: unknown) => {
    p.postMessage({ kind: "log", level: "error", reason: "dataplane-worker", message: `data worker ${init.index} stopped: ${e instanceof Error ? e.message : String(e)}` } satisfies WorkerMessage);
    process.exit(1);
  });
}
