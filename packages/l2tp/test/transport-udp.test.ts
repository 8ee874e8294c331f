// The node:dgram endpoint on loopback: datagrams both ways, and nothing thrown after close().
import t from "tap";
import { openUdpEndpoint, type PeerAddress } from "../src/index.js";

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
