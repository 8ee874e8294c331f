// Fuzzes every L2TP decoder (header, control message without and with a secret) with 100,000
// random and mutated inputs each, seeded with valid encodings of every message type.
import t from "tap";
import { AvpType, decodeControlMessage, decodeL2tpHeader, ok, parseControlMessage, peekControlAvp, type Result, type WireError } from "../src/index.js";
import { fuzzDecoder } from "./lib/fuzz.js";
import { SAMPLE_SECRET, l2tpSamples } from "./lib/l2tp-samples.js";

const seeds = l2tpSamples().map((s) => s.bytes);

void t.test("decodeL2tpHeader never throws", (t) => {
  t.same(fuzzDecoder("l2tp-header", decodeL2tpHeader, { seeds, runs: 100_000 }), []);
  t.end();
});

void t.test("decodeControlMessage never throws (no secret)", (t) => {
  t.same(fuzzDecoder("l2tp-control", (b) => decodeControlMessage(b), { seeds, runs: 100_000, maxLength: 400 }), []);
  t.end();
});

void t.test("decodeControlMessage never throws (with the secret, hidden AVPs revealed)", (t) => {
  t.same(fuzzDecoder("l2tp-control-secret", (b) => decodeControlMessage(b, { secret: SAMPLE_SECRET }), { seeds, runs: 100_000, maxLength: 400 }), []);
  t.end();
});

void t.test("parseControlMessage never throws", (t) => {
  t.same(fuzzDecoder("l2tp-control-parse", (b) => parseControlMessage(b, { secret: SAMPLE_SECRET }), { seeds, runs: 100_000, maxLength: 400 }), []);
  t.end();
});

void t.test("peekControlAvp never throws, and finds only what lies inside the message", (t) => {
  const peek = (b: Buffer): Result<Uint8Array | undefined, WireError> => {
    const v = peekControlAvp(b, AvpType.AssignedTunnelId);
    if (v !== undefined && (v.byteOffset < b.byteOffset || v.byteOffset + v.length > b.byteOffset + b.length)) throw new Error("view outside the input");
    return ok(v);
  };
  t.same(fuzzDecoder("l2tp-peek-avp", peek, { seeds, runs: 100_000, maxLength: 400 }), []);
  t.end();
});
