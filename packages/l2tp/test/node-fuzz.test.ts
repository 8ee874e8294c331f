// Bad input at the node level: mutated control and data messages thrown at an LNS that has live
// tunnels. Nothing may throw, and a tunnel that receives none of the junk must stay up.
import t from "tap";
import * as fc from "fast-check";
import { encodeControlMessage, L2tpMessageType, AvpType } from "@lnsd/wire";
import { L2tpNode } from "../src/index.js";
import { fakeRandom, LAC_ADDR, LNS_ADDR, rig } from "./harness.js";

void t.test("100,000 mutated messages at a live LNS: no throw, the untouched tunnel stays up", (t) => {
  const r = rig({ lns: { secret: "fuzz" }, lac: { secret: "fuzz" } });
  // The tunnel to keep comes from a second LAC at another address, which the junk never claims to be.
  const other = new L2tpNode(r.net.endpoint("198.51.100.99", 1701), { clock: r.clock, random: fakeRandom(33), config: { hostName: "lac2", secret: "fuzz" } });
  const keep = other.openTunnel(LNS_ADDR);
  const target = r.lac.openTunnel(LNS_ADDR);
  if (keep === undefined || target === undefined) return;
  for (let i = 0; i < 5; i++) other.placeCall(keep, { call: { callingNumber: `k${i}` } });
  for (let i = 0; i < 5; i++) r.lac.placeCall(target, { call: { callingNumber: `t${i}` } });
  r.clock.advance(3000);
  t.equal(r.lns.sessionCount, 10);
  const lt = [...r.lns.tunnels.values()].find((x) => x.peerId === target.localId);
  const lk = [...r.lns.tunnels.values()].find((x) => x.address.address === "198.51.100.99");
  if (lt === undefined || lk === undefined) return;
  const sid = [...lt.sessions.keys()][0] ?? 1;
  // Seeds: valid messages of several kinds addressed to the target tunnel, to tunnel 0, and data.
  const seeds = [
    encodeControlMessage({ messageType: L2tpMessageType.ICRQ, tunnelId: lt.localId, sessionId: 0, ns: 5, nr: 6, avps: { [AvpType.AssignedSessionId]: 9, [AvpType.CallSerialNumber]: 1, [AvpType.CallingNumber]: "0123" } }, { hide: { secret: "fuzz", randomVector: Buffer.alloc(16, 1), types: [AvpType.CallingNumber] } }),
    encodeControlMessage({ messageType: L2tpMessageType.CDN, tunnelId: lt.localId, sessionId: sid, ns: 5, nr: 6, avps: { [AvpType.ResultCode]: { resultCode: 3 }, [AvpType.AssignedSessionId]: 9 } }),
    encodeControlMessage({ messageType: L2tpMessageType.SCCRQ, tunnelId: 0, sessionId: 0, ns: 0, nr: 0, avps: { [AvpType.ProtocolVersion]: { version: 1, revision: 0 }, [AvpType.HostName]: "z", [AvpType.FramingCapabilities]: 3, [AvpType.AssignedTunnelId]: 77, [AvpType.Challenge]: Buffer.alloc(16, 2) } }),
    encodeControlMessage({ messageType: L2tpMessageType.StopCCN, tunnelId: lt.localId, sessionId: 0, ns: 5, nr: 6, avps: { [AvpType.AssignedTunnelId]: 3, [AvpType.ResultCode]: { resultCode: 1, errorCode: 0, errorMessage: "bye" } } }),
    Buffer.concat([Buffer.from([0x40, 0x02, 0, 0, lt.localId >> 8, lt.localId & 0xff, sid >> 8, sid & 0xff]), Buffer.from("ff03c021010100040000", "hex")]),
  ];
  let thrown = 0;
  fc.assert(
    fc.property(
      fc.constantFrom(...seeds),
      fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 4 }),
      fc.nat({ max: 64 }),
      (seed, edits, cut) => {
        const b = Buffer.from(seed);
        for (const e of edits) b[e.at % b.length] = e.byte;
        const input = cut > 48 ? b.subarray(0, cut % b.length) : b;
        try {
          r.net.inject(LAC_ADDR, LNS_ADDR, input);
        } catch {
          thrown++;
        }
        return true;
      },
    ),
    { numRuns: 100_000, seed: 42 },
  );
  r.clock.advance(60_000);
  t.equal(thrown, 0, "the node never threw");
  t.equal(lk.state, "established", "the tunnel that got no junk is still up");
  t.equal(lk.sessions.size, 5, "with all its sessions");
  t.ok(r.lns.tunnels.size <= 65_534);
  t.end();
});
