// The record store (issue 13): every change the control loop marks is published once per output
// commit as a typed change with the next version: upserts while a record lives, one delete when
// it goes (and none for a record never published), to every listener, before the output leaves.
import t from "tap";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RecordChange } from "../src/index.js";
import { Inproc, LNS } from "./lib/inproc.js";

void t.test("a session's life as typed, versioned changes, published before the datagram they caused", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "lnsd-store-"));
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }); });
  const lab = await Inproc.start({ stateDir: dir });
  t.teardown(() => { lab.close(); });
  const store = lab.daemon.store;
  if (store === undefined) throw new Error("no store");
  const seen: RecordChange[] = [];
  /** Changes published, when each datagram from the LNS left. */
  const atSend: number[] = [];
  store.subscribe({ changes: (batch) => { seen.push(...batch); } });
  lab.net.filter = (_p, from) => {
    if (from.address === LNS.address && from.port === LNS.port) atSend.push(seen.length);
    return true;
  };
  lab.radius.users.set("rec", { password: "pw", reply: [] });
  const lac = await lab.online("rec", "pw", 1);
  // The ack of the last ICCN goes out (a ZLB, 100 ms later): the tunnel's record follows.
  await lab.run(500);
  const kinds = (op: string): string[] => [...new Set(seen.filter((c) => c.op === op).map((c) => c.kind))].sort();
  t.same(kinds("upsert"), ["message", "session", "subscriber", "tunnel"], "the tunnel, its control messages, the L2TP session and the subscriber were published");
  t.same(kinds("delete"), ["message"], "only acknowledged control messages deleted yet");
  // Each control message lnsd sent is published once with its bytes, and deleted once acknowledged.
  const messages = seen.filter((c) => c.kind === "message");
  const ids = new Set(messages.map((c) => c.id));
  t.ok(ids.size >= 2, `control messages published (${String(ids.size)}: SCCRP, ICRP, ...)`);
  t.ok([...ids].every((id) => messages.filter((c) => c.id === id && c.op === "upsert").length === 1), "each upserted once");
  t.ok([...ids].every((id) => messages.filter((c) => c.id === id && c.op === "delete").length === 1), "and deleted once, all acknowledged by now");
  const tunnelRecords = seen.filter((c) => c.kind === "tunnel" && c.op === "upsert").map((c) => JSON.stringify(c.op === "upsert" ? c.record : null));
  t.ok(tunnelRecords.every((r) => !r.includes("packetHex")), "tunnel records do not carry the messages' bytes");
  const beforeSccrp = seen.slice(0, atSend[0] ?? 0);
  t.ok(atSend.length > 0 && beforeSccrp.some((c) => c.kind === "tunnel" && c.op === "upsert"), "the tunnel was published before lnsd's first datagram (its SCCRP) left");
  const online = seen.filter((c) => c.kind === "subscriber" && c.op === "upsert").at(-1);
  t.match(online?.op === "upsert" ? online.record : undefined, { username: "rec", ppp: { phase: "network" } }, "the last subscriber record is the online one, with its PPP link");

  await lac.sim.clearAll(1000);
  await lab.run(2000);
  const deletes = seen.filter((c) => c.op === "delete" && c.kind !== "message").map((c) => c.kind).sort();
  t.same(deletes, ["session", "subscriber"], "the call's end deletes the L2TP session and the subscriber, once each");
  const versions = seen.map((c) => c.version);
  t.ok(versions.length > 3 && versions.every((v, i) => i === 0 || v === (versions[i - 1] ?? 0) + 1), "versions rise by one, change after change");
  t.equal(store.version, versions.at(-1), "the store's version is the last published");
  t.same([...store.snapshot().records.get("subscriber")?.keys() ?? []], [], "the snapshot has no subscriber left");
  t.same([...store.snapshot().records.get("tunnel")?.keys() ?? []], ["1"], "and still the tunnel");
});
