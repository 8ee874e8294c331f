// Textual IPv6 addresses as the config files write them: RFC 4291 2.2 text, printed back in
// RFC 5952 form. IPv4 text is @lnsd/wire's parseIpv4 with { syntax: "strict" } (no leading zeros,
// no shorthand).
import { parseIpv4 } from "@lnsd/wire";

/** Parses IPv6 text (with an optional trailing dotted quad) to its 8 groups, or undefined. Zone ids are refused. */
export function parseIpv6(text: string): number[] | undefined {
  if (text.includes("%")) return undefined;
  let head = text;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(":");
  if (text.slice(lastColon + 1).includes(".")) {
    const v4 = parseIpv4(text.slice(lastColon + 1), { syntax: "strict" });
    if (v4 === undefined || lastColon < 0) return undefined;
    tail.push(v4 >>> 16, v4 & 0xffff);
    // Keep the colon: "::1.2.3.4" becomes "::" and "a::1.2.3.4" becomes "a::".
    head = text.slice(0, lastColon + 1);
    if (!head.endsWith("::")) head = head.slice(0, -1);
  }
  const groupsOf = (s: string): number[] | undefined => {
    if (s === "") return [];
    const out: number[] = [];
    for (const g of s.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const want = 8 - tail.length;
  const gap = head.indexOf("::");
  if (gap < 0) {
    const groups = groupsOf(head);
    if (groups?.length !== want) return undefined;
    return [...groups, ...tail];
  }
  if (head.indexOf("::", gap + 1) >= 0) return undefined;
  const left = groupsOf(head.slice(0, gap));
  const right = groupsOf(head.slice(gap + 2));
  if (left === undefined || right === undefined) return undefined;
  const zeros = want - left.length - right.length;
  if (zeros < 1) return undefined;
  return [...left, ...(new Array<number>(zeros).fill(0)), ...right, ...tail];
}

/** RFC 5952 4: lower case, no leading zeros, the longest run (of two or more) of zero groups as "::". */
export function formatIpv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: readonly number[]): string => gs.map((g) => g.toString(16)).join(":");
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

export function isIpv6(text: string): boolean {
  return parseIpv6(text) !== undefined;
}

/** The canonical (RFC 5952) form of an IPv6 address, or undefined if it is not one. */
export function canonicalIpv6(text: string): string | undefined {
  const groups = parseIpv6(text);
  return groups === undefined ? undefined : formatIpv6(groups);
}
