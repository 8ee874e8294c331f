// The pcap reader: our own files back, the real captures (Linux cooked headers) down to their
// UDP payloads as recorded, and 100,000 fuzzed inputs each for the file and frame decoders.
import t from "tap";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildIpv4Udp, decodePcap, encodePcap, formatIpv4, LINKTYPE_RAW, udpInFrame } from "../src/index.js";
import { capturedDir, loadCaptured } from "./lib/captured.js";
import { fuzzDecoder } from "./lib/fuzz.js";
import { unwrap } from "./lib/util.js";

void t.test("what encodePcap writes, decodePcap reads back", (t) => {
  const frames = [0, 1, 2].map((i) => buildIpv4Udp({ src: "192.0.2.1", srcPort: 1701, dst: "192.0.2.2", dstPort: 1701, payload: Buffer.alloc(10 + i, i) }));
  const file = unwrap(decodePcap(encodePcap(frames.map((data, i) => ({ data, timestampUs: 1_000_000 * i + 5 })))));
  t.equal(file.linktype, LINKTYPE_RAW);
  t.equal(file.records.length, 3);
  t.equal(file.records[2]?.timestampUs, 2_000_005);
  const udp = unwrap(udpInFrame(file.linktype, file.records[1]?.data ?? Buffer.alloc(0)));
  t.equal(formatIpv4(udp.src), "192.0.2.1");
  t.equal(udp.dstPort, 1701);
  t.same(Buffer.from(udp.payload), Buffer.alloc(11, 1));
  t.end();
});

void t.test("the real captures read down to the UDP payloads tshark recorded", (t) => {
  for (const cap of loadCaptured()) {
    const file = unwrap(decodePcap(readFileSync(join(capturedDir, cap.pcap))));
    t.equal(file.records.length, cap.packets.length, `${cap.name}: every frame`);
    file.records.forEach((r, i) => {
      const udp = unwrap(udpInFrame(file.linktype, r.data));
      t.equal(Buffer.from(udp.payload).toString("hex"), cap.packets[i]?.udpPayloadHex, `${cap.name} frame ${i + 1}`);
    });
  }
  t.end();
});

void t.test("fuzz: decodePcap and udpInFrame never throw", (t) => {
  const one = encodePcap([{ data: buildIpv4Udp({ src: "10.0.0.1", srcPort: 1, dst: "10.0.0.2", dstPort: 2, payload: Buffer.from("hello") }) }]);
  t.same(fuzzDecoder("pcap-file", decodePcap, { seeds: [one, readFileSync(join(capturedDir, "secret-mismatch.pcap"))], maxLength: 512 }), []);
  const frame = buildIpv4Udp({ src: "10.0.0.1", srcPort: 1701, dst: "10.0.0.2", dstPort: 1701, payload: Buffer.from("c802000c0000000000000000", "hex") });
  for (const lt of [LINKTYPE_RAW, 1, 113]) {
    const seed = lt === LINKTYPE_RAW ? frame : Buffer.concat([Buffer.alloc(lt === 1 ? 12 : 14), Buffer.from([8, 0]), frame]);
    t.same(fuzzDecoder(`udp-in-frame-${lt}`, (b) => udpInFrame(lt, b), { seeds: [seed], runs: 100_000 }), []);
  }
  t.end();
});
