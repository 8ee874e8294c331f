// One TCP flow of crafted segments (no handshake: only their order matters) for the data-plane
// test: the segment builder the LAC side sends with, the summary both ends report, and the two
// Python programs the "internet" host runs (a capture by AF_PACKET of the segments to an address
// it does not own, so that no stack answers them; a sender by an IPPROTO_RAW socket).
import { IpProtocol, l4ChecksumV4, writeIpv4Header } from "@lnsd/wire";

export const SEGMENT_PAYLOAD_BYTES = 64;

export interface TcpSegmentInit {
  readonly src: number;
  readonly dst: number;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly identification: number;
}

/** IPv4 + TCP (ACK|PSH) + 64 bytes, checksums right. */
export function buildTcpSegment(s: TcpSegmentInit): Buffer {
  const total = 20 + 20 + SEGMENT_PAYLOAD_BYTES;
  const b = Buffer.alloc(total);
  writeIpv4Header(b, 0, { totalLength: total, identification: s.identification & 0xffff, dontFragment: true, protocol: IpProtocol.TCP, src: s.src, dst: s.dst });
  b.writeUInt16BE(s.srcPort, 20);
  b.writeUInt16BE(s.dstPort, 22);
  b.writeUInt32BE(s.seq >>> 0, 24);
  b.writeUInt32BE(1, 28);
  b[32] = 5 << 4;
  b[33] = 0x18;
  b.writeUInt16BE(65_535, 34);
  b.fill(0x5a, 40);
  b.writeUInt16BE(l4ChecksumV4(b, 0, 20, total, IpProtocol.TCP), 36);
  return b;
}

/** How a flow arrived. reordered: segments that came after one with a higher sequence number. */
export interface OrderSummary {
  readonly received: number;
  readonly distinct: number;
  readonly reordered: number;
  readonly duplicates: number;
  /** The first few reorderings, as "seq after maxSeenBefore". */
  readonly examples: readonly string[];
}

export function summarize(seqs: readonly number[]): OrderSummary {
  let max = -1;
  let reordered = 0;
  const seen = new Set<number>();
  let duplicates = 0;
  const examples: string[] = [];
  for (const s of seqs) {
    if (seen.has(s)) duplicates++;
    seen.add(s);
    if (s < max) {
      reordered++;
      if (examples.length < 10) examples.push(`${s} after ${max}`);
    } else max = s;
  }
  return { received: seqs.length, distinct: seen.size, reordered, duplicates, examples };
}

/**
 * argv: interface, destination address, destination port, count, first-packet timeout s.
 * Prints {"ready": true} once capturing, then {"summary": OrderSummary} (the same arithmetic).
 */
export const CAPTURE_PY = `
import json, socket, struct, sys
ifname, dst, dport, count, first = sys.argv[1], socket.inet_aton(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
s.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)  # SO_RCVBUFFORCE
s.bind((ifname, 0x0800))
print(json.dumps({"ready": True}), flush=True)
seqs = []
s.settimeout(first)
while len(seqs) < count:
    try:
        p = s.recv(65535)
    except socket.timeout:
        break
    if len(p) < 40 or p[9] != 6 or p[16:20] != dst:
        continue
    ihl = (p[0] & 15) * 4
    if struct.unpack("!H", p[ihl + 2:ihl + 4])[0] != dport:
        continue
    seqs.append(struct.unpack("!I", p[ihl + 4:ihl + 8])[0])
    s.settimeout(1.0)
mx, reordered, dup, seen, ex = -1, 0, 0, set(), []
for q in seqs:
    if q in seen:
        dup += 1
    seen.add(q)
    if q < mx:
        reordered += 1
        if len(ex) < 10:
            ex.append("%d after %d" % (q, mx))
    else:
        mx = q
print(json.dumps({"summary": {"received": len(seqs), "distinct": len(seen), "reordered": reordered, "duplicates": dup, "examples": ex}}), flush=True)
`;

/**
 * argv: source, destination, first source port, destination port, count per flow, flows, mark.
 * Flow f comes from the first source port + f; the flows' segments (sequence numbers i * 64) are
 * interleaved and sent back to back. Prints {"sending": n} once n = mark have gone,
 * {"sentSeconds": s} after the last.
 */
export const SEND_PY = `
import socket, struct, sys, time
src, dst = socket.inet_aton(sys.argv[1]), socket.inet_aton(sys.argv[2])
sport, dport, count, flows, mark = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
def csum(b):
    if len(b) % 2:
        b += b"\\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
payload = b"\\x5a" * ${SEGMENT_PAYLOAD_BYTES}
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
pkts = []
for i in range(count):
    for f in range(flows):
        tcp = struct.pack("!HHIIBBHHH", sport + f, dport, i * ${SEGMENT_PAYLOAD_BYTES}, 1, 5 << 4, 0x18, 65535, 0, 0) + payload
        c = csum(src + dst + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
        tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), len(pkts) & 0xffff, 0x4000, 64, 6, 0, src, dst)
        pkts.append(ip + tcp)
t0 = time.monotonic()
for n, p in enumerate(pkts):
    if n == mark:
        print('{"sending": %d}' % n, flush=True)
    for attempt in range(2000):
        try:
            s.sendto(p, (sys.argv[2], 0))
            break
        except OSError:  # ENOBUFS, EAGAIN: the queue is full for a moment
            time.sleep(0.0005)
    else:
        raise SystemExit("sendto keeps failing")
print('{"sentSeconds": %.3f}' % (time.monotonic() - t0), flush=True)
`;
