// The ip_pool file: the IPv4 addresses handed to subscribers, one entry per line, an address or a
// network "ADDRESS/BITS", optionally prefixed "BIND_ADDRESS:" so that a cluster can share one file
// (the entry is then used only by the node with that bind_address). As l2tpns 2.4.1 does, a network
// gives all its addresses but the network address, and no address ending in .0 or .255 is handed out.
// Ranges stay ranges: addresses are counted and listed lazily, so a /8 costs one object.
import { formatIpv4, parseIpv4 } from "@lnsd/wire";
import { fileLines, Problems, type ConfigResult } from "./errors.js";

export interface IpPoolRange {
  readonly line: number;
  /** From a "BIND_ADDRESS:" prefix: only the node with this bind_address uses the entry. */
  readonly bindAddress?: string;
  /** The network (masked) and its prefix length; 32 for a single address. */
  readonly network: number;
  readonly prefixLength: number;
  /** Inclusive bounds of the addresses the entry gives (before the .0/.255 rule). */
  readonly first: number;
  readonly last: number;
}

export interface IpPool {
  readonly ranges: readonly IpPoolRange[];
}

function maskOf(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

/** The entry as it would be written back: "a.b.c.d" or "a.b.c.d/n", with any bind prefix. */
export function formatPoolRange(r: IpPoolRange): string {
  const bind = r.bindAddress === undefined ? "" : `${r.bindAddress}:`;
  return r.prefixLength === 32 ? `${bind}${formatIpv4(r.network)}` : `${bind}${formatIpv4(r.network)}/${r.prefixLength}`;
}

export function parseIpPool(text: string, file = "ip_pool"): ConfigResult<IpPool> {
  const problems = new Problems(file);
  const ranges: IpPoolRange[] = [];
  fileLines(text).forEach((raw, i) => {
    const line = i + 1;
    const hash = raw.search(/(^|\s)#/);
    const entry = (hash < 0 ? raw : raw.slice(0, hash)).trim();
    if (entry === "") return;
    if (/\s/.test(entry)) {
      problems.error(line, `'${entry}': one address or network per line`);
      return;
    }
    let bindAddress: string | undefined;
    let spec = entry;
    const colon = entry.indexOf(":");
    if (colon >= 0) {
      bindAddress = entry.slice(0, colon);
      spec = entry.slice(colon + 1);
      if (parseIpv4(bindAddress, { syntax: "strict" }) === undefined) {
        problems.error(line, `'${bindAddress}' (before ':') is not an IPv4 bind address`);
        return;
      }
    }
    const slash = spec.indexOf("/");
    const addressText = slash < 0 ? spec : spec.slice(0, slash);
    const address = parseIpv4(addressText, { syntax: "strict" });
    if (address === undefined) {
      problems.error(line, `'${addressText}' is not an IPv4 address`);
      return;
    }
    let prefixLength = 32;
    if (slash >= 0) {
      const bits = spec.slice(slash + 1);
      if (!/^[0-9]+$/.test(bits) || Number(bits) < 1 || Number(bits) > 32) {
        problems.error(line, `'${spec}': the prefix length must be 1 to 32`);
        return;
      }
      prefixLength = Number(bits);
    }
    const network = (address & maskOf(prefixLength)) >>> 0;
    if (network !== address) {
      problems.warn(line, `${spec} is not a network address; using ${formatIpv4(network)}/${prefixLength}`);
    }
    const size = 2 ** (32 - prefixLength);
    // A single address (or /32) is itself; a network skips its network address, as l2tpns does.
    const first = prefixLength === 32 ? network : network + 1;
    const last = network + size - 1;
    const range: IpPoolRange = { line, ...(bindAddress === undefined ? {} : { bindAddress }), network, prefixLength, first, last };
    if (poolRangeSize(range) === 0) {
      problems.warn(line, `${formatPoolRange(range)} gives no address (addresses ending in .0 or .255 are never handed out)`);
    }
    ranges.push(range);
  });
  checkOverlaps(ranges, problems);
  return problems.result({ ranges });
}

/** Two entries that one node would both use must not share an address: it would be handed out twice. */
function checkOverlaps(ranges: readonly IpPoolRange[], problems: Problems): void {
  const sorted = [...ranges].sort((a, b) => a.first - b.first || a.line - b.line);
  sorted.forEach((a, i) => {
    for (let j = i + 1; j < sorted.length; j++) {
      const b = sorted[j];
      if (b === undefined || b.first > a.last) break;
      const sameNode = a.bindAddress === undefined || b.bindAddress === undefined || a.bindAddress === b.bindAddress;
      if (!sameNode) continue;
      const [early, late] = a.line < b.line ? [a, b] : [b, a];
      problems.error(late.line, `${formatPoolRange(late)} overlaps ${formatPoolRange(early)} (line ${early.line})`);
    }
  });
}

/** Numbers n in [0, x] with n % 256 === low. */
function countLowByte(x: number, low: number): number {
  return x < low ? 0 : Math.floor((x - low) / 256) + 1;
}

const usable = (n: number): boolean => (n & 0xff) !== 0 && (n & 0xff) !== 0xff;

/** How many addresses the entry hands out, without listing them. */
export function poolRangeSize(r: IpPoolRange): number {
  const inRange = (low: number): number => countLowByte(r.last, low) - (r.first > 0 ? countLowByte(r.first - 1, low) : 0);
  return r.last - r.first + 1 - inRange(0) - inRange(0xff);
}

/** The addresses of one entry, as unsigned 32-bit numbers, in order, produced one at a time. */
export function* poolRangeAddresses(r: IpPoolRange): Generator<number, void, undefined> {
  for (let n = r.first; n <= r.last; n++) if (usable(n)) yield n;
}

/** The entries a node uses: those without a bind prefix and those for its bind_address. */
export function poolRangesFor(pool: IpPool, bindAddress: string): IpPoolRange[] {
  return pool.ranges.filter((r) => r.bindAddress === undefined || r.bindAddress === bindAddress);
}

/** How many addresses a list of entries hands out. */
export function poolSize(ranges: readonly IpPoolRange[]): number {
  return ranges.reduce((sum, r) => sum + poolRangeSize(r), 0);
}
