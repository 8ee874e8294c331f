// The cluster's messages, one protobuf schema, version 1 (protobufjs, parsed from the text below
// when the module loads). Pings and heartbeats go by multicast as in l2tpns; the rest (the master's
// journal, acknowledgements, forwarded datagrams, counter reports) over one TCP stream per slave,
// which keeps them in order and flow-controlled. Record changes travel as the journal's own Entry
// messages (@lnsd/journal), so a replica is the journal's records. Pure; decoders are total.
import protobuf from "protobufjs";

/** Bumped when a node of the old schema could not read the new one; nodes of another version are ignored. */
export const CLUSTER_SCHEMA_VERSION = 1;

export const CLUSTER_PROTO = `
syntax = "proto3";
package lnsd.cluster.v1;

// A node that is not the master, every cluster_hb_interval (multicast).
message Ping {
  uint64 started_at_ms = 1;   // when the node started (epoch ms): the longest uptime wins an election
  uint64 version = 2;         // the newest record version it holds
  bool uptodate = 3;          // holds the master's state and acknowledges its changes
  uint64 epoch = 4;           // the newest master epoch it has seen
}

// The master, every cluster_hb_interval (multicast).
message Heartbeat {
  uint64 started_at_ms = 1;
  uint64 version = 2;         // the master's newest committed version
  uint32 port = 3;            // where slaves connect (TCP) for the replication stream
  uint32 uptodate_slaves = 4;
  uint32 tunnels = 5;
  uint32 sessions = 6;
}

// A slave, first on its replication stream: what it wants.
message Hello {
  uint64 started_at_ms = 1;
}

// The master's records in chunks, each record as it was when its chunk was made (no earlier than
// version); the last chunk has last set and consistent_at: once the slave has applied the changes
// up to that version, its copy is the master's state at a single version.
message Snapshot {
  uint64 version = 1;
  bool last = 2;
  repeated bytes entries = 3;  // lnsd.journal.v1.Entry, upserts
  uint64 consistent_at = 4;
}

// Record changes after the snapshot, in version order.
message Changes {
  repeated bytes entries = 1;  // lnsd.journal.v1.Entry
}

// A slave holds every change up to version.
message Ack {
  uint64 version = 1;
}

// A datagram a slave received for the master (an L2TP control message, PPP control, DAE).
message Forward {
  string address = 1;         // where it came from
  uint32 port = 2;
  bytes payload = 3;
  uint32 channel = 4;         // 0: L2TP (UDP 1701)
}

message SessionCounters {
  string id = 1;              // "tunnel/session" as the records name it
  uint64 rx_packets = 2;
  uint64 tx_packets = 3;
  uint64 rx_octets = 4;
  uint64 tx_octets = 5;
}

// Traffic a slave forwarded itself since its last report.
message Counters {
  repeated SessionCounters sessions = 1;
}

// The master stops (SIGTERM) and hands over: its state is final as of version.
message Resign {
  uint64 version = 1;
}

// A slave asks the master to act for it (an nsctl control request that reached the slave): kind
// names the request, body is the kind's own encoding (JSON today).
message Request {
  uint32 id = 1;
  string kind = 2;
  bytes body = 3;
}

// The master's answer to a Request.
message Response {
  uint32 id = 1;
  bytes body = 2;
}

message Message {
  uint32 schema = 1;
  string node = 2;            // the sender's cluster address
  uint64 epoch = 3;           // the master epoch the sender follows (or leads)
  oneof body {
    Ping ping = 10;
    Heartbeat heartbeat = 11;
    Hello hello = 12;
    Snapshot snapshot = 13;
    Changes changes = 14;
    Ack ack = 15;
    Forward forward = 16;
    Counters counters = 17;
    Resign resign = 18;
    Request request = 19;
    Response response = 20;
  }
}
`;

const root = protobuf.parse(CLUSTER_PROTO).root;
const MessageType = root.lookupType("lnsd.cluster.v1.Message");

export interface Ping { readonly startedAtMs: number; readonly version: number; readonly uptodate: boolean; readonly epoch: number }
export interface Heartbeat { readonly startedAtMs: number; readonly version: number; readonly port: number; readonly uptodateSlaves: number; readonly tunnels: number; readonly sessions: number }
export interface SessionCounters { readonly id: string; readonly rxPackets: number; readonly txPackets: number; readonly rxOctets: number; readonly txOctets: number }

export type Body =
  | { readonly type: "ping"; readonly ping: Ping }
  | { readonly type: "heartbeat"; readonly heartbeat: Heartbeat }
  | { readonly type: "hello"; readonly startedAtMs: number }
  | { readonly type: "snapshot"; readonly version: number; readonly last: boolean; readonly entries: readonly Uint8Array[]; readonly consistentAt: number }
  | { readonly type: "changes"; readonly entries: readonly Uint8Array[] }
  | { readonly type: "ack"; readonly version: number }
  | { readonly type: "forward"; readonly address: string; readonly port: number; readonly payload: Uint8Array; readonly channel: number }
  | { readonly type: "counters"; readonly sessions: readonly SessionCounters[] }
  | { readonly type: "resign"; readonly version: number }
  | { readonly type: "request"; readonly id: number; readonly kind: string; readonly body: Uint8Array }
  | { readonly type: "response"; readonly id: number; readonly body: Uint8Array };

export interface ClusterMessage {
  /** The sender's cluster address. */
  readonly node: string;
  readonly epoch: number;
  readonly body: Body;
}

export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

function bodyObject(b: Body): Record<string, unknown> {
  switch (b.type) {
    case "ping":
      return { ping: b.ping };
    case "heartbeat":
      return { heartbeat: b.heartbeat };
    case "hello":
      return { hello: { startedAtMs: b.startedAtMs } };
    case "snapshot":
      return { snapshot: { version: b.version, last: b.last, entries: b.entries, consistentAt: b.consistentAt } };
    case "changes":
      return { changes: { entries: b.entries } };
    case "ack":
      return { ack: { version: b.version } };
    case "forward":
      return { forward: { address: b.address, port: b.port, payload: b.payload, channel: b.channel } };
    case "counters":
      return { counters: { sessions: b.sessions } };
    case "resign":
      return { resign: { version: b.version } };
    case "request":
      return { request: { id: b.id, kind: b.kind, body: b.body } };
    case "response":
      return { response: { id: b.id, body: b.body } };
    default: {
      const never: never = b;
      return never;
    }
  }
}

export function encodeMessage(m: ClusterMessage): Buffer {
  const msg = MessageType.fromObject({ schema: CLUSTER_SCHEMA_VERSION, node: m.node, epoch: m.epoch, ...bodyObject(m.body) });
  return Buffer.from(MessageType.encode(msg).finish());
}

const num = (v: unknown): number => (typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : 0);
const str = (v: unknown): string => (typeof v === "string" ? v : "");
const obj = (v: unknown): Record<string, unknown> => (typeof v === "object" && v !== null ? (v as Record<string, unknown>) : {});
const bytesList = (v: unknown): Uint8Array[] => (Array.isArray(v) ? v.filter((x): x is Uint8Array => x instanceof Uint8Array) : []);

function decodeBody(which: unknown, o: Record<string, unknown>): Body | undefined {
  const b = obj(which === undefined ? undefined : o[str(which)]);
  switch (which) {
    case "ping":
      return { type: "ping", ping: { startedAtMs: num(b.startedAtMs), version: num(b.version), uptodate: b.uptodate === true, epoch: num(b.epoch) } };
    case "heartbeat":
      return { type: "heartbeat", heartbeat: { startedAtMs: num(b.startedAtMs), version: num(b.version), port: num(b.port), uptodateSlaves: num(b.uptodateSlaves), tunnels: num(b.tunnels), sessions: num(b.sessions) } };
    case "hello":
      return { type: "hello", startedAtMs: num(b.startedAtMs) };
    case "snapshot":
      return { type: "snapshot", version: num(b.version), last: b.last === true, entries: bytesList(b.entries), consistentAt: num(b.consistentAt) };
    case "changes":
      return { type: "changes", entries: bytesList(b.entries) };
    case "ack":
      return { type: "ack", version: num(b.version) };
    case "forward":
      return b.payload instanceof Uint8Array ? { type: "forward", address: str(b.address), port: num(b.port), payload: b.payload, channel: num(b.channel) } : undefined;
    case "counters":
      return {
        type: "counters",
        sessions: (Array.isArray(b.sessions) ? b.sessions : []).map((s) => {
          const c = obj(s);
          return { id: str(c.id), rxPackets: num(c.rxPackets), txPackets: num(c.txPackets), rxOctets: num(c.rxOctets), txOctets: num(c.txOctets) };
        }),
      };
    case "resign":
      return { type: "resign", version: num(b.version) };
    case "request":
      return b.body instanceof Uint8Array ? { type: "request", id: num(b.id), kind: str(b.kind), body: b.body } : undefined;
    case "response":
      return b.body instanceof Uint8Array ? { type: "response", id: num(b.id), body: b.body } : undefined;
    default:
      return undefined;
  }
}

export function decodeMessage(bytes: Uint8Array): Decoded<ClusterMessage> {
  let o: Record<string, unknown>;
  try {
    o = MessageType.toObject(MessageType.decode(bytes), { longs: Number, enums: String, defaults: true, oneofs: true, bytes: Buffer });
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
  if (num(o.schema) !== CLUSTER_SCHEMA_VERSION) return { ok: false, error: `schema version ${String(o.schema)}, not ${String(CLUSTER_SCHEMA_VERSION)}` };
  const body = decodeBody(o.body, o);
  if (body === undefined) return { ok: false, error: "no body" };
  const node = str(o.node);
  if (node === "") return { ok: false, error: "no sender" };
  return { ok: true, value: { node, epoch: num(o.epoch), body } };
}
