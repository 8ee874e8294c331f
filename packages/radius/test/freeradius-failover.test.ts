// Failover between two real FreeRADIUS servers: the primary is stopped (SIGTERM by PID) while
// logins are going on; they carry on through the secondary; once the primary is back and its
// back-off is over, logins go to it again.
import t from "tap";
import { RadiusClient, type AuthResult, type RadiusClientEvent } from "../src/index.js";
import { FreeRadius, freeradiusMissing } from "@lnsd/testkit";

const SECRET = "failover-secret";
const USERS = 'papuser Cleartext-Password := "pappass"\n';
const BACKOFF_MS = 2500;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

void t.test("primary stopped mid-run: logins carry on through the secondary; the primary returns after the back-off", { skip: freeradiusMissing() ?? false }, async (t) => {
  const [primary, secondary] = await Promise.all([
    FreeRadius.start({ secret: SECRET, users: USERS, name: "primary" }),
    FreeRadius.start({ secret: SECRET, users: USERS, name: "secondary" }),
  ]);
  t.teardown(async () => {
    await primary.dispose();
    await secondary.dispose();
  });
  const events: RadiusClientEvent[] = [];
  const c = await RadiusClient.create({
    servers: [
      { address: "127.0.0.1", authPort: primary.authPort, acctPort: primary.acctPort },
      { address: "127.0.0.1", authPort: secondary.authPort, acctPort: secondary.acctPort },
    ],
    secret: SECRET,
    nas: { identifier: "lns-test" },
    bindAddress: "127.0.0.1",
    timeoutMs: 250,
    tries: 2,
    deadTimeMs: BACKOFF_MS,
    onEvent: (e) => events.push(e),
  });
  t.teardown(() => {
    c.close();
  });
  const login = (i: number): Promise<AuthResult> =>
    c.authenticate({ userName: "papuser", nasPort: i, acctSessionId: `f${i}`, auth: { kind: "pap", password: Buffer.from("pappass") } });
  const who = (r: AuthResult): string => (r.kind === "accept" ? (r.reply.replyMessages[0] ?? "?") : r.kind);

  t.equal(who(await login(0)), "primary", "the primary first");

  // A steady stream of logins, one every 50 ms; the primary goes away after the 5th.
  const stream: Promise<AuthResult>[] = [];
  for (let i = 1; i <= 30; i++) {
    stream.push(login(i));
    if (i === 5) {
      t.ok(primary.pid, "primary running");
      await primary.stop();
    }
    await sleep(50);
  }
  const results = await Promise.all(stream);
  t.equal(results.filter((r) => r.kind === "accept").length, 30, "every login accepted");
  t.same(results.slice(-10).map(who), new Array(10).fill("secondary"), "the last ones through the secondary");
  t.ok(events.some((e) => e.kind === "server-dead" && e.server === `127.0.0.1:${primary.authPort}`), "primary marked dead");
  t.ok(c.counters.failovers >= 1, `${c.counters.failovers} failovers`);

  // Accounting fails over too.
  const acct = await c.account({ status: "start", session: { userName: "papuser", nasPort: 99, acctSessionId: "f99" } });
  t.equal(acct.kind === "ack" && acct.server, `127.0.0.1:${secondary.acctPort}`, "accounting to the secondary");
  await secondary.waitForDetail((r) => r.attrs.get("Acct-Session-Id")?.[0] === "f99");

  // The primary comes back; until its back-off is over, the secondary keeps the traffic.
  await primary.restart();
  t.equal(who(await login(100)), "secondary", "still the secondary during the back-off");
  await sleep(BACKOFF_MS);
  t.equal(who(await login(101)), "primary", "the primary again after the back-off");
  t.ok(events.some((e) => e.kind === "server-alive" && e.server === `127.0.0.1:${primary.authPort}`), "primary alive again");
});
