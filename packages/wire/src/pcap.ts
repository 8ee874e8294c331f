// Classic libpcap file encoder and reader (https://www.tcpdump.org/manpages/pcap-savefile.5.html) and an
// IPv4+UDP packet builder, so tests can hand our L2TP/PPP bytes to tshark as UDP port 1701.
// Pure: no I/O, no clock; the caller writes the returned bytes wherever it likes.
import { l4ChecksumV4 } from "./ip/checksum.js";
import { decodeIpv4Header, IPV4_MIN_HEADER_LENGTH, IpProtocol, parseIpv4, writeIpv4Header } from "./ip/ipv4.js";
import { DROP, wireError, type WireError } from "./errors.js";
import { err, ok, type Result } from "./result.js";

/** LINKTYPE_ETHERNET: each record starts with a 14-byte Ethernet II header. */
export const LINKTYPE_ETHERNET = 1;
/** LINKTYPE_RAW: each record is a bare IPv4 or IPv6 packet (version nibble tells which). */
export const LINKTYPE_RAW = 101;
/** LINKTYPE_LINUX_SLL: Linux "cooked" capture (what `dumpcap -i any` writes). */
export const LINKTYPE_LINUX_SLL = 113;

/** The magic of a microsecond-resolution classic pcap file. */
export const PCAP_MAGIC = 0xa1b2c3d4;
/** The same format with nanosecond timestamps. */
export const PCAP_MAGIC_NS = 0xa1b23c4d;
export const PCAP_VERSION_MAJOR = 2;
export const PCAP_VERSION_MINOR = 4;
/** Default snapshot length, as libpcap uses today. */
export const PCAP_DEFAULT_SNAPLEN = 262144;

const GLOBAL_HEADER_BYTES = 24;
const RECORD_HEADER_BYTES = 16;

export interface PcapRecord {
  /** Microseconds since the Unix epoch. Default: the record's index in milliseconds (0, 1000, ...). */
  readonly timestampUs?: number;
  readonly data: Uint8Array;
  /** Length on the wire when `data` is a truncated copy. Default: data.length. */
  readonly originalLength?: number;
}

export interface PcapOptions {
  /** Default LINKTYPE_RAW. */
  readonly linktype?: number;
  /** Default PCAP_DEFAULT_SNAPLEN; no record may be longer. */
  readonly snaplen?: number;
}

function checkUint(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`pcap: ${name} ${value} is not an integer in 0..${max}`);
  }
}

/**
 * A classic pcap file: 24-byte global header (magic 0xa1b2c3d4, version 2.4, thiszone 0,
 * sigfigs 0, snaplen, linktype), then per record a 16-byte header (ts_sec, ts_usec, incl_len,
 * orig_len) and the bytes. Written big-endian, so the file starts a1 b2 c3 d4 (readers accept
 * either byte order by looking at the magic). Throws RangeError on values a pcap cannot hold.
 */
export function encodePcap(records: readonly PcapRecord[], options: PcapOptions = {}): Buffer {
  const linktype = options.linktype ?? LINKTYPE_RAW;
  const snaplen = options.snaplen ?? PCAP_DEFAULT_SNAPLEN;
  checkUint("linktype", linktype, 0xffffffff);
  checkUint("snaplen", snaplen, 0x7fffffff);

  let total = GLOBAL_HEADER_BYTES;
  for (const r of records) total += RECORD_HEADER_BYTES + r.data.length;
  const out = Buffer.alloc(total);
  out.writeUInt32BE(PCAP_MAGIC, 0);
  out.writeUInt16BE(PCAP_VERSION_MAJOR, 4);
  out.writeUInt16BE(PCAP_VERSION_MINOR, 6);
  out.writeInt32BE(0, 8); // thiszone: timestamps are UTC
  out.writeUInt32BE(0, 12); // sigfigs
  out.writeUInt32BE(snaplen, 16);
  out.writeUInt32BE(linktype, 20);

  let off = GLOBAL_HEADER_BYTES;
  records.forEach((r, index) => {
    const ts = r.timestampUs ?? index * 1000;
    checkUint("timestampUs", ts, 0xffffffff * 1_000_000 + 999_999);
    const len = r.data.length;
    if (len > snaplen) throw new RangeError(`pcap: record ${index} has ${len} bytes, above snaplen ${snaplen}`);
    const orig = r.originalLength ?? len;
    checkUint("originalLength", orig, 0xffffffff);
    if (orig < len) throw new RangeError(`pcap: record ${index} originalLength ${orig} below its ${len} bytes`);
    out.writeUInt32BE(Math.floor(ts / 1_000_000), off);
    out.writeUInt32BE(ts % 1_000_000, off + 4);
    out.writeUInt32BE(len, off + 8);
    out.writeUInt32BE(orig, off + 12);
    out.set(r.data, off + RECORD_HEADER_BYTES);
    off += RECORD_HEADER_BYTES + len;
  });
  return out;
}

export interface Ipv4UdpOptions {
  /** Dotted quad, e.g. "192.0.2.1". */
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly payload: Uint8Array;
  /** Default 64. */
  readonly ttl?: number;
  /** IPv4 Identification; default 0. */
  readonly id?: number;
  /** Sets DF; default true (as Linux sends UDP). */
  readonly dontFragment?: boolean;
}

const UDP_HEADER_BYTES = 8;

/** A dotted quad as a u32; stricter than parseIpv4: no leading zeros ("010" is not 10 here). */
function addressOf(name: string, text: string): number {
  const n = /^(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,2})){3}$/.test(text) ? parseIpv4(text) : undefined;
  if (n === undefined) throw new RangeError(`pcap: ${name} "${text}" is not a dotted-quad IPv4 address`);
  return n;
}

/**
 * An IPv4 packet (20-byte header, no options) carrying one UDP datagram, with the IPv4 header
 * checksum (RFC 791) and the UDP checksum over the pseudo-header (RFC 768) filled in; a computed
 * UDP checksum of 0 is sent as 0xffff (RFC 768). Suitable as a LINKTYPE_RAW record.
 * Throws RangeError on a bad address, port or a payload too large for one datagram.
 */
export function buildIpv4Udp(opts: Ipv4UdpOptions): Buffer {
  const src = addressOf("src", opts.src);
  const dst = addressOf("dst", opts.dst);
  checkUint("srcPort", opts.srcPort, 0xffff);
  checkUint("dstPort", opts.dstPort, 0xffff);
  const ttl = opts.ttl ?? 64;
  const id = opts.id ?? 0;
  checkUint("ttl", ttl, 0xff);
  checkUint("id", id, 0xffff);
  const udpLength = UDP_HEADER_BYTES + opts.payload.length;
  const totalLength = IPV4_MIN_HEADER_LENGTH + udpLength;
  if (totalLength > 0xffff) throw new RangeError(`pcap: UDP payload of ${opts.payload.length} bytes does not fit in IPv4`);

  const pkt = Buffer.alloc(totalLength);
  writeIpv4Header(pkt, 0, { totalLength, identification: id, dontFragment: opts.dontFragment !== false, ttl, protocol: IpProtocol.UDP, src, dst });
  const udp = IPV4_MIN_HEADER_LENGTH;
  pkt.writeUInt16BE(opts.srcPort, udp);
  pkt.writeUInt16BE(opts.dstPort, udp + 2);
  pkt.writeUInt16BE(udpLength, udp + 4);
  pkt.set(opts.payload, udp + UDP_HEADER_BYTES);
  const sum = l4ChecksumV4(pkt, 0, udp, totalLength, IpProtocol.UDP);
  pkt.writeUInt16BE(sum === 0 ? 0xffff : sum, udp + 6);
  return pkt;
}

// ---- reading ----------------------------------------------------------------------------------

export interface PcapFile {
  readonly linktype: number;
  readonly snaplen: number;
  readonly records: readonly { readonly timestampUs: number; readonly data: Uint8Array; readonly originalLength: number }[];
}

/**
 * Reads a classic pcap file in either byte order, microsecond or nanosecond timestamps. Total:
 * a truncated last record or a lying length is an error, never an exception.
 */
export function decodePcap(buf: Uint8Array): Result<PcapFile, WireError> {
  if (buf.length < GLOBAL_HEADER_BYTES) return err(wireError("truncated", `pcap header needs ${GLOBAL_HEADER_BYTES} octets`, DROP, buf.length));
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magicBe = view.getUint32(0, false);
  let le: boolean;
  let nano = false;
  if (magicBe === PCAP_MAGIC || magicBe === PCAP_MAGIC_NS) {
    le = false;
    nano = magicBe === PCAP_MAGIC_NS;
  } else if (view.getUint32(0, true) === PCAP_MAGIC || view.getUint32(0, true) === PCAP_MAGIC_NS) {
    le = true;
    nano = view.getUint32(0, true) === PCAP_MAGIC_NS;
  } else {
    return err(wireError("bad-header", "not a classic pcap file (pcapng is not read)", DROP, magicBe));
  }
  const snaplen = view.getUint32(16, le);
  const linktype = view.getUint32(20, le);
  const records: { timestampUs: number; data: Uint8Array; originalLength: number }[] = [];
  let at = GLOBAL_HEADER_BYTES;
  while (at < buf.length) {
    if (at + RECORD_HEADER_BYTES > buf.length) return err(wireError("truncated", `pcap record header at ${at} cut short`, DROP, at));
    const sec = view.getUint32(at, le);
    const frac = view.getUint32(at + 4, le);
    const incl = view.getUint32(at + 8, le);
    const orig = view.getUint32(at + 12, le);
    at += RECORD_HEADER_BYTES;
    if (incl > buf.length - at) return err(wireError("bad-length", `pcap record of ${incl} octets runs past the file`, DROP, incl));
    records.push({ timestampUs: sec * 1e6 + (nano ? Math.floor(frac / 1000) : frac), data: buf.subarray(at, at + incl), originalLength: orig });
    at += incl;
  }
  return ok({ linktype, snaplen, records });
}

export interface UdpDatagram {
  readonly src: number;
  readonly srcPort: number;
  readonly dst: number;
  readonly dstPort: number;
  readonly payload: Uint8Array;
}

/**
 * The UDP datagram in one captured frame (raw IP, Ethernet or Linux cooked capture, IPv4 only;
 * the L2TP peers in our captures are IPv4). A frame that is not IPv4/UDP is an error.
 */
export function udpInFrame(linktype: number, frame: Uint8Array): Result<UdpDatagram, WireError> {
  let ipAt: number;
  let etherType: number;
  if (linktype === LINKTYPE_RAW) {
    ipAt = 0;
    etherType = 0x0800;
  } else if (linktype === LINKTYPE_ETHERNET) {
    ipAt = 14;
    etherType = ((frame[12] ?? 0) << 8) | (frame[13] ?? 0);
  } else if (linktype === LINKTYPE_LINUX_SLL) {
    ipAt = 16;
    etherType = ((frame[14] ?? 0) << 8) | (frame[15] ?? 0);
  } else {
    return err(wireError("bad-value", `link type ${linktype} not read`, DROP, linktype));
  }
  if (etherType !== 0x0800) return err(wireError("bad-value", `not IPv4 (ethertype 0x${etherType.toString(16)})`, DROP, etherType));
  const ip = decodeIpv4Header(frame, ipAt);
  if (!ip.ok) return ip;
  if (ip.value.protocol !== IpProtocol.UDP) return err(wireError("bad-value", `not UDP (protocol ${ip.value.protocol})`, DROP, ip.value.protocol));
  const udpAt = ipAt + ip.value.headerLength;
  const end = Math.min(frame.length, ipAt + ip.value.totalLength);
  if (udpAt + 8 > end) return err(wireError("truncated", "UDP header cut short", DROP, end - udpAt));
  const udpLength = ((frame[udpAt + 4] ?? 0) << 8) | (frame[udpAt + 5] ?? 0);
  if (udpLength < 8 || udpAt + udpLength > end) return err(wireError("bad-length", `UDP length ${udpLength} does not fit`, DROP, udpLength));
  return ok({
    src: ip.value.src,
    srcPort: ((frame[udpAt] ?? 0) << 8) | (frame[udpAt + 1] ?? 0),
    dst: ip.value.dst,
    dstPort: ((frame[udpAt + 2] ?? 0) << 8) | (frame[udpAt + 3] ?? 0),
    payload: frame.subarray(udpAt + 8, udpAt + udpLength),
  });
}
