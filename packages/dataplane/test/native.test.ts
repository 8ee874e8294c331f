// The native system calls on loopback (no root needed): the SO_REUSEPORT group's steering by L2TP
// session, batched receive and send, and the wake-up of a blocked wait().
import t from "tap";
import { loadAddon } from "../src/index.js";

const LOOP = 0x7f000001;
const native = loadAddon();

function l2tpHeader(control: boolean, withLength: boolean, tunnelId: number, sessionId: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE((control ? 0xc800 : withLength ? 0x4000 : 0) | 2, 0);
  let p = 2;
  if (control || withLength) {
    b.writeUInt16BE(12, p);
    p += 2;
  }
  b.writeUInt16BE(tunnelId, p);
  b.writeUInt16BE(sessionId, p + 2);
  return b;
}

void t.test("the reuseport group steers by Tunnel ID (control) and Tunnel ID ^ Session ID (data)", (t) => {
  const group = 3;
  const first = native.udpOpen("127.0.0.1", 0, true, 1 << 20);
  const port = native.udpLocalPort(first);
  const fds = [first];
  for (let i = 1; i < group; i++) fds.push(native.udpOpen("127.0.0.1", port, true, 1 << 20));
  native.udpSteer(first, group);
  // A socket joining after the steered ones (the control thread's) never receives.
  const late = native.udpOpen("127.0.0.1", port, true, 1 << 20);
  const sender = native.udpOpen("127.0.0.1", 0, false, 1 << 20);
  const cases: { control: boolean; withLength: boolean; tid: number; sid: number; expect: number }[] = [];
  for (let tid = 1; tid < 8; tid++) {
    for (let sid = 0; sid < 8; sid++) {
      cases.push({ control: false, withLength: false, tid, sid, expect: (tid ^ sid) % group });
      cases.push({ control: false, withLength: true, tid, sid, expect: (tid ^ sid) % group });
      cases.push({ control: true, withLength: true, tid, sid, expect: tid % group });
    }
  }
  for (const c of cases) native.udpSendTo(sender, l2tpHeader(c.control, c.withLength, c.tid, c.sid), LOOP, port);
  const buf = new Uint8Array(64 * 64);
  const lens = new Int32Array(64);
  const addrs = new Uint32Array(128);
  const got: string[][] = fds.map(() => []);
  for (let i = 0; i < fds.length; i++) {
    for (;;) {
      const n = native.udpRecv(fds[i] ?? -1, buf, 0, 64, 64, lens, addrs);
      if (n <= 0) break;
      for (let j = 0; j < n; j++) got[i]?.push(Buffer.from(buf.subarray(j * 64, j * 64 + (lens[j] ?? 0))).toString("hex"));
      t.equal(addrs[0], LOOP, "sender's address");
    }
  }
  let misplaced = 0;
  for (const c of cases) {
    const hex = l2tpHeader(c.control, c.withLength, c.tid, c.sid).toString("hex");
    if (!(got[c.expect] ?? []).includes(hex)) misplaced++;
  }
  t.equal(misplaced, 0, `each of ${cases.length} datagrams reached its socket`);
  t.equal(native.udpRecv(late, buf, 0, 64, 64, lens, addrs), 0, "the late socket received nothing");
  for (const fd of [...fds, late, sender]) native.closeFd(fd);
  t.end();
});

void t.test("batched send and receive keep order and contents", (t) => {
  const rx = native.udpOpen("127.0.0.1", 0, false, 1 << 20);
  const port = native.udpLocalPort(rx);
  const tx = native.udpOpen("127.0.0.1", 0, false, 1 << 20);
  const count = 200;
  const stride = 256;
  const out = new Uint8Array(count * stride);
  const offsets = new Int32Array(count);
  const lens = new Int32Array(count);
  const addrs = new Uint32Array(count * 2);
  for (let i = 0; i < count; i++) {
    offsets[i] = i * stride + 3;
    lens[i] = 10 + (i % 50);
    out.fill(i & 0xff, i * stride + 3, i * stride + 3 + 10 + (i % 50));
    addrs[2 * i] = LOOP;
    addrs[2 * i + 1] = port;
  }
  t.equal(native.udpSend(tx, out, offsets, lens, addrs, count), count);
  const inBuf = new Uint8Array(64 * stride);
  const inLens = new Int32Array(64);
  const from = new Uint32Array(128);
  const seen: number[] = [];
  let wrong = 0;
  while (seen.length < count) {
    if (native.wait(rx, -1, -1, 1000) === 0) break;
    const n = native.udpRecv(rx, inBuf, 8, stride, 64, inLens, from);
    for (let j = 0; j < n; j++) {
      const i = seen.length;
      const at = j * stride + 8;
      if (inLens[j] !== 10 + (i % 50) || inBuf[at] !== (i & 0xff) || inBuf[at + (inLens[j] ?? 1) - 1] !== (i & 0xff)) wrong++;
      seen.push(i);
    }
  }
  t.equal(seen.length, count);
  t.equal(wrong, 0, "every datagram in order, whole");
  native.closeFd(rx);
  native.closeFd(tx);
  t.end();
});

void t.test("wait() times out, and an eventfd wakes it", (t) => {
  const wake = native.eventFd();
  const started = Date.now();
  t.equal(native.wait(-1, -1, wake, 50), 0);
  t.ok(Date.now() - started >= 40, "waited for the timeout");
  native.eventFdSignal(wake);
  t.equal(native.wait(-1, -1, wake, 5000), 4, "the wake-up fd is bit 4");
  native.closeFd(wake);
  t.throws(() => native.udpOpen("not-an-address", 0, false, 0), /IPv4/);
  t.end();
});
