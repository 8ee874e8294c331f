import t from "tap";
import * as fc from "fast-check";
import { isDeepStrictEqual } from "node:util";
import { formatIpv4, parseIpv4 } from "@lnsd/wire";
import { formatConfigError, parseIpPool, poolRangesFor, type IpPoolRange } from "@lnsd/config";
import { AddressPool, MAX_POOL_ADDRESSES, poolRangesProblem, type AllocateResult } from "../src/index.js";

function ranges(text: string, bindAddress = "192.0.2.1"): IpPoolRange[] {
  const r = parseIpPool(text, "ip_pool");
  if (!r.ok) throw new Error(r.errors.map(formatConfigError).join("\n"));
  return poolRangesFor(r.value, bindAddress);
}

const ip = (text: string): number => {
  const n = parseIpv4(text, { syntax: "strict" });
  if (n === undefined) throw new Error(`bad address ${text}`);
  return n;
};

/** A clock the test moves by hand. */
class Clock {
  ms = 1_000;
  now(): number {
    return this.ms;
  }
}

/** The address given, as text, or the failure as "exhausted" / "in-use by USER". */
function got(r: AllocateResult): string {
  if (r.ok) return formatIpv4(r.address);
  return r.reason === "exhausted" ? "exhausted" : `in-use by ${r.user}`;
}

void t.test("a fresh pool hands out addresses in file order, skipping .0 and .255", (t) => {
  const pool = new AddressPool(ranges("10.0.1.252/30\n10.0.0.0/30\n10.9.9.9\n"));
  t.same(pool.sizes(), { total: 6, free: 6, inUse: 0, static: 0, retired: 0 });
  const order = ["a", "b", "c", "d", "e", "f"].map((u) => got(pool.allocate(u)));
  t.same(order, ["10.0.1.253", "10.0.1.254", "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.9.9.9"]);
  t.equal(got(pool.allocate("g")), "exhausted");
  t.same(pool.sizes(), { total: 6, free: 0, inUse: 6, static: 0, retired: 0 });
  t.end();
});

void t.test("a returning user gets their previous address back", (t) => {
  const pool = new AddressPool(ranges("10.0.0.0/29\n"), new Clock());
  const alice = pool.allocate("alice");
  const bob = pool.allocate("bob");
  t.same(alice, { ok: true, address: ip("10.0.0.1"), source: "free" });
  t.equal(got(bob), "10.0.0.2");
  t.ok(pool.release(ip("10.0.0.1")));
  t.ok(pool.release(ip("10.0.0.2")));
  // bob comes back first: his address, although alice's has been free longer.
  t.same(pool.allocate("bob"), { ok: true, address: ip("10.0.0.2"), source: "previous" });
  t.same(pool.allocate("alice"), { ok: true, address: ip("10.0.0.1"), source: "previous" });
  t.end();
});

void t.test("a previous address taken by someone else is not taken back", (t) => {
  const pool = new AddressPool(ranges("10.0.0.1\n10.0.0.2\n"));
  t.equal(got(pool.allocate("alice")), "10.0.0.1");
  pool.release(ip("10.0.0.1"));
  t.equal(got(pool.allocate("bob")), "10.0.0.2"); // never-used addresses go first
  t.equal(got(pool.allocate("carol")), "10.0.0.1"); // alice's, the only one free
  pool.release(ip("10.0.0.2"));
  // alice's address is held by carol: she gets the free one, and 10.0.0.1 now remembers carol.
  t.same(pool.allocate("alice"), { ok: true, address: ip("10.0.0.2"), source: "free" });
  pool.release(ip("10.0.0.1"));
  t.match(pool.entry(ip("10.0.0.1")), { state: "free", user: "carol" });
  t.same(pool.allocate("carol"), { ok: true, address: ip("10.0.0.1"), source: "previous" });
  t.end();
});

void t.test("FIFO: the address free longest goes first, the one just freed last", (t) => {
  const clock = new Clock();
  const pool = new AddressPool(ranges("10.0.0.1\n10.0.0.2\n10.0.0.3\n10.0.0.4\n"), clock);
  for (const u of ["a", "b", "c", "d"]) pool.allocate(u);
  for (const a of ["10.0.0.3", "10.0.0.1", "10.0.0.4", "10.0.0.2"]) {
    clock.ms += 1000;
    pool.release(ip(a));
  }
  t.same(
    ["w", "x", "y", "z"].map((u) => got(pool.allocate(u))),
    ["10.0.0.3", "10.0.0.1", "10.0.0.4", "10.0.0.2"],
  );
  t.end();
});

void t.test("not remembering a user (l2tpns: walled-garden sessions)", (t) => {
  const pool = new AddressPool(ranges("10.0.0.1\n10.0.0.2\n"));
  t.equal(got(pool.allocate("gardened", undefined, { remember: false })), "10.0.0.1");
  t.match(pool.entry(ip("10.0.0.1")), { state: "in-use", user: "gardened" });
  pool.release(ip("10.0.0.1"));
  t.notOk(pool.entry(ip("10.0.0.1"))?.user, "no last user kept");
  t.equal(got(pool.allocate("alice")), "10.0.0.2");
  pool.release(ip("10.0.0.2"));
  // Without remember, alice does not get her previous address either: the oldest free one.
  t.same(pool.allocate("alice", undefined, { remember: false }), { ok: true, address: ip("10.0.0.1"), source: "free" });
  t.end();
});

void t.test("a Framed-IP-Address inside the pool is taken from it", (t) => {
  const pool = new AddressPool(ranges("10.0.0.0/29\n"));
  t.same(pool.allocate("static", ip("10.0.0.3")), { ok: true, address: ip("10.0.0.3"), source: "requested" });
  t.same(pool.sizes(), { total: 7, free: 6, inUse: 1, static: 0, retired: 0 });
  // The pool never gives it to anyone else while held.
  const others = ["a", "b", "c", "d", "e", "f"].map((u) => got(pool.allocate(u)));
  t.notOk(others.includes("10.0.0.3"));
  t.equal(got(pool.allocate("g")), "exhausted");
  // A second session asking for it is refused, naming the holder.
  t.same(pool.allocate("other", ip("10.0.0.3")), { ok: false, reason: "in-use", address: ip("10.0.0.3"), user: "static" });
  t.ok(pool.release(ip("10.0.0.3")));
  t.same(pool.allocate("other", ip("10.0.0.3")), { ok: true, address: ip("10.0.0.3"), source: "requested" });
  t.end();
});

void t.test("a Framed-IP-Address outside the pool is used as is, and tracked", (t) => {
  const pool = new AddressPool(ranges("10.0.0.1\n"));
  const outside = ip("203.0.113.9");
  t.same(pool.allocate("biz", outside), { ok: true, address: outside, source: "outside" });
  t.notOk(pool.owns(outside));
  t.same(pool.sizes(), { total: 1, free: 1, inUse: 0, static: 1, retired: 0 });
  t.same(pool.entry(outside), { address: outside, state: "static", user: "biz" });
  t.same(pool.allocate("biz2", outside), { ok: false, reason: "in-use", address: outside, user: "biz" });
  // Outside addresses do not use up the pool.
  t.equal(got(pool.allocate("home")), "10.0.0.1");
  t.ok(pool.release(outside));
  t.notOk(pool.release(outside), "released twice");
  t.equal(pool.entry(outside), undefined, "forgotten once released");
  t.equal(pool.sizes().static, 0);
  // An address ending in .255 in a pool network is not the pool's: used as is.
  const broadcast = new AddressPool(ranges("10.1.0.0/24\n"));
  t.same(broadcast.allocate("x", ip("10.1.0.255")), { ok: true, address: ip("10.1.0.255"), source: "outside" });
  t.end();
});

void t.test("RFC 2865 5.8: Framed-IP-Address 255.255.255.254 (and 255.255.255.255, 0.0.0.0) means from the pool", (t) => {
  const pool = new AddressPool(ranges("10.0.0.1\n10.0.0.2\n10.0.0.3\n"));
  t.same(pool.allocate("a", 0xfffffffe), { ok: true, address: ip("10.0.0.1"), source: "free" });
  t.same(pool.allocate("b", 0xffffffff), { ok: true, address: ip("10.0.0.2"), source: "free" });
  t.same(pool.allocate("c", 0), { ok: true, address: ip("10.0.0.3"), source: "free" });
  t.throws(() => pool.allocate("d", -1), RangeError);
  t.throws(() => pool.release(2 ** 32), RangeError);
  t.end();
});

void t.test("double allocation is refused; release of a free address is reported", (t) => {
  const pool = new AddressPool(ranges("10.0.0.1\n10.0.0.2\n"));
  t.equal(got(pool.allocate("a")), "10.0.0.1");
  t.equal(got(pool.allocate("b", ip("10.0.0.1"))), "in-use by a");
  t.equal(got(pool.allocate("b")), "10.0.0.2");
  t.ok(pool.release(ip("10.0.0.2")));
  t.notOk(pool.release(ip("10.0.0.2")), "already free");
  t.notOk(pool.release(ip("192.0.2.77")), "never held");
  t.same(pool.sizes(), { total: 2, free: 1, inUse: 1, static: 0, retired: 0 });
  t.end();
});

void t.test("exhaustion and release; an empty pool", (t) => {
  const pool = new AddressPool(ranges("10.0.0.0/30\n"));
  t.same(["a", "b", "c"].map((u) => got(pool.allocate(u))), ["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
  t.same(pool.allocate("d"), { ok: false, reason: "exhausted" });
  pool.release(ip("10.0.0.2"));
  t.equal(got(pool.allocate("d")), "10.0.0.2");
  t.same(pool.allocate("e"), { ok: false, reason: "exhausted" });

  const empty = new AddressPool([]);
  t.same(empty.sizes(), { total: 0, free: 0, inUse: 0, static: 0, retired: 0 });
  t.same(empty.allocate("a"), { ok: false, reason: "exhausted" });
  // A pool entry for another node is not ours.
  const other = new AddressPool(ranges("198.51.100.1:10.0.0.0/24\n"));
  t.equal(other.sizes().total, 0);
  t.end();
});

void t.test("entries: state, current or last user, times", (t) => {
  const clock = new Clock();
  const pool = new AddressPool(ranges("10.0.0.1\n10.0.0.2\n10.0.0.3\n"), clock);
  pool.allocate("a");
  clock.ms = 5_000;
  pool.allocate("b");
  pool.allocate("s", ip("203.0.113.1"));
  clock.ms = 9_000;
  pool.release(ip("10.0.0.1"));
  t.same(
    [...pool.entries()],
    [
      { address: ip("10.0.0.1"), state: "free", user: "a", freedAtMs: 9_000 },
      { address: ip("10.0.0.2"), state: "in-use", user: "b", allocatedAtMs: 5_000 },
      { address: ip("10.0.0.3"), state: "free" },
      { address: ip("203.0.113.1"), state: "static", user: "s" },
    ],
  );
  t.end();
});

void t.test("reload: in-use addresses stay, removed ones retire, new ones come first", (t) => {
  const clock = new Clock();
  const pool = new AddressPool(ranges("10.0.0.1\n10.0.0.2\n10.0.0.3\n10.0.0.4\n"), clock);
  for (const u of ["a", "b", "c", "d"]) pool.allocate(u);
  pool.release(ip("10.0.0.3"));
  pool.release(ip("10.0.0.1"));
  pool.allocate("s", ip("10.0.0.9")); // outside the old pool, inside the new one

  // 10.0.0.2 (in use by b) and 10.0.0.3 (free) leave the file; 10.0.0.5-8 and 10.0.0.9 come in.
  const summary = pool.reload(ranges("10.0.0.1\n10.0.0.4\n10.0.0.5\n10.0.0.6\n10.0.0.9\n"));
  t.same(summary, { added: 2, removed: 2, retired: 1 });
  t.same(pool.sizes(), { total: 5, free: 3, inUse: 2, static: 0, retired: 1 }, "b's address retired, s's now in the pool");
  t.same(pool.entry(ip("10.0.0.2")), { address: ip("10.0.0.2"), state: "retired", user: "b" });
  t.match(pool.entry(ip("10.0.0.4")), { state: "in-use", user: "d" });
  t.match(pool.entry(ip("10.0.0.9")), { state: "in-use", user: "s" });
  t.equal(pool.entry(ip("10.0.0.3")), undefined, "free and removed: gone");

  // A retired address cannot be handed out twice, and leaves for good when released.
  t.equal(got(pool.allocate("x", ip("10.0.0.2"))), "in-use by b");
  t.ok(pool.release(ip("10.0.0.2")));
  t.equal(pool.entry(ip("10.0.0.2")), undefined);
  t.same(pool.sizes(), { total: 5, free: 3, inUse: 2, static: 0, retired: 0 });

  // The new addresses (never used) go first, then the old free one; a returning user still finds theirs.
  t.same(["n1", "n2"].map((u) => got(pool.allocate(u))), ["10.0.0.5", "10.0.0.6"]);
  t.same(pool.allocate("a"), { ok: true, address: ip("10.0.0.1"), source: "previous" });
  t.equal(got(pool.allocate("late")), "exhausted");
  // s's address is now the pool's: released, it is free in the pool.
  t.ok(pool.release(ip("10.0.0.9")));
  t.same(pool.allocate("s"), { ok: true, address: ip("10.0.0.9"), source: "previous" });
  t.end();
});

void t.test("reload keeps the order of the free addresses and their last users", (t) => {
  const clock = new Clock();
  const pool = new AddressPool(ranges("10.0.0.0/29\n"), clock);
  for (const u of ["a", "b", "c", "d", "e", "f"]) pool.allocate(u);
  for (const a of ["10.0.0.5", "10.0.0.2", "10.0.0.6", "10.0.0.1"]) {
    clock.ms += 1000;
    pool.release(ip(a));
  }
  pool.reload(ranges("10.0.0.0/29\n"));
  t.same(pool.sizes(), { total: 7, free: 5, inUse: 2, static: 0, retired: 0 });
  t.same(pool.allocate("b"), { ok: true, address: ip("10.0.0.2"), source: "previous" });
  // 10.0.0.7 was never used, so it comes first, then the others in the order they were freed.
  t.same(["w", "x", "y", "z"].map((u) => got(pool.allocate(u))), ["10.0.0.7", "10.0.0.5", "10.0.0.6", "10.0.0.1"]);
  t.end();
});

void t.test("a pool too large for one node is refused before it is built", (t) => {
  t.equal(poolRangesProblem(ranges("10.0.0.0/10\n")), undefined);
  const big = ranges("10.0.0.0/10\n10.64.0.0/16\n");
  t.equal(poolRangesProblem(big), `ip_pool gives this node 4226560 addresses; lnsd handles ${MAX_POOL_ADDRESSES} at most (a /10)`);
  t.throws(() => new AddressPool(big), RangeError);
  const pool = new AddressPool(ranges("10.0.0.1\n"));
  pool.allocate("a");
  t.throws(() => pool.reload(big), RangeError);
  t.same(pool.sizes(), { total: 1, free: 0, inUse: 1, static: 0, retired: 0 }, "unchanged by a refused reload");
  t.end();
});

void t.test("a /14: 250,000 allocations and releases in bounded time", (t) => {
  const pool = new AddressPool(ranges("10.0.0.0/14\n"));
  const total = pool.sizes().total;
  t.equal(total, 262_144 - 2 * 1024, "a /14 less its .0 and .255 addresses (the network address is one of them)");
  const n = 250_000;
  const users = Array.from({ length: n }, (_, i) => `user${i}@example.net`);
  const held = new Uint32Array(n);
  const seen = new Set<number>();
  let start = performance.now();
  for (let i = 0; i < n; i++) {
    const r = pool.allocate(users[i] ?? "");
    if (!r.ok) break;
    held[i] = r.address;
  }
  const allocateMs = performance.now() - start;
  for (const a of held) seen.add(a);
  t.equal(seen.size, n, "250,000 distinct addresses");
  t.same(pool.sizes(), { total, free: total - n, inUse: n, static: 0, retired: 0 });

  start = performance.now();
  let released = 0;
  for (const a of held) if (pool.release(a)) released++;
  const releaseMs = performance.now() - start;
  t.equal(released, n);
  t.equal(pool.sizes().free, total);

  // Every user comes back, in reverse order, and finds their own address.
  start = performance.now();
  let previous = 0;
  for (let i = n - 1; i >= 0; i--) {
    const r = pool.allocate(users[i] ?? "");
    if (r.ok && r.source === "previous" && r.address === held[i]) previous++;
  }
  const returnMs = performance.now() - start;
  t.equal(previous, n, "every returning user got their previous address");

  start = performance.now();
  const reload = pool.reload(ranges("10.0.0.0/14\n"));
  const reloadMs = performance.now() - start;
  t.same(reload, { added: 0, removed: 0, retired: 0 });
  t.equal(pool.sizes().inUse, n);
  t.comment(
    `/14 pool (${total} addresses): 250,000 allocations ${allocateMs.toFixed(0)} ms, releases ${releaseMs.toFixed(0)} ms, ` +
      `returning users ${returnMs.toFixed(0)} ms, reload ${reloadMs.toFixed(0)} ms`,
  );
  t.end();
});

/** The pool's rules written the plain way (arrays and scans), to check the typed-array version against. */
class ModelPool {
  free: number[] = [];
  holder = new Map<number, { user: string; remember: boolean; outside: boolean }>();
  lastUser = new Map<number, string>();
  latest = new Map<string, number>();
  owned = new Set<number>();

  constructor(addresses: readonly number[]) {
    for (const a of addresses) this.owned.add(a);
    this.free = [...addresses];
  }

  allocate(user: string, requested: number | undefined, remember: boolean): AllocateResult {
    if (requested !== undefined) {
      const held = this.holder.get(requested);
      if (held !== undefined) return { ok: false, reason: "in-use", address: requested, user: held.user };
      if (!this.owned.has(requested)) {
        this.holder.set(requested, { user, remember, outside: true });
        return { ok: true, address: requested, source: "outside" };
      }
      this.take(requested, user, remember);
      return { ok: true, address: requested, source: "requested" };
    }
    const previous = remember ? this.latest.get(user) : undefined;
    if (previous !== undefined && this.free.includes(previous)) {
      this.take(previous, user, remember);
      return { ok: true, address: previous, source: "previous" };
    }
    const first = this.free[0];
    if (first === undefined) return { ok: false, reason: "exhausted" };
    this.take(first, user, remember);
    return { ok: true, address: first, source: "free" };
  }

  private take(a: number, user: string, remember: boolean): void {
    this.free.splice(this.free.indexOf(a), 1);
    const last = this.lastUser.get(a);
    if (last !== undefined && this.latest.get(last) === a) this.latest.delete(last);
    this.lastUser.delete(a);
    if (remember) {
      this.latest.set(user, a);
      this.lastUser.set(a, user);
    }
    this.holder.set(a, { user, remember, outside: false });
  }

  release(a: number): boolean {
    const held = this.holder.get(a);
    if (held === undefined) return false;
    this.holder.delete(a);
    if (this.owned.has(a)) this.free.push(a);
    return true;
  }

  reload(addresses: readonly number[]): void {
    const next = new Set(addresses);
    const fresh = addresses.filter((a) => !this.owned.has(a) && !this.holder.has(a));
    for (const a of this.owned) if (!next.has(a)) this.lastUser.delete(a);
    for (const [user, a] of this.latest) if (!next.has(a)) this.latest.delete(user);
    for (const [a, held] of this.holder) {
      if (this.owned.has(a) && !next.has(a)) this.holder.set(a, { ...held, outside: true });
      if (!this.owned.has(a) && next.has(a)) {
        this.holder.set(a, { ...held, outside: false });
        if (held.remember) {
          this.lastUser.set(a, held.user);
          // A user's address in the pool stays their previous one.
          if (!this.latest.has(held.user)) this.latest.set(held.user, a);
        }
      }
    }
    this.free = [...fresh, ...this.free.filter((a) => next.has(a))];
    this.owned = next;
  }

  sizes(): { total: number; free: number; inUse: number; outside: number } {
    const outside = [...this.holder.values()].filter((h) => h.outside).length;
    return { total: this.owned.size, free: this.free.length, inUse: this.holder.size - outside, outside };
  }
}

void t.test("random operations agree with a plain model (fast-check)", (t) => {
  const candidates = Array.from({ length: 12 }, (_, i) => ip(`10.0.0.${i + 1}`));
  const poolArb = fc.shuffledSubarray(candidates);
  const userArb = fc.constantFrom("a", "b", "c", "d", "e");
  const opArb = fc.oneof(
    fc.record({ op: fc.constant("allocate" as const), user: userArb, requested: fc.option(fc.constantFrom(...candidates, ip("10.0.1.1"), ip("10.0.1.2")), { nil: undefined }), remember: fc.boolean() }),
    fc.record({ op: fc.constant("release" as const), address: fc.constantFrom(...candidates, ip("10.0.1.1"), ip("10.0.1.2")) }),
    fc.record({ op: fc.constant("reload" as const), pool: poolArb }),
  );
  const text = (addresses: readonly number[]): string => addresses.map((a) => `${formatIpv4(a)}\n`).join("");
  fc.assert(
    fc.property(poolArb, fc.array(opArb, { maxLength: 60 }), (initial, ops) => {
      const pool = new AddressPool(ranges(text(initial)));
      const model = new ModelPool(initial);
      for (const o of ops) {
        if (o.op === "allocate") {
          const got = pool.allocate(o.user, o.requested, { remember: o.remember });
          const want = model.allocate(o.user, o.requested, o.remember);
          if (!isDeepStrictEqual(got, want)) throw new Error(`allocate ${JSON.stringify(o)}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
        } else if (o.op === "release") {
          if (pool.release(o.address) !== model.release(o.address)) throw new Error(`release ${formatIpv4(o.address)}`);
        } else {
          pool.reload(ranges(text(o.pool)));
          model.reload(o.pool);
        }
        const s = pool.sizes();
        const m = model.sizes();
        if (s.total !== m.total || s.free !== m.free || s.inUse !== m.inUse || s.static + s.retired !== m.outside) {
          throw new Error(`sizes ${JSON.stringify(s)} != ${JSON.stringify(m)}`);
        }
        const held = [...pool.entries()].filter((e) => e.state !== "free").map((e) => e.address);
        if (new Set(held).size !== held.length || held.length !== model.holder.size) throw new Error("an address is held twice");
      }
    }),
    { numRuns: 2000 },
  );
  t.pass("2000 random runs agree");
  t.end();
});
