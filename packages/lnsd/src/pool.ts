// The address pool: hands out the subscriber addresses of ip_pool and takes them back, the way
// l2tpns does (a returning user gets their previous address; otherwise the address free longest),
// and tracks addresses given from outside the pool so that no address is held twice. Owned by the
// control thread; allocate and release are O(1) in the pool size.
//
// Memory: one slot per pool address in typed arrays (address 4 bytes, state 1, free-list links 8,
// time 8) and one pointer to a user name (8): 29 bytes. Measured on Node 20, x64, with a /14
// (260,096 addresses): 7.6 MB empty (29 bytes per address); each remembered user adds 22 bytes (its
// entry in the user-to-address Map) and keeps its name string alive after its session ends (about
// 40 to 70 bytes for a 20-character name). An address held from outside the pool (a static RADIUS
// address, or one dropped from ip_pool by a reload while in use) costs one Map entry until released.
import { poolSize, type IpPoolRange } from "@lnsd/config";
import { systemClock, type Clock } from "@lnsd/io";

/** Most addresses in one node's pool (a /10; about 120 MB). l2tpns stops at 131,072 and drops the rest. */
export const MAX_POOL_ADDRESSES = 4_194_304;

/** Why these ranges (this node's entries of ip_pool) cannot make a pool, or undefined if they can. */
export function poolRangesProblem(ranges: readonly IpPoolRange[]): string | undefined {
  const size = poolSize(ranges);
  return size > MAX_POOL_ADDRESSES
    ? `ip_pool gives this node ${size} addresses; lnsd handles ${MAX_POOL_ADDRESSES} at most (a /10)`
    : undefined;
}

/** How an address was given. */
export type AllocationSource =
  /** The user's previous address, free again (l2tpns: "Reusing"). */
  | "previous"
  /** The pool address that has been free longest (never-used addresses first). */
  | "free"
  /** The requested address (RADIUS Framed-IP-Address), which lies in the pool and was free. */
  | "requested"
  /** The requested address, which lies outside the pool: used as is, tracked against reuse. */
  | "outside";

export type AllocateResult =
  | { readonly ok: true; readonly address: number; readonly source: AllocationSource }
  /** No free address (or none configured): answer the LAC "try another LNS" (CDN result 2, error 7). */
  | { readonly ok: false; readonly reason: "exhausted" }
  /** The requested address is held by another session, whose user is named. */
  | { readonly ok: false; readonly reason: "in-use"; readonly address: number; readonly user: string };

export interface AllocateOptions {
  /**
   * Remember the user as the address's last user, so that they get it back next time (default
   * true). l2tpns does not for walled-garden sessions: they get no previous address either.
   */
  readonly remember?: boolean;
}

export type PoolEntryState =
  | "free"
  | "in-use"
  /** Outside the pool, given as requested (a static RADIUS address). */
  | "static"
  /** Dropped from ip_pool by a reload while in use: leaves for good when released. */
  | "retired";

export interface PoolEntry {
  readonly address: number;
  readonly state: PoolEntryState;
  /** In use: the holder. Free: the last user remembered, if any. */
  readonly user?: string;
  /** Free: when it was last released (clock milliseconds); absent if never used. */
  readonly freedAtMs?: number;
  /** In use (pool addresses only): when it was given. */
  readonly allocatedAtMs?: number;
}

export interface PoolSizes {
  /** Addresses in ip_pool for this node. */
  readonly total: number;
  readonly free: number;
  /** Pool addresses in use. */
  readonly inUse: number;
  /** Addresses in use from outside the pool (static) and dropped from it while in use (retired). */
  readonly static: number;
  readonly retired: number;
}

export interface ReloadSummary {
  /** Addresses new to the pool, now free. */
  readonly added: number;
  /** Addresses gone from the pool: free ones dropped at once, in-use ones retired. */
  readonly removed: number;
  readonly retired: number;
}

/** RFC 2865 5.8: 0xFFFFFFFE asks the NAS to choose, 0xFFFFFFFF lets the user; 0 is no address. */
const NAS_CHOOSES = new Set([0, 0xfffffffe, 0xffffffff]);

const FREE = 0;
const IN_USE = 1;
/** In use, but the user is not to be remembered when it is released. */
const IN_USE_FORGET = 2;
const NIL = -1;

interface OutsideHold {
  readonly user: string;
  readonly state: "static" | "retired";
  readonly remember: boolean;
}

/** The slots of one pool layout: slot i holds the i-th usable address in address order. */
class Layout {
  /** Ranges sorted by first address: first, last and the slot of the first usable address. */
  private readonly first: number[] = [];
  private readonly last: number[] = [];
  private readonly base: number[] = [];
  readonly size: number;
  readonly address: Uint32Array;
  /** The slots in the order ip_pool lists them (l2tpns hands never-used addresses out in this order). */
  readonly fileOrder: readonly (readonly [number, number])[];

  constructor(ranges: readonly IpPoolRange[]) {
    const problem = poolRangesProblem(ranges);
    if (problem !== undefined) throw new RangeError(problem);
    const sorted = [...ranges].sort((a, b) => a.first - b.first);
    let size = 0;
    let end = -1;
    for (const r of sorted) {
      if (r.first <= end) throw new RangeError(`ip_pool ranges overlap at line ${r.line} (parseIpPool refuses such a file)`);
      end = r.last;
      this.first.push(r.first);
      this.last.push(r.last);
      this.base.push(size);
      size += usableIn(r.first, r.last);
    }
    this.size = size;
    this.address = new Uint32Array(size);
    let slot = 0;
    for (const r of sorted) {
      for (let n = r.first; n <= r.last; n++) if (usable(n)) this.address[slot++] = n;
    }
    // [first slot, slot count] of each range, in file order.
    this.fileOrder = ranges.map((r) => {
      const i = this.first.indexOf(r.first);
      return [this.base[i] ?? 0, usableIn(r.first, r.last)] as const;
    });
  }

  /** The slot of an address, or NIL if the pool does not own it. O(log ranges). */
  slotOf(address: number): number {
    let lo = 0;
    let hi = this.first.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const first = this.first[mid] ?? 0;
      if (address < first) hi = mid - 1;
      else if (address > (this.last[mid] ?? 0)) lo = mid + 1;
      else return usable(address) ? (this.base[mid] ?? 0) + usableIn(first, address) - 1 : NIL;
    }
    return NIL;
  }
}

/** l2tpns never hands out an address ending in .0 or .255. */
function usable(n: number): boolean {
  const low = n & 0xff;
  return low !== 0 && low !== 0xff;
}

/** Numbers n in [0, x] with n % 256 === low. */
function lowByteCount(x: number, low: number): number {
  return x < low ? 0 : Math.floor((x - low) / 256) + 1;
}

/** Usable addresses in [a, b]. */
function usableIn(a: number, b: number): number {
  if (b < a) return 0;
  const skipped = (low: number): number => lowByteCount(b, low) - lowByteCount(a - 1, low);
  return b - a + 1 - skipped(0) - skipped(0xff);
}

export class AddressPool {
  private layout: Layout;
  private state: Uint8Array;
  /** FIFO of free slots, doubly linked so that a returning user's address leaves from the middle. */
  private next: Int32Array;
  private prev: Int32Array;
  private head = NIL;
  private tail = NIL;
  /** When each slot was last given or released; NaN if never. */
  private changedAtMs: Float64Array;
  /** The holder of an in-use slot; the remembered last user of a free one. */
  private user: (string | undefined)[];
  /** Each remembered user's latest address, for the O(1) "previous address" lookup. */
  private lastSlotOf = new Map<string, number>();
  private outside = new Map<number, OutsideHold>();
  private freeCount = 0;
  private retiredCount = 0;

  /**
   * `ranges`: this node's entries of ip_pool, i.e. poolRangesFor(ipPool, bind_address), as
   * parseIpPool accepted them (no overlaps) and within MAX_POOL_ADDRESSES (check poolRangesProblem
   * first: a pool that breaks either rule is a RangeError, as in reload).
   */
  constructor(
    ranges: readonly IpPoolRange[],
    private readonly clock: Pick<Clock, "now"> = systemClock,
  ) {
    this.layout = new Layout(ranges);
    const n = this.layout.size;
    this.state = new Uint8Array(n);
    this.next = new Int32Array(n);
    this.prev = new Int32Array(n);
    this.changedAtMs = new Float64Array(n).fill(NaN);
    this.user = new Array<string | undefined>(n).fill(undefined);
    for (const [first, count] of this.layout.fileOrder) for (let s = first; s < first + count; s++) this.pushFree(s);
  }

  /**
   * An address for a new session of `username`. With `requested` (a RADIUS Framed-IP-Address), that
   * address: taken from the pool if it lies in it, else used as is and tracked; refused if another
   * session holds it. Without, the user's previous address if it is free, else the address free longest.
   */
  allocate(username: string, requested?: number, options: AllocateOptions = {}): AllocateResult {
    const remember = options.remember ?? true;
    if (requested !== undefined && !NAS_CHOOSES.has(checkAddress(requested))) return this.allocateRequested(username, requested, remember);

    let slot = NIL;
    let source: AllocationSource = "free";
    const previous = remember ? this.lastSlotOf.get(username) : undefined;
    if (previous !== undefined && this.state[previous] === FREE && this.user[previous] === username) {
      slot = previous;
      source = "previous";
    } else {
      slot = this.head;
    }
    if (slot === NIL) return { ok: false, reason: "exhausted" };
    this.take(slot, username, remember);
    return { ok: true, address: this.layout.address[slot] ?? 0, source };
  }

  private allocateRequested(username: string, address: number, remember: boolean): AllocateResult {
    const slot = this.layout.slotOf(address);
    if (slot !== NIL) {
      if (this.state[slot] !== FREE) return { ok: false, reason: "in-use", address, user: this.user[slot] ?? "" };
      this.take(slot, username, remember);
      return { ok: true, address, source: "requested" };
    }
    const held = this.outside.get(address);
    if (held !== undefined) return { ok: false, reason: "in-use", address, user: held.user };
    this.outside.set(address, { user: username, state: "static", remember });
    return { ok: true, address, source: "outside" };
  }

  /** Takes an address back when its session ends. False if it was not held (already released). */
  release(address: number): boolean {
    const slot = this.layout.slotOf(checkAddress(address));
    if (slot === NIL) {
      const held = this.outside.get(address);
      if (held === undefined) return false;
      this.outside.delete(address);
      if (held.state === "retired") this.retiredCount--;
      return true;
    }
    const state = this.state[slot];
    if (state === FREE) return false;
    if (state === IN_USE_FORGET) this.user[slot] = undefined;
    this.state[slot] = FREE;
    this.changedAtMs[slot] = this.clock.now();
    this.pushFree(slot);
    return true;
  }

  /** Whether the address is one of the pool's (not whether it is free). */
  owns(address: number): boolean {
    return this.layout.slotOf(checkAddress(address)) !== NIL;
  }

  sizes(): PoolSizes {
    const total = this.layout.size;
    return {
      total,
      free: this.freeCount,
      inUse: total - this.freeCount,
      static: this.outside.size - this.retiredCount,
      retired: this.retiredCount,
    };
  }

  /** One address as `entries()` lists it; undefined if neither in the pool nor held. */
  entry(address: number): PoolEntry | undefined {
    const slot = this.layout.slotOf(checkAddress(address));
    if (slot !== NIL) return this.slotEntry(slot);
    const held = this.outside.get(address);
    return held === undefined ? undefined : { address, state: held.state, user: held.user };
  }

  /** Every pool address in address order, then those held from outside it (for `show pool all`). */
  *entries(): Generator<PoolEntry, void, undefined> {
    for (let slot = 0; slot < this.layout.size; slot++) yield this.slotEntry(slot);
    const outside = [...this.outside].sort(([a], [b]) => a - b);
    for (const [address, held] of outside) yield { address, state: held.state, user: held.user };
  }

  private slotEntry(slot: number): PoolEntry {
    const address = this.layout.address[slot] ?? 0;
    const user = this.user[slot];
    const at = this.changedAtMs[slot] ?? NaN;
    const withUser = user === undefined ? {} : { user };
    if (this.state[slot] !== FREE) return { address, state: "in-use", ...withUser, allocatedAtMs: at };
    return { address, state: "free", ...withUser, ...(Number.isNaN(at) ? {} : { freedAtMs: at }) };
  }

  /**
   * A new ip_pool (SIGHUP). Addresses in use stay in use, even if gone from the file (they are then
   * retired: dropped when released); new addresses are free and handed out before the old free ones,
   * as never-used addresses are; the old free ones keep their order and their last users.
   */
  reload(ranges: readonly IpPoolRange[]): ReloadSummary {
    const old = {
      layout: this.layout, state: this.state, next: this.next, head: this.head,
      changedAtMs: this.changedAtMs, user: this.user, lastSlotOf: this.lastSlotOf,
    };
    this.layout = new Layout(ranges);
    const n = this.layout.size;
    this.state = new Uint8Array(n);
    this.next = new Int32Array(n);
    this.prev = new Int32Array(n);
    this.changedAtMs = new Float64Array(n).fill(NaN);
    this.user = new Array<string | undefined>(n).fill(undefined);
    this.lastSlotOf = new Map();
    this.head = this.tail = NIL;
    this.freeCount = 0;

    const known = new Uint8Array(n);
    let removed = 0;
    let retired = 0;
    for (let s = 0; s < old.layout.size; s++) {
      const address = old.layout.address[s] ?? 0;
      const state = old.state[s] ?? FREE;
      const slot = this.layout.slotOf(address);
      if (slot === NIL) {
        removed++;
        if (state !== FREE) {
          this.outside.set(address, { user: old.user[s] ?? "", state: "retired", remember: state === IN_USE });
          retired++;
        }
        continue;
      }
      known[slot] = 1;
      this.state[slot] = state;
      this.user[slot] = old.user[s];
      this.changedAtMs[slot] = old.changedAtMs[s] ?? NaN;
    }
    for (const [user, s] of old.lastSlotOf) {
      const slot = this.layout.slotOf(old.layout.address[s] ?? 0);
      if (slot !== NIL) this.lastSlotOf.set(user, slot);
    }
    // Addresses held from outside the old pool that the new one covers come under its care; they
    // become their user's previous address only if the user has none in the pool.
    for (const [address, held] of this.outside) {
      const slot = this.layout.slotOf(address);
      if (slot === NIL || known[slot] === 1) continue;
      known[slot] = 1;
      this.outside.delete(address);
      this.state[slot] = held.remember ? IN_USE : IN_USE_FORGET;
      this.user[slot] = held.user;
      this.changedAtMs[slot] = this.clock.now();
      if (held.remember && !this.lastSlotOf.has(held.user)) this.lastSlotOf.set(held.user, slot);
    }
    this.retiredCount = 0;
    for (const held of this.outside.values()) if (held.state === "retired") this.retiredCount++;

    let added = 0;
    for (const [first, count] of this.layout.fileOrder) {
      for (let s = first; s < first + count; s++) {
        if (known[s] === 1) continue;
        added++;
        this.pushFree(s);
      }
    }
    for (let s = old.head; s !== NIL; s = old.next[s] ?? NIL) {
      const slot = this.layout.slotOf(old.layout.address[s] ?? 0);
      if (slot !== NIL && this.state[slot] === FREE) this.pushFree(slot);
    }
    return { added, removed, retired };
  }

  /** Appends a slot to the free FIFO: the most recently freed address is handed out last. */
  private pushFree(slot: number): void {
    this.next[slot] = NIL;
    this.prev[slot] = this.tail;
    if (this.tail === NIL) this.head = slot;
    else this.next[this.tail] = slot;
    this.tail = slot;
    this.freeCount++;
  }

  private take(slot: number, username: string, remember: boolean): void {
    const before = this.prev[slot] ?? NIL;
    const after = this.next[slot] ?? NIL;
    if (before === NIL) this.head = after;
    else this.next[before] = after;
    if (after === NIL) this.tail = before;
    else this.prev[after] = before;
    this.freeCount--;

    const last = this.user[slot];
    if (last !== undefined && this.lastSlotOf.get(last) === slot) this.lastSlotOf.delete(last);
    if (remember) this.lastSlotOf.set(username, slot);
    this.user[slot] = username;
    this.state[slot] = remember ? IN_USE : IN_USE_FORGET;
    this.changedAtMs[slot] = this.clock.now();
  }
}

/** Addresses are unsigned 32-bit numbers (config's parseIpv4); anything else is a caller's bug. */
function checkAddress(address: number): number {
  if (!Number.isInteger(address) || address < 0 || address > 0xffffffff) throw new RangeError(`${address} is not an IPv4 address number`);
  return address;
}
