// Packet capture around a run: dumpcap writes what crosses an interface to a file, tshark dissects
// it afterwards so tests and benchmarks can hold what was on the wire against an independent
// decoder. Runs child processes (DUMPCAP and TSHARK override the programs); capturing needs root
// or the capture capabilities.
import { execFile, spawn } from "node:child_process";
import { stat } from "node:fs/promises";
import { l2tpMessageTypeName } from "@lnsd/wire";

export interface CaptureOptions {
  /** Interface to capture on, e.g. "lo". */
  readonly iface: string;
  /** A capture filter (pcap-filter(7)), e.g. "udp port 1701". */
  readonly filter: string;
  /** Where to write the capture (pcapng). */
  readonly file: string;
  /** How long to wait for the capture to start (default 10 s). */
  readonly startTimeoutMs?: number;
}

export interface CaptureStats {
  readonly captured?: number;
  /** Packets the kernel or dumpcap dropped: a capture with drops cannot be counted on. */
  readonly dropped?: number;
  /** What dumpcap printed, for error messages. */
  readonly output: string;
}

export interface RunningCapture {
  readonly file: string;
  readonly pid: number;
  /** Stops the capture with SIGINT (so the file is complete) and waits for the program to exit. */
  stop(): Promise<CaptureStats>;
}

const DUMPCAP = process.env.DUMPCAP ?? "dumpcap";
const TSHARK = process.env.TSHARK ?? "tshark";

/** Whether we can capture on interfaces: root, or dumpcap with its capabilities (CI runs as root). */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Starts dumpcap and resolves once it says it is capturing and the file exists. */
export async function startCapture(opts: CaptureOptions): Promise<RunningCapture> {
  const child = spawn(DUMPCAP, ["-i", opts.iface, "-f", opts.filter, "-w", opts.file], { stdio: ["ignore", "ignore", "pipe"] });
  let output = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d: string) => { output += d; });
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => { resolve(code); });
    child.once("error", (e) => {
      output += `\n${e.message}`;
      resolve(null);
    });
  });
  // An object, not a let: flow analysis cannot see the callback set it.
  const status = { done: false };
  void exited.then(() => { status.done = true; });
  const deadline = performance.now() + (opts.startTimeoutMs ?? 10_000);
  for (;;) {
    if (status.done) throw new Error(`${DUMPCAP} exited before capturing: ${output.trim()}`);
    if (output.includes("Capturing on") && (await fileExists(opts.file))) break;
    if (performance.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${DUMPCAP} did not start capturing in time: ${output.trim()}`);
    }
    await sleep(20);
  }
  const pid = child.pid ?? 0;
  return {
    file: opts.file,
    pid,
    async stop() {
      // child.kill, never process.kill(pid): a pid of 0 would signal our whole process group.
      if (!status.done) child.kill("SIGINT");
      await exited;
      const captured = /Packets captured: (\d+)/.exec(output)?.[1];
      // "Packets received/dropped on interface 'Loopback: lo': 4134/0 (pcap:0/dumpcap:0/...)"
      const dropped = /received\/dropped on interface '.*?': \d+\/(\d+)/.exec(output)?.[1];
      return {
        output,
        ...(captured === undefined ? {} : { captured: Number(captured) }),
        ...(dropped === undefined ? {} : { dropped: Number(dropped) }),
      };
    },
  };
}

async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function runTshark(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(TSHARK, args, { maxBuffer: 1024 * 1024 * 1024, encoding: "utf8" }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${TSHARK} ${args.join(" ")}: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** What tshark made of a capture of L2TP traffic. */
export interface L2tpCaptureSummary {
  readonly frames: number;
  /** Frame numbers tshark did not dissect as L2TP over UDP. */
  readonly notL2tp: readonly number[];
  /** Frame numbers tshark marked "Malformed Packet". */
  readonly malformed: readonly number[];
  /** Frame numbers with an expert item of severity error, and warning. */
  readonly expertErrors: readonly number[];
  readonly expertWarnings: readonly number[];
  /** Control messages by type ("SCCRQ", "ICRQ", "ZLB"...), every copy on the wire counted. */
  readonly messages: Readonly<Record<string, number>>;
  /**
   * The same without retransmissions and duplicates: distinct (sender, tunnel, Ns) per type
   * (and Assigned Tunnel ID for messages to tunnel 0).
   * ZLBs carry no Ns of their own (RFC 2661 5.8) and are left out.
   */
  readonly distinctMessages: Readonly<Record<string, number>>;
  readonly dataMessages: number;
}

// epan/proto.h: PI_WARN and PI_ERROR in the PI_SEVERITY_MASK bits, as tshark prints them.
const PI_WARN = 0x00600000;
const PI_ERROR = 0x00800000;

const FIELDS = ["frame.number", "frame.protocols", "udp.srcport", "l2tp.type", "l2tp.tunnel", "l2tp.Ns", "l2tp.avp.message_type", "l2tp.avp.assigned_tunnel_id", "_ws.malformed", "_ws.expert.severity"] as const;

/**
 * Dissects a capture with tshark, decoding UDP port `l2tpPort` as L2TP (tshark does so only for
 * 1701 by itself), and summarises it. Uses -T fields, which stays cheap for thousands of frames.
 */
export async function summarizeL2tpCapture(file: string, l2tpPort: number): Promise<L2tpCaptureSummary> {
  const args = ["-n", "-r", file, "-d", `udp.port==${l2tpPort},l2tp`, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"];
  for (const f of FIELDS) args.push("-e", f);
  const out = await runTshark(args);
  const notL2tp: number[] = [];
  const malformed: number[] = [];
  const expertErrors: number[] = [];
  const expertWarnings: number[] = [];
  const messages = new Map<string, number>();
  const distinct = new Map<string, Set<string>>();
  let frames = 0;
  let dataMessages = 0;
  for (const line of out.split("\n")) {
    if (line === "") continue;
    frames++;
    const [num = "", protocols = "", srcPort = "", type = "", tunnel = "", ns = "", messageType = "", assignedTunnel = "", bad = "", severity = ""] = line.split("\t");
    const n = Number(num);
    if (!protocols.split(":").includes("l2tp") || !/udp:l2tp/.test(protocols)) notL2tp.push(n);
    if (bad !== "") malformed.push(n);
    const severities = severity === "" ? [] : severity.split(",").map(Number);
    if (severities.some((s) => s >= PI_ERROR)) expertErrors.push(n);
    else if (severities.some((s) => s >= PI_WARN)) expertWarnings.push(n);
    // l2tp.type is the T bit: 1 for control messages (tshark prints "1" or "True" by version).
    if (type !== "1" && type.toLowerCase() !== "true") {
      if (type !== "") dataMessages++;
      continue;
    }
    const name = messageType === "" ? "ZLB" : messageType.split(",").map((m) => l2tpMessageTypeName(Number(m))).join("+");
    messages.set(name, (messages.get(name) ?? 0) + 1);
    if (name === "ZLB") continue;
    let set = distinct.get(name);
    if (set === undefined) {
      set = new Set();
      distinct.set(name, set);
    }
    // SCCRQs all go to tunnel 0 with Ns 0: their Assigned Tunnel ID tells them apart.
    set.add(`${srcPort}/${tunnel}/${ns}/${tunnel === "0" ? assignedTunnel : ""}`);
  }
  return {
    frames,
    notL2tp,
    malformed,
    expertErrors,
    expertWarnings,
    messages: Object.fromEntries(messages),
    distinctMessages: Object.fromEntries([...distinct].map(([k, v]) => [k, v.size])),
    dataMessages,
  };
}
