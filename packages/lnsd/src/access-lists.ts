// The startup-config's access lists (ip access-list standard|extended, startup-config(5)) as the
// data plane's compiled filters: wildcards become match masks, TCP flag names become bits.
import type { AccessList, AddressMatch, PortMatch, TcpFlag, TcpFlagsMatch } from "@lnsd/config";
import type { FilterList, FilterRule, PortTest, TcpTest } from "@lnsd/dataplane";
import { parseIpv4 } from "@lnsd/wire";

/** RFC 793 3.1: the flags byte of the TCP header. */
const FLAG_BITS: Readonly<Record<TcpFlag, number>> = { fin: 0x01, syn: 0x02, rst: 0x04, psh: 0x08, ack: 0x10, urg: 0x20 };

function address(a: AddressMatch | undefined): { address: number; mask: number } {
  if (a === undefined || a.kind === "any") return { address: 0, mask: 0 };
  const at = parseIpv4(a.address) ?? 0;
  // A wildcard's 1 bits are "don't care" (Cisco's inverse mask).
  const mask = a.kind === "host" ? -1 : ~(parseIpv4(a.wildcard) ?? 0) | 0;
  return { address: at & mask, mask };
}

function ports(p: PortMatch | undefined): { port?: PortTest } {
  if (p === undefined) return {};
  return { port: p.op === "range" ? { op: "range", from: p.from, to: p.to } : { op: p.op, port: p.port } };
}

function flags(f: TcpFlagsMatch | undefined): { tcp?: TcpTest } {
  if (f === undefined) return {};
  if (f.kind === "established") return { tcp: { kind: "established" } };
  const bits = (names: readonly TcpFlag[]): number => names.reduce((a, n) => a | FLAG_BITS[n], 0);
  return { tcp: { kind: f.kind, set: bits(f.set), clear: bits(f.clear) } };
}

export function filterListsFrom(lists: readonly AccessList[]): FilterList[] {
  return lists.map((l) => ({
    name: l.name,
    rules: l.type === "standard"
      ? l.rules.map((r): FilterRule => ({ permit: r.action === "permit", protocol: 0, source: address(r.source), destination: address(r.destination) }))
      : l.rules.map((r): FilterRule => {
          const sp = r.protocol === "ip" ? {} : ports(r.sourcePort);
          const dp = r.protocol === "ip" ? {} : ports(r.destinationPort);
          return {
            permit: r.action === "permit",
            protocol: r.protocol === "tcp" ? 6 : r.protocol === "udp" ? 17 : 0,
            source: address(r.source),
            destination: address(r.destination),
            ...(sp.port === undefined ? {} : { sourcePort: sp.port }),
            ...(dp.port === undefined ? {} : { destinationPort: dp.port }),
            ...(r.protocol === "tcp" ? flags(r.tcpFlags) : {}),
            ...(r.fragments ? { fragments: true } : {}),
          };
        }),
  }));
}
