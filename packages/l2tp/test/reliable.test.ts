import t from "tap";
import { FakeClock } from "@lnsd/io";
import { ReliableTransport, seqDiff, seqInc, type ReliableIo } from "../src/index.js";

// A message is its payload number; on the wire: [flags 2][len 2][tid 2][sid 2][Ns 2][Nr 2][payload 4 | none for ZLB].
function build(ns: number, nr: number, payload: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16BE(ns, 8);
  b.writeUInt16BE(nr, 10);
  b.writeUInt32BE(payload, 12);
  return b;
}
function zlb(ns: number, nr: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(ns, 8);
  b.writeUInt16BE(nr, 10);
  return b;
}

interface Link {
  loss: number;
  dup: number;
  reorder: number;
}

/** Two transports joined by a link that may lose, duplicate and reorder, driven by a fake clock. */
function pair(clock: FakeClock, link: Link, seed = 1) {
  let s = seed;
  const rand = (): number => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
  const got: [number[], number[]] = [[], []];
  const failed: string[] = [];
  const wire: Buffer[][] = [[], []];
  const ends: ReliableTransport<number>[] = [];
  const deliverTo = (to: 0 | 1, pkt: Buffer): void => {
    const ns = pkt.readUInt16BE(8);
    const nr = pkt.readUInt16BE(10);
    ends[to]?.receive(ns, nr, pkt.length > 12 ? pkt.readUInt32BE(12) : undefined);
  };
  const send = (to: 0 | 1, pkt: Buffer): void => {
    wire[to === 0 ? 1 : 0]?.push(pkt);
    if (rand() < link.loss) return;
    const copy = Buffer.from(pkt);
    const delay = 10 + (rand() < link.reorder ? 40 + Math.floor(rand() * 100) : 0);
    clock.setTimeout(() => { deliverTo(to, copy); }, delay);
    if (rand() < link.dup) clock.setTimeout(() => { deliverTo(to, copy); }, delay + 5);
  };
  for (const me of [0, 1] as const) {
    const other = me === 0 ? 1 : 0;
    const io: ReliableIo<number> = {
      transmit: (p) => { send(other, p); },
      buildZlb: zlb,
      deliver: (m) => got[me].push(m),
      failed: (r) => failed.push(`${me}: ${r}`),
    };
    ends.push(new ReliableTransport<number>(clock, io));
  }
  const [a, b] = ends as [ReliableTransport<number>, ReliableTransport<number>];
  return { a, b, got, failed, wire };
}

void t.test("16-bit sequence comparison wraps", (t) => {
  t.equal(seqDiff(1, 65535), 2);
  t.equal(seqDiff(65535, 1), -2);
  t.equal(seqDiff(0, 0), 0);
  t.equal(seqDiff(32767, 0), 32767);
  t.equal(seqInc(65535), 0);
  t.end();
});

void t.test("in-order delivery both ways over a clean link, acks piggybacked or ZLB", (t) => {
  const clock = new FakeClock();
  const { a, b, got, failed } = pair(clock, { loss: 0, dup: 0, reorder: 0 });
  for (let i = 0; i < 20; i++) a.send((ns, nr) => build(ns, nr, i));
  for (let i = 0; i < 5; i++) b.send((ns, nr) => build(ns, nr, 100 + i));
  clock.advance(5000);
  t.same(got[1], Array.from({ length: 20 }, (_, i) => i));
  t.same(got[0], [100, 101, 102, 103, 104]);
  t.ok(a.idle && b.idle, "everything acknowledged");
  t.equal(a.counters.retransmitted + b.counters.retransmitted, 0);
  t.same(failed, []);
  t.ok(b.counters.zlbSent > 0, "a ZLB acknowledged when nothing else could");
  t.end();
});

void t.test("10% loss, duplication and reordering both ways still converges", (t) => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const clock = new FakeClock();
    const { a, b, got, failed } = pair(clock, { loss: 0.1, dup: 0.1, reorder: 0.1 }, seed);
    a.setPeerWindow(8);
    b.setPeerWindow(8);
    for (let i = 0; i < 300; i++) {
      a.send((ns, nr) => build(ns, nr, i));
      if (i % 3 === 0) b.send((ns, nr) => build(ns, nr, 1000 + i));
    }
    clock.advance(600_000);
    t.same(got[1], Array.from({ length: 300 }, (_, i) => i), `seed ${seed}: b got all of a's in order, once`);
    t.same(got[0], Array.from({ length: 100 }, (_, i) => 1000 + 3 * i), `seed ${seed}: a got all of b's`);
    t.same(failed, []);
    t.ok(a.idle && b.idle);
  }
  t.end();
});

void t.test("Ns/Nr wrap past 65,535", (t) => {
  const clock = new FakeClock();
  const { a, b, got, failed } = pair(clock, { loss: 0.02, dup: 0.02, reorder: 0.02 }, 7);
  a.setPeerWindow(16);
  const total = 70_000;
  for (let i = 0; i < total; i++) a.send((ns, nr) => build(ns, nr, i));
  clock.advance(3_600_000);
  t.equal(got[1].length, total);
  t.ok(got[1].every((v, i) => v === i), "in order across the wrap");
  t.equal(a.ns, total & 0xffff);
  t.equal(b.nr, total & 0xffff);
  t.same(failed, []);
  t.end();
});

void t.test("retransmission timing: 1 s doubling, capped at 8 s, teardown after the last retry", (t) => {
  const clock = new FakeClock();
  const times: number[] = [];
  const failed: string[] = [];
  const tr = new ReliableTransport<number>(clock, {
    transmit: () => times.push(clock.now()),
    buildZlb: zlb,
    deliver: () => undefined,
    failed: (r) => failed.push(r),
  });
  tr.send((ns, nr) => build(ns, nr, 1));
  clock.advance(30_999);
  t.same(times, [0, 1000, 3000, 7000, 15000, 23000]);
  t.same(failed, []);
  clock.advance(1);
  t.same(failed, ["no acknowledgement for Ns 0 after 5 retransmissions"]);
  t.equal(clock.pending, 0, "no timer left behind");
  t.end();
});

void t.test("window: no more than the peer's window in flight; slow start after a timeout", (t) => {
  const clock = new FakeClock();
  const sent: number[] = [];
  const tr = new ReliableTransport<number>(clock, {
    transmit: (p) => sent.push(p.readUInt16BE(8)),
    buildZlb: zlb,
    deliver: () => undefined,
    failed: () => undefined,
  });
  tr.setPeerWindow(4);
  for (let i = 0; i < 10; i++) tr.send((ns, nr) => build(ns, nr, i));
  t.same(sent, [0], "slow start: a congestion window of one");
  tr.receive(0, 1, undefined);
  t.same(sent, [0, 1, 2], "window of two after one ack");
  tr.receive(0, 3, undefined);
  t.same(sent, [0, 1, 2, 3, 4, 5, 6], "four in flight, capped by the peer's window");
  t.equal(tr.window.cwnd, 4);
  clock.advance(1000);
  t.same(sent.slice(7), [3], "timeout retransmits the oldest");
  t.same(tr.window, { cwnd: 1, ssthresh: 2, peer: 4 });
  tr.receive(0, 7, undefined);
  t.same(sent.slice(8), [7, 8, 9], "slow start to ssthresh 2, then one more after two acks");
  t.end();
});

void t.test("duplicates acknowledged and dropped; out-of-window dropped; bogus Nr ignored", (t) => {
  const clock = new FakeClock();
  const out: Buffer[] = [];
  const got: number[] = [];
  const tr = new ReliableTransport<number>(clock, {
    transmit: (p) => out.push(p),
    buildZlb: zlb,
    deliver: (m) => got.push(m),
    failed: () => undefined,
  });
  tr.receive(0, 0, 10);
  tr.receive(0, 0, 10);
  t.same(got, [10]);
  t.equal(tr.counters.duplicates, 1);
  t.equal(out.length, 1, "duplicate answered by an immediate ZLB");
  t.equal(out[0]?.readUInt16BE(10), 1, "ZLB acknowledges Ns 0");
  tr.receive(500, 0, 99);
  t.equal(tr.counters.outOfWindow, 1);
  tr.receive(2, 0, 12);
  tr.receive(1, 0, 11);
  t.same(got, [10, 11, 12], "held message delivered when the gap fills");
  tr.send((ns, nr) => build(ns, nr, 1));
  tr.receive(3, 40, 13);
  t.equal(tr.counters.badNr, 1, "Nr beyond what we sent is counted");
  t.notOk(tr.idle);
  t.end();
});

void t.test("a reply sent while delivering carries the ack: no ZLB after it", (t) => {
  const clock = new FakeClock();
  const out: Buffer[] = [];
  // Replies from inside deliver(), as the tunnel does (ICRQ answered by ICRP, ICRP by ICCN).
  const tr: ReliableTransport<number> = new ReliableTransport<number>(clock, {
    transmit: (p) => out.push(p),
    buildZlb: zlb,
    deliver: (m) => { if (m < 100) tr.send((ns, nr) => build(ns, nr, m + 100)); },
    failed: () => undefined,
  });
  tr.receive(0, 0, 1);
  clock.advance(500);
  t.equal(out.length, 1, "only the reply went out (before the fix, a redundant ZLB followed 100 ms later)");
  t.equal(out[0]?.readUInt16BE(10), 1, "the reply acknowledges Ns 0");
  t.equal(tr.counters.zlbSent, 0);
  // A message that needs no reply still gets its ZLB.
  tr.receive(1, 1, 500);
  clock.advance(500);
  t.equal(tr.counters.zlbSent, 1);
  t.equal(out[1]?.length, 12, "a ZLB");
  t.equal(out[1]?.readUInt16BE(10), 2);
  t.end();
});

void t.test("half the receive window unacknowledged: ZLB at once, not after the ack delay", (t) => {
  const clock = new FakeClock();
  const out: Buffer[] = [];
  const tr = new ReliableTransport<number>(clock, { transmit: (p) => out.push(p), buildZlb: zlb, deliver: () => undefined, failed: () => undefined });
  // Default receive window 16: the 8th message in a row without a reply is acknowledged at once.
  for (let i = 0; i < 7; i++) tr.receive(i, 0, i);
  t.equal(out.length, 0, "seven: still waiting for something to carry the ack");
  tr.receive(7, 0, 7);
  t.equal(out.length, 1);
  t.equal(out[0]?.readUInt16BE(10), 8, "the ZLB acknowledges all eight");
  clock.advance(1000);
  t.equal(out.length, 1, "and no second ZLB follows");
  t.end();
});
