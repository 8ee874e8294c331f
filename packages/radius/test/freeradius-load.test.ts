// 2,000 Access-Requests at once against a real FreeRADIUS (threaded, not in debug mode): they all
// complete, which takes more than one socket (256 identifiers each).
import t from "tap";
import { RadiusClient } from "../src/index.js";
import { FreeRadius, freeradiusMissing } from "@lnsd/testkit";

const SECRET = "load-secret";
const N = 2000;

void t.test(`${N} Access-Requests in flight at once`, { skip: freeradiusMissing() ?? false }, async (t) => {
  const users = Array.from({ length: 20 }, (_, i) => `user${i} Cleartext-Password := "pw${i}"\n\tFramed-IP-Address = 10.9.0.${i + 1}\n`).join("");
  const fr = await FreeRadius.start({ secret: SECRET, users, debug: false });
  t.teardown(() => fr.dispose());
  const c = await RadiusClient.create({
    servers: [{ address: "127.0.0.1", authPort: fr.authPort, acctPort: fr.acctPort }],
    secret: SECRET,
    nas: { identifier: "lns-test" },
    bindAddress: "127.0.0.1",
    timeoutMs: 3000,
    tries: 3,
  });
  t.teardown(() => {
    c.close();
  });
  const started = performance.now();
  const all = await Promise.all(
    Array.from({ length: N }, (_, i) =>
      c.authenticate({ userName: `user${i % 20}`, nasPort: i, acctSessionId: `load${i}`, auth: { kind: "pap", password: Buffer.from(i % 10 === 9 ? "wrong" : `pw${i % 20}`) } }),
    ),
  );
  const ms = performance.now() - started;
  const accepts = all.filter((r) => r.kind === "accept");
  t.equal(accepts.length, N - N / 10, "every right password accepted");
  t.equal(all.filter((r) => r.kind === "reject").length, N / 10, "every wrong one rejected");
  t.ok(
    accepts.every((r, i) => r.kind === "accept" && r.reply.framedIpAddress !== undefined && i >= 0),
    "each with its reply",
  );
  const stats = c.stats();
  t.ok(stats.sockets >= Math.ceil(N / 256), `${stats.sockets} sockets`);
  t.equal(stats.inFlight, 0);
  t.comment(`${N} requests in ${Math.round(ms)} ms, ${stats.sockets} sockets, ${c.counters.retransmits} retransmits`);
});
