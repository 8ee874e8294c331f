// Data messages the control thread sends (RFC 2661 3.1) and their sequencing (RFC 2661 5.4).
import t from "tap";
import { decodeL2tpHeader } from "@lnsd/wire";
import { DataSequence, type DataSequenceCounter, type Session } from "../src/index.js";
import { LAC_ADDR, LNS_ADDR, rig } from "./harness.js";

function counter(peerSequences: boolean, first = 0): DataSequenceCounter & { next: number } {
  const c = {
    next: first,
    peerSequences: () => peerSequences,
    takeNs: () => {
      const ns = c.next;
      c.next = (c.next + 1) & 0xffff;
      return ns;
    },
  };
  return c;
}

void t.test("DataSequence (RFC 2661 5.4): Ns when the LAC asked for it or sequences itself, and only with a counter", (t) => {
  const plain = new DataSequence({});
  t.equal(plain.nextNs(), undefined, "no counter: no Ns");
  plain.attach(counter(false));
  t.equal(plain.nextNs(), undefined, "neither Sequencing Required nor a sequencing LAC");
  plain.attach(counter(true, 7));
  t.same([plain.nextNs(), plain.nextNs()], [7, 8], "the LAC sequences: ours continue its counter");
  plain.detach();
  t.equal(plain.nextNs(), undefined, "detached");
  const call: { sequencingRequired?: boolean } = {};
  const required = new DataSequence(call);
  const c = counter(false, 0xffff);
  required.attach(c);
  t.equal(required.nextNs(), undefined, "before ICCN says Sequencing Required");
  call.sequencingRequired = true;
  t.same([required.nextNs(), required.nextNs()], [0xffff, 0], "Sequencing Required; Ns wraps at 16 bits");
  t.end();
});

void t.test("sendPppFrame frames a data message for the session's peer, with Ns as the session's sequence says", (t) => {
  const r = rig();
  const up: Session[] = [];
  r.lnsEvents.sessionUp = (_t, s) => up.push(s);
  const tun = r.lac.openTunnel(LNS_ADDR);
  if (tun === undefined) {
    t.fail("no tunnel");
    t.end();
    return;
  }
  r.lac.placeCall(tun);
  r.clock.advance(2000);
  const s = up[0];
  const lnsTunnel = [...r.lns.tunnels.values()][0];
  if (s === undefined || lnsTunnel === undefined) {
    t.fail("no session");
    t.end();
    return;
  }
  r.net.record = true;
  const frame = Buffer.from("ff03c0210901000800000000", "hex");
  r.lns.sendPppFrame(lnsTunnel, s, frame);
  s.dataSequence.attach(counter(true, 41));
  r.lns.sendPppFrame(lnsTunnel, s, frame);
  const sent = r.net.sent.filter((p) => p.to.address === LAC_ADDR.address).map((p) => p.packet);
  t.equal(sent.length, 2);
  const headers = sent.map((p) => decodeL2tpHeader(p));
  const [first, second] = headers.map((h) => (h.ok && h.value.kind === "data" ? h.value : undefined));
  t.same(first && { tunnelId: first.tunnelId, sessionId: first.sessionId, ns: first.ns }, { tunnelId: lnsTunnel.peerId, sessionId: s.peerId, ns: undefined }, "unsequenced: S bit clear");
  t.equal(second?.ns, 41, "sequenced: S bit set, Ns from the counter");
  t.same(sent[1]?.subarray(second?.payloadOffset ?? 0), frame, "the PPP frame follows the header");
  t.end();
});
