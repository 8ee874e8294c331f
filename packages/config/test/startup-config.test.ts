import t, { type Test } from "tap";
import { existsSync, readFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import * as fc from "fast-check";
import { formatIpv4 } from "@lnsd/wire";
import {
  STARTUP_VARIABLES,
  formatConfigError,
  formatExtendedRule,
  formatSpecValue,
  formatStandardRule,
  parseStartupConfig,
  writeStartupConfig,
  type ConfigResult,
  type ExtendedRule,
  type StandardRule,
  type StartupConfig,
  type StringFormat,
  type VariableSpec,
} from "../src/index.js";
import { formatIpv6 } from "../src/ip.js";

const here = (p: string): string => new URL(p, import.meta.url).pathname;
const DEBIAN_EXAMPLE = "/etc/l2tpns/startup-config";
const OUR_EXAMPLE = here("../../../../etc/startup-config");
const L2TPNS_RUNNING = here("../../test/fixtures/l2tpns-2.4.1-running-config");

function parsed(text: string): StartupConfig {
  const r = parseStartupConfig(text, "startup-config");
  if (!r.ok) throw new Error(r.errors.map(formatConfigError).join("\n"));
  return r.value;
}

function messages(r: ConfigResult<unknown>): string[] {
  return r.ok ? [] : r.errors.map(formatConfigError);
}

function warnings(r: ConfigResult<unknown>): string[] {
  return r.warnings.map(formatConfigError);
}

function roundTrip(t: Test, cfg: StartupConfig, what: string): void {
  const again = parseStartupConfig(writeStartupConfig(cfg), "written");
  t.same(messages(again), [], `${what}: written file parses`);
  if (again.ok) t.ok(isDeepStrictEqual(again.value, cfg), `${what}: parses back to the same config`);
}

void t.test("Debian's example startup-config", { skip: existsSync(DEBIAN_EXAMPLE) ? false : "l2tpns not installed" }, (t) => {
  const r = parseStartupConfig(readFileSync(DEBIAN_EXAMPLE, "utf8"), DEBIAN_EXAMPLE);
  t.same(messages(r), []);
  t.same(warnings(r), []);
  if (!r.ok) {
    t.end();
    return;
  }
  const s = r.value.settings;
  t.equal(s.debug, 3);
  t.equal(s.log_file, "/var/log/l2tpns");
  t.equal(s.l2tp_secret, "secret");
  t.equal(s.primary_dns, "10.0.0.1");
  t.equal(s.cli_bind_address, "127.0.0.1");
  t.equal(s.ppp_keepalive, true);
  t.equal(r.value.explicit.size, 10);
  roundTrip(t, r.value, "Debian example");
  t.end();
});

void t.test("lnsd's etc/startup-config", (t) => {
  const r = parseStartupConfig(readFileSync(OUR_EXAMPLE, "utf8"), "etc/startup-config");
  t.same(messages(r), []);
  t.same(warnings(r), []);
  if (!r.ok) {
    t.end();
    return;
  }
  t.equal(r.value.settings.bind_address, "127.0.0.1");
  t.same(r.value.settings.radius_authtypes, ["chap", "pap"]);
  t.equal(r.value.settings.primary_radius, "0.0.0.0", "no RADIUS server: local chap-secrets");
  roundTrip(t, r.value, "etc/startup-config");
  t.end();
});

void t.test("a file written by l2tpns 2.4.1 (show running-config)", (t) => {
  // Captured from Debian's l2tpns 2.4.1 in a network namespace: every variable, BGP and filters.
  const r = parseStartupConfig(readFileSync(L2TPNS_RUNNING, "utf8"), "running-config");
  t.same(messages(r), []);
  // Every setting lnsd does not act on yet, and the BGP block, get one warning each (the table says which).
  const text = readFileSync(L2TPNS_RUNNING, "utf8").split("\n");
  const lineOf = (prefix: string): number => text.findIndex((l) => l.startsWith(prefix)) + 1;
  const ignored = STARTUP_VARIABLES.filter((v) => v.status !== "used");
  t.ok(ignored.some((v) => v.name === "accounting_dir") && ignored.some((v) => v.name === "primary_ipv6_dns"));
  t.same(
    warnings(r),
    [
      ...ignored.map((v) => ({ line: lineOf(`set ${v.name} `), text: `running-config:${lineOf(`set ${v.name} `)}: ${v.name}: lnsd does not act on this setting yet: it is ignored` })),
      { line: lineOf("router bgp"), text: `running-config:${lineOf("router bgp")}: router bgp: lnsd does not announce routes over BGP yet: this block is ignored` },
    ].sort((a, b) => a.line - b.line).map((w) => w.text),
  );
  if (!r.ok) {
    t.end();
    return;
  }
  const c = r.value;
  t.equal(c.explicit.size, STARTUP_VARIABLES.filter((v) => v.origin === "l2tpns").length);
  t.equal(c.settings.primary_radius_port, 1812, "l2tpns writes 0 for the default port");
  t.same(c.settings.radius_authtypes, ["chap", "pap"]);
  t.same(c.settings.bind_multi_address, ["127.0.0.1", "127.0.0.2"]);
  t.equal(c.settings.no_throttle_local_IP, true);
  t.equal(c.settings.ipv6_prefix, "2001:db8:1:2::");
  t.same(c.bgp, {
    as: 64512,
    neighbours: [
      { peer: "192.0.2.1", remoteAs: 64513, keepaliveSeconds: 10, holdTimeSeconds: 30 },
      { peer: "192.0.2.2", remoteAs: 64514, keepaliveSeconds: 60, holdTimeSeconds: 180 },
    ],
  });
  t.same(
    c.accessLists.map((l) => [l.name, l.type, l.rules.length]),
    [["std1", "standard", 3], ["ext1", "extended", 6]],
  );
  // Our writer puts the rules back the way l2tpns wrote them.
  const ruleLines = readFileSync(L2TPNS_RUNNING, "utf8").split("\n").filter((l) => /^ (permit|deny) /.test(l));
  const ours = writeStartupConfig(c).split("\n").filter((l) => /^ (permit|deny) /.test(l));
  t.same(ours, ruleLines);
  roundTrip(t, c, "l2tpns running-config");
  t.end();
});

void t.test("all errors are reported, each with file and line", (t) => {
  const text = [
    "# a broken file",
    "set foo bar",
    "set ppp_max_configure abc",
    "set debug",
    "set radius_secret two words",
    "set nexthop 10.0.1.1",
    "set Debug 3",
    "frobnicate now",
    "set bind_address 10.0.0.300",
    "set l2tp_secret \"unterminated",
    "set debug 4",
  ].join("\n");
  const r = parseStartupConfig(text, "startup-config");
  t.same(messages(r), [
    "startup-config:2: unknown variable 'foo'",
    "startup-config:3: ppp_max_configure: 'abc' is not a number, and 0 is out of range (1 to 2147483647)",
    "startup-config:4: debug: missing value",
    "startup-config:5: radius_secret: expected one value, found 2 words (quote a value that contains blanks)",
    "startup-config:6: unknown variable 'nexthop' (did you mean 'nexthop_address'?)",
    "startup-config:7: unknown variable 'Debug' (did you mean 'debug'?)",
    "startup-config:8: unknown command 'frobnicate'",
    "startup-config:9: bind_address: '10.0.0.300' is not an IPv4 address",
    "startup-config:10: unterminated quote (\")",
  ]);
  t.end();
});

void t.test("warnings do not stop a file", (t) => {
  const r = parseStartupConfig('set debug 1\nset debug 2\nset l2tp_secret "ab#cd"\nexit\n', "startup-config");
  t.ok(r.ok);
  t.same(warnings(r), [
    "startup-config:2: debug is set again (first on line 1); the last value wins",
    "startup-config:3: '#' starts a comment even inside quotes (as in l2tpns): the value is cut to 'ab'",
    "startup-config:4: 'exit' outside a block does nothing",
  ]);
  if (r.ok) {
    t.equal(r.value.settings.debug, 2);
    t.equal(r.value.settings.l2tp_secret, "ab");
  }
  t.end();
});

void t.test("commands are case insensitive, variable names are not", (t) => {
  const c = parsed("SET debug 2\nRouter BGP 65000\n Neighbour 192.0.2.1 Remote-AS 65001\n");
  t.equal(c.settings.debug, 2);
  t.equal(c.bgp?.neighbours[0]?.remoteAs, 65001);
  t.end();
});

void t.test("radius_bind_min and radius_bind_max", (t) => {
  t.ok(parseStartupConfig("set radius_bind_min 10000\nset radius_bind_max 10063\n").ok);
  t.same(messages(parseStartupConfig("set radius_bind_min 10000\nset radius_bind_max 10062\n", "sc")), [
    "sc:2: radius_bind_min and radius_bind_max must both be set and span at least 64 ports (10000 to 10062)",
  ]);
  t.same(messages(parseStartupConfig("set radius_bind_min 10000\n", "sc")), [
    "sc:1: radius_bind_min and radius_bind_max must both be set and span at least 64 ports (10000 to 0)",
  ]);
  t.end();
});

void t.test("router bgp", (t) => {
  const c = parsed(
    [
      "router bgp 64512",
      " neighbour 192.0.2.1 remote-as 64513",
      " neighbour 192.0.2.1 timers 10 30",
      " neighbour 192.0.2.1 update-source 192.0.2.10",
      " neighbour rtr2.example.net remote-as 4200000000",
      " neighbour 192.0.2.3 remote-as 64515",
      " neighbour 192.0.2.3 remote-as 64516",
      " neighbour 192.0.2.9 remote-as 64519",
      " no neighbour 192.0.2.9",
      "exit",
      "set debug 1",
      "router bgp 64512",
      " neighbour 192.0.2.4 remote-as 64517",
    ].join("\n"),
  );
  t.same(c.bgp, {
    as: 64512,
    neighbours: [
      { peer: "192.0.2.1", remoteAs: 64513, keepaliveSeconds: 10, holdTimeSeconds: 30, updateSource: "192.0.2.10" },
      { peer: "rtr2.example.net", remoteAs: 4200000000, keepaliveSeconds: 60, holdTimeSeconds: 180 },
      { peer: "192.0.2.3", remoteAs: 64516, keepaliveSeconds: 60, holdTimeSeconds: 180 },
      { peer: "192.0.2.4", remoteAs: 64517, keepaliveSeconds: 60, holdTimeSeconds: 180 },
    ],
  });
  t.equal(parsed("set debug 1").bgp, undefined, "no block, no BGP");
  roundTrip(t, c, "bgp");

  const bad = parseStartupConfig(
    [
      "neighbour 192.0.2.1 remote-as 1",
      "router bgp 64512",
      " neighbour 192.0.2.1 timers 10 30",
      " neighbour 192.0.2.1 remote-as 0",
      " neighbour 192.0.2.1 remote-as 65001",
      " neighbour 192.0.2.1 timers 0 30",
      " neighbour 192.0.2.1 timers 10 2",
      " neighbour 192.0.2.1 timers 10",
      " neighbour 192.0.2.1 update-source rtr1",
      " neighbour 192.0.2.1 password x",
      " neighbour 999.1.1.1 remote-as 1",
      " neighbour bad_name remote-as 1",
      " no neighbour 192.0.2.7",
      "router bgp 64999",
      "router bgp",
      " neighbour 192.0.2.5 remote-as 1",
      "router bgp abc",
      "router ospf 1",
      "ip access-list standard x",
      " neighbour 192.0.2.1 remote-as 1",
    ].join("\n"),
    "sc",
  );
  t.same(messages(bad), [
    "sc:1: 'neighbour' outside a 'router bgp' block",
    "sc:3: neighbour 192.0.2.1: give its remote-as first",
    "sc:4: neighbour 192.0.2.1 remote-as: '0' is not an AS number (1 to 4294967295)",
    "sc:6: neighbour 192.0.2.1 timers: '0' is not a valid keepalive time (1 to 65535 seconds)",
    "sc:7: neighbour 192.0.2.1 timers: '2' is not a valid hold time (3 to 65535 seconds)",
    "sc:8: neighbour: expected 'neighbour PEER timers KEEPALIVE HOLD'",
    "sc:9: neighbour 192.0.2.1 update-source: 'rtr1' is not an IPv4 address",
    "sc:10: neighbour: 'password' is not remote-as, timers or update-source",
    "sc:11: neighbour: '999.1.1.1' is not an IPv4 address or a host name",
    "sc:12: neighbour: 'bad_name' is not an IPv4 address or a host name",
    "sc:13: no neighbour: 192.0.2.7 is not configured",
    "sc:14: router bgp: BGP is already configured with AS 64512 (line 2)",
    "sc:15: router: expected 'router bgp AS'",
    "sc:17: router bgp: 'abc' is not an AS number (1 to 4294967295)",
    "sc:18: router: expected 'router bgp AS'",
    "sc:20: 'neighbour' outside a 'router bgp' block",
  ]);
  t.end();
});

void t.test("standard access lists", (t) => {
  const c = parsed(
    [
      "ip access-list standard office",
      " permit 10.1.0.0 0.0.255.255",
      " deny host 10.2.0.1",
      " permit 10.3.0.1",
      " permit 10.4.0.0 0.0.0.0",
      " permit 10.5.0.0 255.255.255.255",
      " deny any host 192.0.2.1",
      " permit 10.6.0.0 0.0.0.255 10.7.0.0 0.0.0.255",
      " permit any",
    ].join("\n"),
  );
  const rules: StandardRule[] = [
    { action: "permit", source: { kind: "wildcard", address: "10.1.0.0", wildcard: "0.0.255.255" } },
    { action: "deny", source: { kind: "host", address: "10.2.0.1" } },
    { action: "permit", source: { kind: "host", address: "10.3.0.1" } },
    { action: "permit", source: { kind: "host", address: "10.4.0.0" } },
    { action: "permit", source: { kind: "any" } },
    { action: "deny", source: { kind: "any" }, destination: { kind: "host", address: "192.0.2.1" } },
    {
      action: "permit",
      source: { kind: "wildcard", address: "10.6.0.0", wildcard: "0.0.0.255" },
      destination: { kind: "wildcard", address: "10.7.0.0", wildcard: "0.0.0.255" },
    },
    { action: "permit", source: { kind: "any" } },
  ];
  t.same(c.accessLists, [{ name: "office", type: "standard", rules }]);
  t.same(rules.map(formatStandardRule), [
    "permit 10.1.0.0 0.0.255.255",
    "deny host 10.2.0.1",
    "permit host 10.3.0.1",
    "permit host 10.4.0.0",
    "permit any",
    "deny any host 192.0.2.1",
    "permit 10.6.0.0 0.0.0.255 10.7.0.0 0.0.0.255",
    "permit any",
  ]);
  roundTrip(t, c, "standard");
  t.end();
});

void t.test("extended access lists", (t) => {
  const c = parsed(
    [
      "ip access-list extended web",
      " permit tcp any host 192.0.2.80 eq 80",
      " permit tcp any any established",
      " permit udp 10.0.0.0 0.255.255.255 range 1 1024 any neq 53",
      " permit tcp any gt 1023 any lt 100 match-any +syn -ack",
      " permit tcp any any match-all +urg +fin -rst +fin",
      " deny ip any any fragments",
      " deny udp any any fragments",
      " permit ip host 192.0.2.8 any",
    ].join("\n"),
  );
  const rules: ExtendedRule[] = [
    { protocol: "tcp", action: "permit", source: { kind: "any" }, destination: { kind: "host", address: "192.0.2.80" }, fragments: false, destinationPort: { op: "eq", port: 80 } },
    { protocol: "tcp", action: "permit", source: { kind: "any" }, destination: { kind: "any" }, fragments: false, tcpFlags: { kind: "established" } },
    {
      protocol: "udp", action: "permit", source: { kind: "wildcard", address: "10.0.0.0", wildcard: "0.255.255.255" },
      destination: { kind: "any" }, fragments: false, sourcePort: { op: "range", from: 1, to: 1024 }, destinationPort: { op: "neq", port: 53 },
    },
    {
      protocol: "tcp", action: "permit", source: { kind: "any" }, destination: { kind: "any" }, fragments: false,
      sourcePort: { op: "gt", port: 1023 }, destinationPort: { op: "lt", port: 100 }, tcpFlags: { kind: "match-any", set: ["syn"], clear: ["ack"] },
    },
    { protocol: "tcp", action: "permit", source: { kind: "any" }, destination: { kind: "any" }, fragments: false, tcpFlags: { kind: "match-all", set: ["fin", "urg"], clear: ["rst"] } },
    { protocol: "ip", action: "deny", source: { kind: "any" }, destination: { kind: "any" }, fragments: true },
    { protocol: "udp", action: "deny", source: { kind: "any" }, destination: { kind: "any" }, fragments: true },
    { protocol: "ip", action: "permit", source: { kind: "host", address: "192.0.2.8" }, destination: { kind: "any" }, fragments: false },
  ];
  t.same(c.accessLists, [{ name: "web", type: "extended", rules }]);
  const matchAll = rules[4];
  if (matchAll !== undefined) t.equal(formatExtendedRule(matchAll), "permit tcp any any match-all +fin -rst +urg");
  roundTrip(t, c, "extended");
  t.end();
});

void t.test("bad access lists (the cases l2tpns 2.4.1 refuses, and a few more)", (t) => {
  const lines = [
    "permit any",
    "ip access-list extended e1",
    " permit icmp any any",
    " permit tcp any eq 80",
    " permit tcp any any eq 80 fragments",
    " permit udp any any established",
    " permit udp any any match-any +syn",
    " permit tcp any any match-any",
    " permit tcp any any match-any +foo",
    " permit tcp any any eq http",
    " permit tcp any any eq 99999",
    " permit tcp any any range 10 5",
    " permit tcp any any established match-any +syn",
    " permit ip any eq 80 any",
    " permit udp any lt 0 any",
    " permit tcp 10.0.0.0 any",
    " permit tcp any any match-all +syn -syn",
    " permit tcp any any established fragments",
    " permit tcp host any any",
    " allow tcp any any",
    "ip access-list standard s1",
    " permit tcp any",
    " permit any any any",
    "ip access-list extended s1",
    " permit ip any any",
    "ip access-list standard bad.name",
    " permit any",
    "ip access-list standard abcdefghijklmnopqrstuvwxyz0123456",
    "ip access-list foo x",
    "no ip access-list standard nosuch",
    "no ip access-list extended s1",
  ];
  const r = parseStartupConfig(lines.join("\n"), "sc");
  t.same(messages(r), [
    "sc:1: 'permit' outside an 'ip access-list' block",
    "sc:3: access-list e1: 'icmp' is not a protocol (ip, tcp or udp)",
    "sc:4: access-list e1: missing destination (any, host ADDRESS, or ADDRESS WILDCARD)",
    "sc:5: access-list e1: 'fragments' cannot be combined with a port or TCP flag match",
    "sc:6: access-list e1: 'established' applies to tcp rules only",
    "sc:7: access-list e1: 'match-any' applies to tcp rules only",
    "sc:8: access-list e1: match-any needs TCP flags (+ or - then fin, syn, rst, psh, ack, urg)",
    "sc:9: access-list e1: '+foo' is not a TCP flag (+ or - then fin, syn, rst, psh, ack, urg)",
    "sc:10: access-list e1: 'http' is not a port number (1 to 65535)",
    "sc:11: access-list e1: '99999' is not a port number (1 to 65535)",
    "sc:12: access-list e1: port range 10 to 5 is empty",
    "sc:13: access-list e1: unexpected 'match-any' in the rule",
    "sc:14: access-list e1: 'eq' is not a destination (any, host ADDRESS, or ADDRESS WILDCARD)",
    "sc:15: access-list e1: '0' is not a port number (1 to 65535)",
    "sc:16: access-list e1: 'any' is not a wildcard mask for 10.0.0.0",
    "sc:17: access-list e1: TCP flag syn is asked to be both set and clear",
    "sc:18: access-list e1: 'fragments' cannot be combined with a port or TCP flag match",
    "sc:19: access-list e1: 'any' is not an IPv4 address",
    "sc:20: unknown command 'allow'",
    "sc:22: access-list s1: 'tcp' is not a source (any, host ADDRESS, or ADDRESS WILDCARD)",
    "sc:23: access-list s1: unexpected 'any' at the end of a standard rule",
    "sc:24: ip access-list: s1 is already defined as standard, not extended",
    "sc:26: ip access-list: 'bad.name' is not a valid access-list name (letters, digits, _ and - only)",
    "sc:28: ip access-list: access-list name 'abcdefghijklmnopqrstuvwxyz0123456' is longer than 31 characters",
    "sc:29: ip access-list: 'foo' is not standard or extended",
    "sc:30: no ip access-list: nosuch is not defined",
    "sc:31: no ip access-list: s1 is standard, not extended",
  ]);
  t.end();
});

void t.test("access lists: reopening appends, 'no' deletes", (t) => {
  const c = parsed(
    [
      "ip access-list standard a",
      " permit host 10.0.0.1",
      "ip access-list standard b",
      " deny any",
      "ip access-list standard a",
      " permit host 10.0.0.2",
      "no ip access-list standard b",
      "ip access-list extended c",
      " permit ip any any",
    ].join("\n"),
  );
  t.same(
    c.accessLists.map((l) => [l.name, l.rules.length]),
    [["a", 2], ["c", 1]],
  );
  t.end();
});

void t.test("plugins and setforward", (t) => {
  const c = parsed(
    [
      'load plugin "garden"',
      "load plugin sessionctl",
      "load plugin autothrottle",
      'remove plugin "garden"',
      'setforward "/friendISP@company.com" 66.66.66.55 1701 mysecret',
      "setforward @other.example 192.0.2.9 1702 \"two words\"",
    ].join("\n"),
  );
  t.same(c.plugins, ["sessionctl", "autothrottle"]);
  t.same(c.forwards, [
    { mask: "/friendISP@company.com", address: "66.66.66.55", port: 1701, secret: "mysecret" },
    { mask: "@other.example", address: "192.0.2.9", port: 1702, secret: "two words" },
  ]);
  roundTrip(t, c, "plugins and forwards");
  const bad = parseStartupConfig(
    [
      "load plugin sessionctl",
      "load plugin sessionctl",
      "remove plugin garden",
      "load plugin ../evil",
      "load module x",
      "setforward a b c",
      "setforward @x 1.2.3 1701 s",
      "setforward @x 1.2.3.4 0 s",
    ].join("\n"),
    "sc",
  );
  t.same(messages(bad), [
    "sc:4: load plugin: '../evil' is not a plugin name",
    "sc:5: load: expected 'load plugin NAME'",
    "sc:6: setforward: expected 'setforward MASK IP PORT SECRET'",
    "sc:7: setforward: '1.2.3' is not an IPv4 address",
    "sc:8: setforward: '0' is not a port number (1 to 65535)",
  ]);
  t.end();
});

void t.test("a plugin loaded twice or removed when not loaded is a warning, as in l2tpns", (t) => {
  const r = parseStartupConfig(["load plugin sessionctl", "load plugin garden", "load plugin sessionctl", "remove plugin autosnoop"].join("\n"), "sc");
  t.same(messages(r), []);
  t.same(warnings(r), [
    "sc:3: load plugin: 'sessionctl' is already loaded (line 1): this line does nothing",
    "sc:4: remove plugin: 'autosnoop' is not loaded: this line does nothing",
  ]);
  if (r.ok) t.same(r.value.plugins, ["sessionctl", "garden"], "loaded once, in the order first given");
  t.end();
});

void t.test("settings lnsd does not act on yet: one warning each, naming file, line and setting", (t) => {
  const r = parseStartupConfig(
    [
      "set debug 3",
      'set accounting_dir "/var/run/l2tpns/acct"',
      "set primary_ipv6_dns 2001:db8::53",
      "set cluster_master_min_adv 2",
      "set bind_address 192.0.2.1",
      "setforward @isp.example 192.0.2.9 1701 s3cret",
      "router bgp 64512",
      " neighbour 192.0.2.254 remote-as 64513",
    ].join("\n"),
    "/etc/l2tpns/startup-config",
  );
  t.same(messages(r), []);
  t.same(warnings(r), [
    "/etc/l2tpns/startup-config:2: accounting_dir: lnsd does not act on this setting yet: it is ignored",
    "/etc/l2tpns/startup-config:3: primary_ipv6_dns: lnsd does not act on this setting yet: it is ignored",
    "/etc/l2tpns/startup-config:4: cluster_master_min_adv: lnsd does not act on this setting yet: it is ignored",
    "/etc/l2tpns/startup-config:6: setforward: lnsd does not relay sessions to a remote LNS yet: this line is ignored",
    "/etc/l2tpns/startup-config:7: router bgp: lnsd does not announce routes over BGP yet: this block is ignored",
  ]);
  t.end();
});

void t.test("the writer", (t) => {
  const c = parsed('set debug 0\nset l2tp_secret "with \\"quotes\\" and \\\\"\nset bind_address 192.0.2.1\n');
  const text = writeStartupConfig(c, { header: ["test"] });
  t.equal(
    text,
    ["# test", "set debug 0", "set bind_address 192.0.2.1", 'set l2tp_secret "with \\"quotes\\" and \\\\"', ""].join("\n"),
    "explicit variables, table order, defaults written when set",
  );
  roundTrip(t, c, "quoted secret");
  const all = writeStartupConfig(c, { all: true });
  t.equal(all.split("\n").filter((l) => l.startsWith("set ")).length, STARTUP_VARIABLES.length, "all: every variable");
  const back = parsed(all);
  t.same(back.settings, c.settings);
  t.equal(back.explicit.size, STARTUP_VARIABLES.length);
  t.end();
});

function stringArbitrary(format: StringFormat | undefined, text: fc.Arbitrary<string>): fc.Arbitrary<string> {
  switch (format) {
    case "absolute-path":
      return text.map((s) => `/${s}`);
    case "log-target":
      return fc.oneof(text.map((s) => `/var/log/${s}`), fc.constantFrom("syslog:local5", "syslog:daemon"));
    case "interface":
      return fc.stringMatching(/^[a-z0-9][a-z0-9.]{0,14}$/);
    case undefined:
      return text;
  }
}

// Property: any config built from valid values and rules writes out and reads back unchanged.
function valueArbitrary(v: VariableSpec): fc.Arbitrary<string> {
  const text = fc.stringMatching(/^[ -"$-~é]{0,12}$/);
  const ipv4 = fc.integer({ min: 0, max: 0xffffffff }).map(formatIpv4);
  const group = fc.integer({ min: 0, max: 0xffff });
  switch (v.kind) {
    case "string":
      return stringArbitrary(v.format, text);
    case "int":
      return fc.integer({ min: v.min ?? 0, max: v.max ?? 2 ** 31 - 1 }).map(String);
    case "port":
      return fc.integer({ min: 0, max: 65535 }).map(String);
    case "bool":
      return fc.constantFrom("yes", "no", "true", "FALSE");
    case "ipv4":
      return ipv4;
    case "ipv6":
      return fc.array(group, { minLength: 8, maxLength: 8 }).map(formatIpv6);
    case "ipv6-prefix":
      return fc.array(group, { minLength: 4, maxLength: 4 }).map((g) => formatIpv6([...g, 0, 0, 0, 0]));
    case "ipv4-list":
      return fc.uniqueArray(ipv4, { maxLength: 4 }).map((l) => `"${l.join(", ")}"`);
    case "enum-list":
      return fc.shuffledSubarray([...v.values], { minLength: 1 }).map((l) => l.join(","));
  }
}

const addressArb = fc.oneof(
  fc.constant("any"),
  fc.integer({ min: 0, max: 0xffffffff }).map((n) => `host ${formatIpv4(n)}`),
  fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 })).map(
    ([n, bits]) => `${formatIpv4(n)} ${formatIpv4(bits === 32 ? 0xffffffff : 2 ** bits - 1)}`,
  ),
);
const portArb = fc.oneof(
  fc.constant(""),
  fc.tuple(fc.constantFrom("eq", "neq", "gt", "lt"), fc.integer({ min: 1, max: 65535 })).map(([op, p]) => ` ${op} ${p}`),
  fc.tuple(fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 0, max: 1000 })).map(([a, d]) => ` range ${a} ${Math.min(65535, a + d)}`),
);
const flagsArb = fc.oneof(
  fc.constant(""),
  fc.constant(" established"),
  fc
    .tuple(fc.constantFrom("match-any", "match-all"), fc.uniqueArray(fc.constantFrom("fin", "syn", "rst", "psh", "ack", "urg"), { minLength: 1 }), fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }))
    .map(([kind, flags, signs]) => ` ${kind} ${flags.map((f, i) => `${signs[i] === true ? "+" : "-"}${f}`).join(" ")}`),
);
const extendedRuleArb = fc
  .tuple(fc.constantFrom("permit", "deny"), fc.constantFrom("ip", "tcp", "udp"), addressArb, portArb, addressArb, portArb, flagsArb, fc.boolean())
  .map(([action, proto, src, sp, dst, dp, flags, frag]) => {
    const srcPort = proto === "ip" ? "" : sp;
    const dstPort = proto === "ip" ? "" : dp;
    const f = proto === "tcp" ? flags : "";
    const fragments = frag && srcPort === "" && dstPort === "" && f === "" ? " fragments" : "";
    return ` ${action} ${proto} ${src}${srcPort} ${dst}${dstPort}${f}${fragments}`;
  });
const standardRuleArb = fc
  .tuple(fc.constantFrom("permit", "deny"), addressArb, fc.option(addressArb, { nil: undefined }))
  .map(([action, src, dst]) => ` ${action} ${src}${dst === undefined ? "" : ` ${dst}`}`);

void t.test("round trip of random configs (fast-check)", (t) => {
  const settingsArb = fc.array(
    // radius_bind_min/max must be set together (tested above), so they are left out here.
    fc.constantFrom(...STARTUP_VARIABLES.filter((v) => !v.name.startsWith("radius_bind_"))).chain((v) => valueArbitrary(v).map((text) => `set ${v.name} ${formatSpecValue(v, text)}`)),
    { maxLength: 30 },
  );
  const bgpArb = fc.option(
    fc.tuple(
      fc.integer({ min: 1, max: 4294967295 }),
      fc.uniqueArray(
        fc.tuple(fc.integer({ min: 0, max: 0xffffffff }).map(formatIpv4), fc.integer({ min: 1, max: 65535 }), fc.option(fc.tuple(fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 3, max: 65535 })))),
        { selector: ([peer]) => peer, maxLength: 3 },
      ),
    ),
  );
  const aclArb = fc.uniqueArray(
    fc.tuple(fc.stringMatching(/^[A-Za-z0-9_-]{1,31}$/), fc.boolean(), fc.array(standardRuleArb, { maxLength: 4 }), fc.array(extendedRuleArb, { maxLength: 4 })),
    { selector: ([name]) => name, maxLength: 3 },
  );
  fc.assert(
    fc.property(settingsArb, bgpArb, aclArb, (sets, bgp, acls) => {
      const lines = [...sets];
      if (bgp !== null) {
        lines.push(`router bgp ${bgp[0]}`);
        for (const [peer, as, timers] of bgp[1]) {
          lines.push(` neighbour ${peer} remote-as ${as}`);
          if (timers !== null) lines.push(` neighbour ${peer} timers ${timers[0]} ${timers[1]}`);
        }
      }
      for (const [name, standard, std, ext] of acls) {
        lines.push(`ip access-list ${standard ? "standard" : "extended"} ${name}`, ...(standard ? std : ext));
      }
      const first = parseStartupConfig(lines.join("\n"), "generated");
      if (!first.ok) throw new Error(`${first.errors.map(formatConfigError).join("; ")}\n${lines.join("\n")}`);
      const again = parseStartupConfig(writeStartupConfig(first.value), "written");
      if (!again.ok) throw new Error(again.errors.map(formatConfigError).join("; "));
      return isDeepStrictEqual(again.value, first.value);
    }),
    { numRuns: 300 },
  );
  t.pass("300 random configs round-trip");
  t.end();
});

void t.test("formatStandardRule and formatExtendedRule are what the parser reads", (t) => {
  const c = parsed("ip access-list extended x\n permit tcp 10.0.0.0 0.0.0.255 eq 22 any established\n");
  const list = c.accessLists[0];
  if (list?.type === "extended" && list.rules[0] !== undefined) {
    t.equal(formatExtendedRule(list.rules[0]), "permit tcp 10.0.0.0 0.0.0.255 eq 22 any established");
  } else {
    t.fail("expected one extended rule");
  }
  t.end();
});
