// Fuzzes every PPP decoder (100,000 inputs each, mutated from the realistic samples). Besides never
// throwing, a decode that succeeds must survive encode: byte for byte up to Length for the
// control protocols, and as the same value after a second decode for frames and PAP.
import { isDeepStrictEqual } from "node:util";
import t from "tap";
import {
  PppProtocol,
  type Result,
  type WireError,
  decodeCcp,
  decodeChap,
  decodeIpcp,
  decodeIpv6cp,
  decodeLcp,
  decodePap,
  decodePppFrame,
  encodeCcp,
  encodeChap,
  encodeIpcp,
  encodeIpv6cp,
  encodeLcp,
  encodePap,
  encodePppFrame,
} from "../src/index.js";
import { fuzzDecoder } from "./lib/fuzz.js";
import { pppSamples } from "./lib/ppp-samples.js";

const RUNS = 100_000;
const samples = pppSamples();

function infos(protocol: number): Buffer[] {
  return samples
    .filter((s) => s.protocol === protocol)
    .map((s) => {
      const f = decodePppFrame(s.bytes);
      return f.ok ? Buffer.from(f.value.info) : Buffer.alloc(0);
    });
}

/** Wraps a control-packet decoder: a successful decode must re-encode to the same octets. */
function canonical<T>(decode: (b: Uint8Array) => Result<T, WireError>, encode: (v: T) => Buffer): (b: Buffer) => Result<T, WireError> {
  return (b) => {
    const r = decode(b);
    if (r.ok) {
      const length = b.readUInt16BE(2);
      if (!encode(r.value).equals(b.subarray(0, length))) throw new Error("re-encoding differs from the input");
    }
    return r;
  };
}

/** Wraps a decoder whose encoding is not unique: decode(encode(v)) must give v back. */
function stable<T>(decode: (b: Uint8Array) => Result<T, WireError>, encode: (v: T) => Buffer): (b: Buffer) => Result<T, WireError> {
  return (b) => {
    const r = decode(b);
    if (r.ok) {
      const again = decode(encode(r.value));
      if (!again.ok || !isDeepStrictEqual(again.value, r.value)) throw new Error("decode(encode(v)) differs from v");
    }
    return r;
  };
}

const decoders: [string, (b: Buffer) => Result<unknown, WireError>, Buffer[]][] = [
  [
    "ppp-frame",
    stable(decodePppFrame, (f) =>
      // RFC 1661 6.6: the encoder always restores FF 03 on LCP, so compare the rest only.
      f.protocol === PppProtocol.LCP && !f.addressControl
        ? encodePppFrame(f.protocol, f.info, { addressControl: true }).subarray(2)
        : encodePppFrame(f.protocol, f.info, { addressControl: f.addressControl, compressProtocol: f.protocolCompressed }),
    ),
    samples.map((s) => s.bytes),
  ],
  ["ppp-lcp", canonical(decodeLcp, (p) => encodeLcp(p)), infos(PppProtocol.LCP)],
  ["ppp-pap", stable(decodePap, encodePap), infos(PppProtocol.PAP)],
  ["ppp-chap", canonical(decodeChap, encodeChap), infos(PppProtocol.CHAP)],
  ["ppp-ipcp", canonical(decodeIpcp, (p) => encodeIpcp(p)), infos(PppProtocol.IPCP)],
  ["ppp-ipv6cp", canonical(decodeIpv6cp, (p) => encodeIpv6cp(p)), infos(PppProtocol.IPV6CP)],
  ["ppp-ccp", canonical(decodeCcp, (p) => encodeCcp(p)), infos(PppProtocol.CCP)],
];

for (const [name, decode, seeds] of decoders) {
  void t.test(`fuzz ${name}`, (t) => {
    t.ok(seeds.length > 0, "has seeds");
    for (const s of seeds) t.ok(decode(s).ok, `seed ${s.toString("hex").slice(0, 24)} decodes`);
    t.same(fuzzDecoder(name, decode, { seeds, runs: RUNS }), []);
    t.end();
  });
}
