import t from "tap";
import { existsSync, readFileSync } from "node:fs";
import { formatIpv4 } from "@lnsd/wire";
import {
  formatConfigError,
  formatPoolRange,
  parseIpPool,
  poolRangeAddresses,
  poolRangeSize,
  poolRangesFor,
  poolSize,
  type ConfigResult,
  type IpPool,
} from "../src/index.js";

const here = (p: string): string => new URL(p, import.meta.url).pathname;

function pool(text: string): IpPool {
  const r = parseIpPool(text, "ip_pool");
  if (!r.ok) throw new Error(r.errors.map(formatConfigError).join("\n"));
  return r.value;
}

const addresses = (p: IpPool): string[] => p.ranges.flatMap((r) => [...poolRangeAddresses(r)].map(formatIpv4));
const messages = (r: ConfigResult<unknown>): string[] => (r.ok ? [] : r.errors.map(formatConfigError));

void t.test("the example pools", (t) => {
  for (const file of ["/etc/l2tpns/ip_pool", here("../../../../etc/ip_pool")]) {
    if (!existsSync(file)) continue;
    const r = parseIpPool(readFileSync(file, "utf8"), file);
    t.same(messages(r), [], file);
    t.same(r.warnings, [], file);
    if (r.ok) t.ok(poolSize(r.value.ranges) > 0, file);
  }
  t.end();
});

void t.test("what each entry gives, as l2tpns 2.4.1 does", (t) => {
  // The same file was loaded into l2tpns 2.4.1 and `show pool all` listed these addresses
  // (except where noted: lnsd reads a /32 as the address, and allows leading blanks).
  const p = pool(
    [
      "# comment",
      "",
      "10.3.0.0/30",
      "10.2.0.5",
      "10.5.0.0/29",
      "127.0.0.1:10.6.0.0/30",
      "1.2.3.4:10.7.0.0/30",
      "10.8.0.9 ",
      "  10.9.0.1",
      "10.11.0.0/31",
      "10.12.0.255",
      "10.13.0.7/32",
      "10.14.0.0/24 # trailing comment",
    ].join("\n"),
  );
  const mine = poolRangesFor(p, "127.0.0.1");
  const got = mine.flatMap((r) => [...poolRangeAddresses(r)].map(formatIpv4));
  const slash24 = Array.from({ length: 254 }, (_, i) => `10.14.0.${i + 1}`);
  t.same(got, [
    "10.3.0.1", "10.3.0.2", "10.3.0.3", // the network address is skipped, the broadcast address is not
    "10.2.0.5",
    "10.5.0.1", "10.5.0.2", "10.5.0.3", "10.5.0.4", "10.5.0.5", "10.5.0.6", "10.5.0.7",
    "10.6.0.1", "10.6.0.2", "10.6.0.3", // for this node only
    "10.8.0.9",
    "10.9.0.1",
    "10.11.0.1",
    // 10.12.0.255: never handed out
    "10.13.0.7",
    ...slash24,
  ]);
  t.equal(poolSize(mine), got.length);
  t.same(poolRangesFor(p, "1.2.3.4").map(formatPoolRange).filter((s) => s.includes(":")), ["1.2.3.4:10.7.0.0/30"]);
  t.same(p.ranges.map((r) => r.line), [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
  t.end();
});

void t.test(".0 and .255 are skipped inside larger networks", (t) => {
  const p = pool("10.1.0.0/23\n");
  const got = addresses(p);
  t.equal(got.length, 508);
  t.equal(got[0], "10.1.0.1");
  t.notOk(got.includes("10.1.0.255"));
  t.notOk(got.includes("10.1.1.0"));
  t.equal(got[got.length - 1], "10.1.1.254");
  t.end();
});

void t.test("big networks stay ranges", (t) => {
  const p = pool("10.0.0.0/8\n172.16.0.0/12\n");
  t.equal(p.ranges.length, 2);
  const [a] = p.ranges;
  if (a === undefined) return;
  // A /8 has 65536 /24s, each giving 254 addresses.
  t.equal(poolRangeSize(a), 65536 * 254);
  t.equal(poolSize(p.ranges), 65536 * 254 + 4096 * 254);
  const it = poolRangeAddresses(a);
  const firstThree = [it.next().value, it.next().value, it.next().value].map((n) => formatIpv4(n ?? 0));
  t.same(firstThree, ["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
  // Sizes by arithmetic agree with counting, on awkward bounds.
  for (const entry of ["10.0.0.0/16", "10.0.0.128/25", "10.0.0.0/22", "192.0.2.254/31", "0.0.0.0/1"]) {
    const [r] = pool(`${entry}\n`).ranges;
    if (r === undefined) continue;
    if (r.last - r.first < 300_000) t.equal(poolRangeSize(r), [...poolRangeAddresses(r)].length, entry);
    else t.equal(poolRangeSize(r), 2 ** 31 / 256 * 254, entry);
  }
  t.end();
});

void t.test("errors and warnings name the file and line", (t) => {
  const r = parseIpPool(
    [
      "10.0.0.0/24",
      "bogus",
      "10.10.0.0/abc",
      "10.10.0.0/0",
      "10.10.0.0/33",
      "10.0.0.5",
      "10.0.1.7/29",
      "10.0.2.0 10.0.3.0",
      "300.1.2.3",
      "x.y:10.0.4.0/24",
      "192.0.2.1:10.0.0.0/25",
      "192.0.2.1:10.0.5.0/24",
      "192.0.2.2:10.0.5.0/24",
      "10.0.6.0",
    ].join("\n"),
    "ip_pool",
  );
  t.same(messages(r), [
    "ip_pool:2: 'bogus' is not an IPv4 address",
    "ip_pool:3: '10.10.0.0/abc': the prefix length must be 1 to 32",
    "ip_pool:4: '10.10.0.0/0': the prefix length must be 1 to 32",
    "ip_pool:5: '10.10.0.0/33': the prefix length must be 1 to 32",
    "ip_pool:6: 10.0.0.5 overlaps 10.0.0.0/24 (line 1)",
    "ip_pool:8: '10.0.2.0 10.0.3.0': one address or network per line",
    "ip_pool:9: '300.1.2.3' is not an IPv4 address",
    "ip_pool:10: 'x.y' (before ':') is not an IPv4 bind address",
    "ip_pool:11: 192.0.2.1:10.0.0.0/25 overlaps 10.0.0.0/24 (line 1)",
    "ip_pool:11: 192.0.2.1:10.0.0.0/25 overlaps 10.0.0.5 (line 6)",
  ]);
  t.same(r.warnings.map(formatConfigError), [
    "ip_pool:7: 10.0.1.7/29 is not a network address; using 10.0.1.0/29",
    "ip_pool:14: 10.0.6.0 gives no address (addresses ending in .0 or .255 are never handed out)",
  ]);
  t.end();
});
