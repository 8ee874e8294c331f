import t from "tap";
import {
  STARTUP_VARIABLES,
  defaultSettings,
  formatConfigError,
  parseSettingValue,
  parseStartupConfig,
  type SettingValue,
  type StringFormat,
  type VariableSpec,
} from "../src/index.js";

// The defaults, written out independently of the table: from startup-config(5), and where the man
// page gives none, from `show running-config` of Debian's l2tpns 2.4.1 started with an empty config.
const EXPECTED_DEFAULTS: Readonly<Record<string, SettingValue>> = {
  debug: 0, log_file: "", pid_file: "", random_device: "/dev/urandom", hostname: "", scheduler_fifo: false,
  lock_pages: false, dump_speed: false, nsctl_address: "0.0.0.0", nsctl_port: 1702, metrics_address: "127.0.0.1", metrics_port: 0,
  bind_address: "0.0.0.0", bind_multi_address: [], multi_hostname: "",
  l2tp_secret: "", l2tp_require_auth: false, l2tp_mtu: 1500, disable_sending_hello: false,
  auth_tunnel_change_addr_src: false, max_tunnels: 65534, max_sessions: 250000, max_sessions_in_setup: 5000,
  ppp_restart_time: 3, ppp_max_configure: 10, ppp_max_failure: 5, ppp_keepalive: true, echo_timeout: 10,
  idle_echo_timeout: 240, peer_address: "0.0.0.0", primary_dns: "0.0.0.0", secondary_dns: "0.0.0.0",
  primary_radius: "0.0.0.0", secondary_radius: "0.0.0.0", primary_radius_port: 1812, secondary_radius_port: 1812,
  radius_secret: "", radius_authtypes: ["pap"], radius_accounting: false, radius_interim: 0, radius_dae_port: 3799,
  radius_bind_min: 0, radius_bind_max: 0, radius_bind_address: "0.0.0.0", radius_require_message_authenticator: "auto", local_secrets_file: "chap-secrets", disable_tun: false, allow_duplicate_users: false,
  guest_account: "", kill_timedout_sessions: true, state_directory: "/var/lib/lnsd", state_max_age: 60,
  throttle_speed: 0, throttle_buckets: 6000, no_throttle_local_IP: false, accounting_dir: "", account_all_origin: false,
  tundevicename: "tun0", data_workers: 0, iftun_address: "0.0.0.0", send_garp: true, multi_read_count: 10, icmp_rate: 0, packet_limit: 0,
  disable_no_spoof: false, cluster_address: "239.192.13.13", cluster_port: 32792, cluster_interface: "eth0",
  cluster_mcast_ttl: 1, cluster_hb_interval: 5, cluster_hb_timeout: 150, cluster_master_min_adv: 1, cluster_secret: "",
  nexthop_address: "0.0.0.0", nexthop6_address: "::", ipv6_prefix: "::", primary_ipv6_dns: "::", secondary_ipv6_dns: "::",
  default_ipv6_domain_list: "", dns6_lifetime: 1200, dhcp6_preferred_lifetime: 0, dhcp6_valid_lifetime: 0,
  dhcp6_server_duid: 0, disable_lac_func: false, bind_address_remotelns: "0.0.0.0", bind_portremotelns: 65432,
  pppoe_if_to_bind: "", pppoe_service_name: "", pppoe_ac_name: "l2tpns-pppoe", pppoe_only_equal_svc_name: false,
  cli_bind_address: "0.0.0.0",
};

const USED = [
  "hostname", "bind_address", "l2tp_secret", "disable_sending_hello", "debug", "log_file",
  "l2tp_require_auth", "max_tunnels", "max_sessions", "max_sessions_in_setup", "local_secrets_file",
  "tundevicename", "disable_tun", "iftun_address", "data_workers", "icmp_rate", "packet_limit", "disable_no_spoof",
  // The PPP layer and the address it hands out.
  "l2tp_mtu", "ppp_restart_time", "ppp_max_configure", "ppp_max_failure", "ppp_keepalive", "echo_timeout", "idle_echo_timeout",
  "peer_address", "primary_dns", "secondary_dns", "radius_authtypes", "ipv6_prefix", "pid_file",
  // RADIUS: authentication, accounting, DAE.
  "primary_radius", "primary_radius_port", "secondary_radius", "secondary_radius_port", "radius_secret",
  "radius_accounting", "radius_interim", "radius_dae_port", "radius_bind_min", "radius_bind_max",
  "radius_bind_address", "radius_require_message_authenticator", "allow_duplicate_users", "guest_account", "state_directory", "state_max_age",
  // Operating: the nsctl control port and the Prometheus metrics listener.
  "nsctl_address", "nsctl_port", "metrics_address", "metrics_port", "cli_bind_address", "throttle_speed",
  // The cluster (issue 14).
  "cluster_address", "cluster_port", "cluster_interface", "cluster_mcast_ttl", "cluster_hb_interval", "cluster_hb_timeout", "cluster_secret",
];
const LNSD_EXTENSIONS = ["l2tp_require_auth", "radius_bind_address", "radius_require_message_authenticator", "max_tunnels", "max_sessions", "max_sessions_in_setup", "local_secrets_file", "disable_tun", "data_workers", "nsctl_address", "nsctl_port", "metrics_address", "metrics_port", "state_directory", "state_max_age", "cluster_secret"];

function sampleString(format: StringFormat | undefined): [string, SettingValue] {
  switch (format) {
    case "absolute-path":
      return ['"/run/lnsd test/x"', "/run/lnsd test/x"];
    case "log-target":
      return ["syslog:local5", "syslog:local5"];
    case "interface":
      return ["eth1.100", "eth1.100"];
    case undefined:
      return ["'some value'", "some value"];
  }
}

function badString(format: StringFormat | undefined): [string, string] {
  switch (format) {
    case "absolute-path":
      return ["relative/path", "'relative/path' is not an absolute path"];
    case "log-target":
      return ["syslog:nosuch", "'nosuch' is not a syslog facility"];
    case "interface":
      return ["a-very-long-interface-name", "'a-very-long-interface-name' is too long for an interface name"];
    case undefined:
      return ['"bell\u0007"', "control characters are not allowed"];
  }
}

/** A valid value (as written in the file) different from the default, and what it parses to. */
function sample(v: VariableSpec): [string, SettingValue] {
  switch (v.kind) {
    case "string":
      return sampleString(v.format);
    case "int": {
      const n = v.max !== undefined && v.max < 1000 ? v.max : (v.min ?? 0) + 777;
      return [String(n), n];
    }
    case "port":
      return ["4242", 4242];
    case "bool":
      return v.default ? ["no", false] : ["YES", true];
    case "ipv4":
      return ["192.0.2.1", "192.0.2.1"];
    case "ipv6":
      return ["2001:DB8:0::1", "2001:db8::1"];
    case "ipv6-prefix":
      return ["2001:db8:a:b::/64", "2001:db8:a:b::"];
    case "ipv4-list":
      return ['"192.0.2.1,192.0.2.2 , 192.0.2.3"', ["192.0.2.1", "192.0.2.2", "192.0.2.3"]];
    case "enum-list":
      return ['"CHAP, pap"', ["chap", "pap"]];
  }
}

/** A value of the wrong type, and the start of the message it must give (l2tpns reads any word as a boolean). */
function bad(v: VariableSpec): [string, string] | undefined {
  switch (v.kind) {
    case "string":
      return badString(v.format);
    case "int":
      return ["-1", "'-1' is out of range"];
    case "port":
      return ["65536", "'65536' is out of range (0 to 65535)"];
    case "bool":
      return undefined;
    case "ipv4":
      return ["localhost", "'localhost' is not an IPv4 address"];
    case "ipv6":
      return ["2001:db8::1::2", "'2001:db8::1::2' is not an IPv6 address"];
    case "ipv6-prefix":
      return ["2001:db8::/48", "'2001:db8::/48': only a /64 is accepted"];
    case "ipv4-list":
      return ['"192.0.2.1, 300.0.0.1"', "'300.0.0.1' is not an IPv4 address"];
    case "enum-list":
      return ["mschap", "'mschap' is not one of pap, chap"];
  }
}

void t.test("the table", (t) => {
  const names = STARTUP_VARIABLES.map((v) => v.name);
  t.equal(new Set(names).size, names.length, "names are unique");
  t.same([...names].sort(), Object.keys(EXPECTED_DEFAULTS).sort(), "every variable, and only those, is known");
  for (const v of STARTUP_VARIABLES) {
    t.match(v.name, /^[a-z0-9_]+$|^no_throttle_local_IP$/, `${v.name}: name`);
    t.ok(v.description.length > 10 && !v.description.includes("\n"), `${v.name}: one-line description`);
    t.equal(v.status, USED.includes(v.name) ? "used" : "accepted, not yet used", `${v.name}: status`);
    t.equal(v.origin, LNSD_EXTENSIONS.includes(v.name) ? "lnsd" : "l2tpns", `${v.name}: origin`);
  }
  t.end();
});

void t.test("every variable's default", (t) => {
  const defaults: Readonly<Record<string, SettingValue>> = defaultSettings();
  for (const v of STARTUP_VARIABLES) t.same(defaults[v.name], EXPECTED_DEFAULTS[v.name], `${v.name} defaults to ${String(EXPECTED_DEFAULTS[v.name])}`);
  const empty = parseStartupConfig("", "startup-config");
  t.ok(empty.ok);
  if (empty.ok) {
    t.same(empty.value.settings, defaults);
    t.equal(empty.value.explicit.size, 0);
  }
  t.end();
});

void t.test("every variable parses a good value", (t) => {
  for (const v of STARTUP_VARIABLES) {
    const [text, value] = sample(v);
    // radius_bind_min and radius_bind_max go together, at least 64 ports apart.
    const partner: Readonly<Record<string, string>> = { radius_bind_min: "set radius_bind_max 60000\n", radius_bind_max: "set radius_bind_min 1\n" };
    const r = parseStartupConfig(`set ${v.name} ${text}\n${partner[v.name] ?? ""}`, "startup-config");
    t.ok(r.ok, `${v.name} ${text}`);
    if (!r.ok) continue;
    const settings: Readonly<Record<string, SettingValue>> = r.value.settings;
    t.same(settings[v.name], value, `${v.name} = ${JSON.stringify(value)}`);
    t.ok(r.value.explicit.has(v.name));
    t.equal(r.value.explicit.size, partner[v.name] === undefined ? 1 : 2);
  }
  t.end();
});

void t.test("every variable refuses a bad value, naming file, line and variable", (t) => {
  for (const v of STARTUP_VARIABLES) {
    const b = bad(v);
    if (b === undefined) continue;
    const [text, message] = b;
    const r = parseStartupConfig(`# first line\nset ${v.name} ${text}\n`, "startup-config");
    t.notOk(r.ok, `${v.name} ${text}`);
    if (r.ok) continue;
    t.equal(r.errors.length, 1);
    const e = r.errors[0];
    if (e === undefined) continue;
    t.equal(e.line, 2);
    t.ok(formatConfigError(e).startsWith(`startup-config:2: ${v.name}: ${message}`), formatConfigError(e));
  }
  t.end();
});

void t.test("types in detail", (t) => {
  const ok = (name: string, text: string, value: SettingValue): void => {
    const r = parseSettingValue(name, text);
    t.same(r.ok ? r.value : r.error, value, `${name} ${text}`);
  };
  const no = (name: string, text: string, error: string): void => {
    const r = parseSettingValue(name, text);
    t.equal(r.ok ? "(accepted)" : r.error, error, `${name} ${text}`);
  };
  const warned = (name: string, text: string, value: SettingValue, warning: string): void => {
    t.same(parseSettingValue(name, text), { ok: true, value, warning }, `${name} ${text}`);
  };
  // Booleans as l2tpns reads them (cli.c cmd_set): yes, true or 1 in any case is yes; anything
  // else is no. The words that are not yes/no/true/false/1/0 are read the same, with a warning.
  for (const [text, value] of [["yes", true], ["Yes", true], ["TRUE", true], ["1", true], ["no", false], ["False", false], ["0", false]] as const) {
    ok("dump_speed", text, value);
    t.equal(parseSettingValue("dump_speed", text).ok && !("warning" in parseSettingValue("dump_speed", text)), true, `${text}: no warning`);
  }
  for (const text of ["on", "off", "y", "", "01"]) {
    warned("dump_speed", text, false, `'${text}' is read as no, as l2tpns reads it (only yes, true and 1 mean yes)`);
  }
  // Integers as C's atoi reads them: an optional sign, then decimal digits; what follows the
  // digits is ignored (with a warning), and a value with no digits is 0 (with a warning).
  ok("l2tp_mtu", "1460", 1460);
  ok("l2tp_mtu", "0", 1500); // l2tpns: 0 means the default
  ok("l2tp_mtu", "+1460", 1460);
  ok("l2tp_mtu", "01460", 1460);
  warned("l2tp_mtu", "1e3", 1, "'1e3' is read as 1, as l2tpns reads it (what follows the number is ignored)");
  warned("l2tp_mtu", "0x10", 1500, "'0x10' is read as 0, as l2tpns reads it (what follows the number is ignored)");
  warned("echo_timeout", "30s", 30, "'30s' is read as 30, as l2tpns reads it (what follows the number is ignored)");
  warned("throttle_speed", "off", 0, "'off' is not a number: read as 0, as l2tpns reads it");
  no("ppp_max_configure", "many", "'many' is not a number, and 0 is out of range (1 to 2147483647)");
  no("l2tp_mtu", "-1", "'-1' is out of range (0 to 65535)");
  warned("primary_radius_port", "1812/udp", 1812, "'1812/udp' is read as 1812, as l2tpns reads it (what follows the number is ignored)");
  no("l2tp_mtu", "70000", "'70000' is out of range (0 to 65535)");
  no("cluster_mcast_ttl", "256", "'256' is out of range (0 to 255)");
  no("ppp_max_configure", "0", "'0' is out of range (1 to 2147483647)");
  no("debug", "99999999999", "'99999999999' is out of range (0 to 2147483647)");
  ok("throttle_speed", "4294967295", 4294967295);
  // Ports: 0 is the l2tpns "unset" for the RADIUS ports.
  ok("primary_radius_port", "0", 1812);
  ok("radius_bind_min", "0", 0);
  ok("radius_dae_port", "65535", 65535);
  // Addresses.
  ok("bind_address", "10.0.0.1", "10.0.0.1");
  no("bind_address", "10.0.0.01", "'10.0.0.01' is not an IPv4 address");
  no("bind_address", "10.0.0", "'10.0.0' is not an IPv4 address");
  no("bind_address", "256.0.0.1", "'256.0.0.1' is not an IPv4 address");
  ok("primary_ipv6_dns", "::FFFF:192.0.2.1", "::ffff:c000:201");
  ok("primary_ipv6_dns", "2001:0db8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1");
  ok("primary_ipv6_dns", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8");
  no("primary_ipv6_dns", "fe80::1%eth0", "'fe80::1%eth0' is not an IPv6 address");
  no("primary_ipv6_dns", "1:2:3:4:5:6:7:8:9", "'1:2:3:4:5:6:7:8:9' is not an IPv6 address");
  no("primary_ipv6_dns", "1:2:3:4:5:6:7::8", "'1:2:3:4:5:6:7::8' is not an IPv6 address");
  ok("ipv6_prefix", "2001:db8:1:2::", "2001:db8:1:2::");
  const hostBits = parseSettingValue("ipv6_prefix", "2001:db8:1:2::99");
  t.same(hostBits, { ok: true, value: "2001:db8:1:2::", warning: "'2001:db8:1:2::99' has bits set after the first 64; only 2001:db8:1:2::/64 is used" });
  // Lists: l2tpns writes "chap, pap" back.
  ok("radius_authtypes", "chap, pap", ["chap", "pap"]);
  ok("radius_authtypes", "", ["pap"]);
  no("radius_authtypes", "pap,pap", "pap is listed twice");
  ok("bind_multi_address", "", []);
  no("bind_multi_address", "192.0.2.1,192.0.2.1", "192.0.2.1 is listed twice");
  // Strings.
  ok("tundevicename", "", "tun0");
  ok("pppoe_if_to_bind", "", "");
  no("pppoe_if_to_bind", "eth0:1", "'eth0:1' is not a valid interface name");
  no("l2tp_secret", "a#b", "'#' cannot be stored: it starts a comment in the config file");
  ok("log_file", "/var/log/lnsd", "/var/log/lnsd");
  ok("log_file", "syslog:daemon", "syslog:daemon");
  ok("pid_file", "", "");
  ok("local_secrets_file", "", "chap-secrets");
  ok("local_secrets_file", "/etc/lnsd/chap-secrets", "/etc/lnsd/chap-secrets");
  no("nosuch", "1", "unknown variable 'nosuch'");
  t.end();
});
