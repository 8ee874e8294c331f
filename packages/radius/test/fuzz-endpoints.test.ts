// 100,000 random and mutated datagrams into the client's socket and 2 x 100,000 into the DAE
// server's (raw, and re-signed so that they get past the authenticator into the attribute
// checks): nothing throws, and every datagram is accounted for as dropped or answered.
import { createHash, createHmac } from "node:crypto";
import t from "tap";
import { FakeClock, MemoryUdpNetwork } from "@lnsd/io";
import {
  Attr,
  Code,
  DaeServer,
  DAE_DROP_REASONS,
  DROP_REASONS,
  integerAttr,
  RadiusClient,
  signRequest,
  signResponse,
  textAttr,
  Vendor,
  vendorAttr,
  VendorAttr,
  type AuthResult,
} from "../src/index.js";
import { flush } from "./lib/flush.js";
import { fuzz } from "./lib/fuzz.js";

const SECRET = "fuzzsecret";

void t.test("client: replies from the server's address", async (t) => {
  const clock = new FakeClock();
  const net = new MemoryUdpNetwork((fn, ms) => {
    clock.setTimeout(fn, ms);
  });
  // The "server" only records the requests: the fuzz answers them. A constant Request
  // Authenticator keeps the seeds valid for every request, so mutated answers reach every check.
  const server = await net.bind("127.0.0.1", 1812);
  let currentId = -1;
  server.onMessage((p) => {
    currentId = p[1] ?? 0;
  });
  const client = await RadiusClient.create({
    servers: [{ address: "127.0.0.1", authPort: 1812, acctPort: 1813 }],
    secret: SECRET,
    nas: { identifier: "lns" },
    udp: net,
    clock,
    timeoutMs: 1e12,
    randomBytes: (n) => Buffer.alloc(n),
  });
  const results: AuthResult[] = [];
  const ask = (): void => {
    void client.authenticate({ userName: "u", nasPort: 1, acctSessionId: "s", auth: { kind: "pap", password: Buffer.from("p") } }).then((r) => results.push(r));
  };
  ask();
  clock.advance(2);
  await flush();
  t.not(currentId, -1);
  const reply = (code: number): Buffer =>
    signResponse({
      code,
      identifier: currentId,
      attributes: [integerAttr(Attr.SessionTimeout, 5), vendorAttr(Vendor.Cisco, VendorAttr.CiscoAvPair, Buffer.from("a=b")), textAttr(Attr.FramedRoute, "10.0.0.0/8")],
      secret: SECRET,
      requestAuthenticator: Buffer.alloc(16),
    });
  const seeds = [reply(Code.AccessAccept), reply(Code.AccessReject), reply(Code.AccessChallenge)];
  const elsewhere = await net.bind("127.0.0.1", 11812);
  const to = { address: "127.0.0.1", port: client.localPorts()[0] ?? 0 };
  let sent = 0;
  let settled = 0;
  const failures = fuzz(
    "client-onMessage",
    (input) => {
      // Most answers are re-signed for the request in flight, so that they get past the
      // authenticators into the code and Message-Authenticator checks and the reply parser.
      const b = sent % 4 === 3 ? input : resignReply(input, currentId, sent % 8 < 4);
      (sent % 16 === 0 ? elsewhere : server).send(b, to);
      sent++;
      clock.advance(1);
      if (client.stats().inFlight === 0) {
        settled++;
        ask();
        clock.advance(1);
      }
      return undefined;
    },
    { seeds, maxLength: 200 },
  );
  await flush();
  t.same(failures, []);
  const c = client.counters;
  const drops = DROP_REASONS.reduce((n, r) => n + c.dropped[r], 0);
  t.equal(drops + c.accessAccepts + c.accessRejects + c.accessChallenges, sent, "every datagram dropped or believed");
  t.equal(c.accessAccepts + c.accessRejects + c.accessChallenges, settled, "one answer believed per request");
  for (const r of DROP_REASONS) t.ok(c.dropped[r] > 0 || r === "unexpected-code", `${c.dropped[r]} ${r}`);
  t.ok(settled > 100, `${settled} requests answered`);
  client.close();
});

/** Sets the identifier and signs as the server would for a zero Request Authenticator. */
function resignReply(b: Buffer, id: number, messageAuthenticator: boolean): Buffer {
  if (b.length < 20) return b;
  const len = b.readUInt16BE(2);
  if (len < 20 || len > b.length) return b;
  const out = Buffer.from(b.subarray(0, len));
  out[1] = id;
  out.fill(0, 4, 20);
  if (messageAuthenticator) {
    for (let at = 20; at + 2 <= len; ) {
      const l = out[at + 1] ?? 0;
      if (l < 2 || at + l > len) break;
      if (out[at] === Attr.MessageAuthenticator && l === 18) {
        out.fill(0, at + 2, at + 18);
        createHmac("md5", SECRET).update(out).digest().copy(out, at + 2);
        break;
      }
      at += l;
    }
  }
  createHash("md5").update(out).update(SECRET).digest().copy(out, 4);
  return out;
}

function resign(b: Buffer): Buffer {
  if (b.length < 20) return b;
  const len = b.readUInt16BE(2);
  if (len < 20 || len > b.length) return b;
  const out = Buffer.from(b);
  out.fill(0, 4, 20);
  createHash("md5").update(out.subarray(0, len)).update(SECRET).digest().copy(out, 4);
  return out;
}

void t.test("DAE server: raw and re-signed requests", async (t) => {
  const clock = new FakeClock();
  const net = new MemoryUdpNetwork((fn, ms) => {
    clock.setTimeout(fn, ms);
  });
  let actions = 0;
  const dae = await DaeServer.create<number>({
    bindAddress: "127.0.0.1",
    port: 3799,
    secret: SECRET,
    allowedClients: ["127.0.0.1"],
    // Every datagram is parsed here; the per-client rate has its own test.
    ratePerClient: 1_000_000,
    handler: {
      findSessions: (m) => (m.userName === "bob" ? [1, 2] : []),
      disconnect: () => {
        actions++;
        return { ok: true };
      },
      coa: () => {
        actions++;
        return { ok: true };
      },
    },
    udp: net,
    clock,
    wallClockMs: () => 0,
    eventTimestampWindowSec: 0,
  });
  const radius = await net.bind("127.0.0.1", 50000);
  let answers = 0;
  radius.onMessage(() => {
    answers++;
  });
  const to = { address: "127.0.0.1", port: 3799 };
  const seeds = [
    signRequest({ code: Code.DisconnectRequest, identifier: 1, attributes: [textAttr(Attr.UserName, "bob"), integerAttr(Attr.AcctTerminateCause, 6)], secret: SECRET, messageAuthenticator: false }),
    signRequest({ code: Code.CoaRequest, identifier: 2, attributes: [textAttr(Attr.UserName, "bob"), integerAttr(Attr.SessionTimeout, 9), vendorAttr(Vendor.Cisco, 1, Buffer.from("x=y")), textAttr(Attr.FilterId, "f")], secret: SECRET, messageAuthenticator: false }),
    signRequest({ code: Code.CoaRequest, identifier: 3, attributes: [textAttr(Attr.AcctSessionId, "s"), { type: Attr.ProxyState, value: Buffer.from("ps") }], secret: SECRET }),
  ];
  let sent = 0;
  const run = async (name: string, transform: (b: Buffer) => Buffer): Promise<string[]> => {
    const inputs: Buffer[] = [];
    const failures = fuzz(
      name,
      (input) => {
        inputs.push(transform(input));
        return undefined;
      },
      { seeds, maxLength: 200 },
    );
    // Sent in batches: the server answers asynchronously.
    for (let i = 0; i < inputs.length; i += 500) {
      for (const b of inputs.slice(i, i + 500)) {
        radius.send(b, to);
        sent++;
      }
      clock.advance(1);
      await new Promise((resolve) => setImmediate(resolve));
      // Past the duplicate window now and then, so the cache stays small.
      if (i % 20_000 === 0) clock.advance(31_000);
    }
    return failures;
  };
  t.same(await run("dae-raw", (b) => b), []);
  t.same(await run("dae-resigned", resign), []);
  await flush();
  const c = dae.counters;
  const drops = DAE_DROP_REASONS.reduce((n, r) => n + c.dropped[r], 0);
  t.equal(drops + c.acks + c.naks + c.duplicates, sent, "every datagram dropped or answered");
  t.ok(c.acks > 100, `${c.acks} ACKs`);
  t.ok(c.naks > 1000, `${c.naks} NAKs`);
  t.ok(answers >= c.acks + c.naks, "answers sent");
  t.ok(actions >= c.acks, "the handler acted for every ACK");
  dae.close();
});
