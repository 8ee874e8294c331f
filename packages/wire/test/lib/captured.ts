// Captured test vectors: real L2TP/PPP packets between xl2tpd+pppd and l2tpns 2.4.1, kept in
// test/vectors/captured/ as <name>.pcap plus <name>.json (each packet's UDP payload and what
// tshark decoded from it). This module reads those files for tests and, run as a program, writes
// the JSON from a pcap (see test/vectors/captured/extract.sh). Runs in the test process only.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isJsonArray, isJsonObject, member, parseOrderedJson, toPlain } from "./ordered-json.js";
import type { JsonObject, JsonValue } from "./ordered-json.js";
import { bytesField, dissectFile, fieldValue, layer, summarize, tsharkVersion } from "./tshark.js";
import type { Endpoint, TsharkSummary } from "./tshark.js";

const here = dirname(fileURLToPath(import.meta.url));
// Compiled to dist/test/lib; the vectors live in the source tree.
export const capturedDir = join(here, "..", "..", "..", "test", "vectors", "captured");

export type Direction = "lac->lns" | "lns->lac";

export interface CapturedPacket {
  /** Frame number in the pcap (1-based). */
  readonly frame: number;
  /** Seconds since the first frame, as tshark printed frame.time_relative. */
  readonly timeRelative: string;
  readonly direction: Direction;
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly udpPayloadHex: string;
  /** summarize() of tshark's dissection when extracted; plain JSON, compared with t.same. */
  readonly tshark: unknown;
}

export interface CapturedFile {
  readonly name: string;
  readonly pcap: string;
  readonly description: string;
  readonly lac: string;
  readonly lns: string;
  /** L2TP tunnel secret both ends were configured with, or null for none. */
  readonly tunnelSecret: string | null;
  readonly user: string;
  readonly password: string;
  readonly tsharkVersion: string;
  readonly packets: readonly CapturedPacket[];
}

// ---------------------------------------------------------------------------------------------
// Loading

function str(obj: JsonObject, key: string, where: string): string {
  const v = member(obj, key);
  if (typeof v !== "string") throw new Error(`${where}: "${key}" is not a string`);
  return v;
}

function num(obj: JsonObject, key: string, where: string): number {
  const v = member(obj, key);
  if (typeof v !== "number") throw new Error(`${where}: "${key}" is not a number`);
  return v;
}

function endpoint(v: JsonValue | undefined, where: string): Endpoint {
  if (!isJsonObject(v)) throw new Error(`${where}: endpoint is not an object`);
  return { addr: str(v, "addr", where), port: num(v, "port", where) };
}

function direction(v: string, where: string): Direction {
  if (v === "lac->lns" || v === "lns->lac") return v;
  throw new Error(`${where}: bad direction "${v}"`);
}

export function parseCapturedFile(text: string, where: string): CapturedFile {
  const doc = parseOrderedJson(text);
  if (!isJsonObject(doc)) throw new Error(`${where}: not a JSON object`);
  const secret = member(doc, "tunnelSecret");
  if (secret !== null && typeof secret !== "string") throw new Error(`${where}: tunnelSecret must be a string or null`);
  const packets = member(doc, "packets");
  if (!isJsonArray(packets)) throw new Error(`${where}: "packets" is not an array`);
  return {
    name: str(doc, "name", where),
    pcap: str(doc, "pcap", where),
    description: str(doc, "description", where),
    lac: str(doc, "lac", where),
    lns: str(doc, "lns", where),
    tunnelSecret: secret,
    user: str(doc, "user", where),
    password: str(doc, "password", where),
    tsharkVersion: str(doc, "tsharkVersion", where),
    packets: packets.items.map((p, i) => {
      const at = `${where} packet ${i}`;
      if (!isJsonObject(p)) throw new Error(`${at}: not an object`);
      const ts = member(p, "tshark");
      return {
        frame: num(p, "frame", at),
        timeRelative: str(p, "timeRelative", at),
        direction: direction(str(p, "direction", at), at),
        from: endpoint(member(p, "from"), at),
        to: endpoint(member(p, "to"), at),
        udpPayloadHex: str(p, "udpPayloadHex", at),
        tshark: ts === undefined ? undefined : toPlain(ts),
      };
    }),
  };
}

/** Every capture in test/vectors/captured, by name. */
export function loadCaptured(dir: string = capturedDir): CapturedFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => parseCapturedFile(readFileSync(join(dir, f), "utf8"), f));
}

// ---------------------------------------------------------------------------------------------
// Extraction (run as a program)

export interface ExtractOptions {
  readonly description: string;
  readonly tunnelSecret: string | null;
  readonly user: string;
  readonly password: string;
}

function outerEndpoints(src: string | undefined, dst: string | undefined, sport: string | undefined, dport: string | undefined, frame: number): [Endpoint, Endpoint] {
  if (src === undefined || dst === undefined || sport === undefined || dport === undefined) {
    throw new Error(`frame ${frame}: not IPv4/UDP`);
  }
  return [
    { addr: src, port: Number(sport) },
    { addr: dst, port: Number(dport) },
  ];
}

/** Dissects `pcapPath` with tshark and builds the vector file; the LAC is whoever sent the SCCRQ. */
export async function extractCapture(pcapPath: string, opts: ExtractOptions): Promise<CapturedFile> {
  const frames = await dissectFile(pcapPath);
  const version = (await tsharkVersion()) ?? "unknown";
  const rows = frames.map((f) => {
    const ip = layer(f, "ip");
    const udp = layer(f, "udp");
    if (ip === undefined || udp === undefined) throw new Error(`frame ${f.number}: not IPv4/UDP`);
    const [from, to] = outerEndpoints(fieldValue(ip, "ip.src"), fieldValue(ip, "ip.dst"), fieldValue(udp, "udp.srcport"), fieldValue(udp, "udp.dstport"), f.number);
    const payload = bytesField(fieldValue(udp, "udp.payload") ?? "");
    const udpLength = Number(fieldValue(udp, "udp.length"));
    if (payload.length !== udpLength - 8) throw new Error(`frame ${f.number}: payload ${payload.length} bytes, UDP length ${udpLength}`);
    const frameLayer = layer(f, "frame");
    const timeRelative = (frameLayer === undefined ? undefined : fieldValue(frameLayer, "frame.time_relative")) ?? "";
    return { frame: f.number, timeRelative, from, to, payload, summary: summarize(f) };
  });
  const sccrq = rows.find((r) => r.summary.l2tp?.avps[0]?.["l2tp.avp.message_type"] === "1");
  const lac = (sccrq ?? rows[0])?.from.addr;
  const lns = (sccrq ?? rows[0])?.to.addr;
  if (lac === undefined || lns === undefined) throw new Error(`${pcapPath}: no packets`);
  const name = basename(pcapPath).replace(/\.pcap(ng)?$/, "");
  return {
    name,
    pcap: basename(pcapPath),
    description: opts.description,
    lac,
    lns,
    tunnelSecret: opts.tunnelSecret,
    user: opts.user,
    password: opts.password,
    tsharkVersion: version,
    packets: rows.map((r) => {
      const packet: CapturedPacket & { tshark: TsharkSummary } = {
        frame: r.frame,
        timeRelative: r.timeRelative,
        direction: r.from.addr === lac ? "lac->lns" : "lns->lac",
        from: r.from,
        to: r.to,
        udpPayloadHex: r.payload.toString("hex"),
        tshark: r.summary,
      };
      return packet;
    }),
  };
}

function usage(): never {
  throw new Error("usage: node captured.js PCAP --description TEXT [--secret S] [--user U] [--password P] [--out FILE.json]");
}

async function main(argv: readonly string[]): Promise<void> {
  let pcap: string | undefined;
  let description = "";
  let secret: string | null = null;
  let user = "test";
  let password = "test";
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => argv[++i] ?? usage();
    if (a === "--description") description = next();
    else if (a === "--secret") secret = next();
    else if (a === "--user") user = next();
    else if (a === "--password") password = next();
    else if (a === "--out") out = next();
    else if (a !== undefined && !a.startsWith("--")) pcap = a;
    else usage();
  }
  if (pcap === undefined) usage();
  const file = await extractCapture(pcap, { description, tunnelSecret: secret, user, password });
  const target = out ?? pcap.replace(/\.pcap(ng)?$/, "") + ".json";
  writeFileSync(target, JSON.stringify(file, null, 2) + "\n");
  console.log(`${target}: ${file.packets.length} packets (LAC ${file.lac}, LNS ${file.lns})`);
}

const invoked = process.argv[1];
if (invoked !== undefined && import.meta.url === pathToFileURL(invoked).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exitCode = 1;
  });
}
