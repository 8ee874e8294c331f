// The node:dgram endpoint on loopback (datagrams both ways, nothing thrown after close(), a port in
// use refused) and the in-memory network (delivery through the clock, filter, EADDRINUSE).
import t from "tap";
import { FakeClock, MemoryUdpNetwork, nodeUdp, openUdpEndpoint, type PeerAddress } from "../src/index.js";

void t.test("a datagram each way on loopback; send after close is ignored", async (t) => {
  const a = await openUdpEndpoint("127.0.0.1", 0);
  const b = await openUdpEndpoint("127.0.0.1", 0);
  t.not(a.local.port, 0, "an ephemeral port was chosen");
  const got = new Promise<{ packet: Buffer; from: PeerAddress }>((resolve) => {
    b.onMessage((packet, from) => { resolve({ packet, from }); });
  });
  a.send(Buffer.from("hello"), b.local);
  const m = await got;
  t.equal(m.packet.toString(), "hello");
  t.same(m.from, a.local);
  a.close();
  b.close();
  // A tunnel's retransmit timer can fire after its node's socket closed: dgram itself would throw.
  t.doesNotThrow(() => { a.send(Buffer.from("late"), b.local); });
  t.doesNotThrow(() => { a.close(); }, "close twice");
});

void t.test("binding a port in use rejects", async (t) => {
  const udp = nodeUdp({ recvBufferBytes: 1 << 20 });
  const a = await udp.bind("127.0.0.1", 0);
  await t.rejects(udp.bind("127.0.0.1", a.local.port));
  a.close();
});

void t.test("the in-memory network delivers through the clock, copies, filters and refuses a port in use", async (t) => {
  const clock = new FakeClock();
  const net = new MemoryUdpNetwork((fn, ms) => { clock.setTimeout(fn, ms); });
  const a = await net.bind("0.0.0.0", 0);
  const b = await net.bind("127.0.0.1", 1812);
  t.equal(a.local.address, "127.0.0.1");
  await t.rejects(net.bind("127.0.0.1", 1812), /EADDRINUSE/);
  const got: string[] = [];
  b.onMessage((packet, from) => got.push(`${packet.toString()} from ${from.port === a.local.port ? "a" : "?"}`));
  const packet = Buffer.from("one");
  a.send(packet, b.local);
  packet.write("two");
  t.same(got, [], "nothing is delivered synchronously");
  clock.advance(1);
  t.same(got, ["one from a"]);
  net.filter = () => false;
  a.send(Buffer.from("dropped"), b.local);
  clock.advance(1);
  t.equal(net.delivered, 1);
  b.close();
  t.doesNotThrow(() => { b.close(); });
});
