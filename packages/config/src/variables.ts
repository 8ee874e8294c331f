// The startup-config variables ("set NAME VALUE"): one table row per variable with its type,
// default and meaning. Names, types and defaults are those of l2tpns 2.4.1 (startup-config(5), and
// `show running-config` of the Debian build where the man page gives no default); the rows marked
// origin "lnsd" are lnsd extensions. The parser, the writer and docs/config.md all come from here.

export type VariableStatus = "used" | "accepted, not yet used";
export type VariableOrigin = "l2tpns" | "lnsd";

export type VariableSection =
  | "Process and logging"
  | "L2TP"
  | "PPP"
  | "Subscriber addresses and DNS"
  | "RADIUS"
  | "Sessions"
  | "Throttling and accounting"
  | "Data path"
  | "Cluster"
  | "BGP"
  | "IPv6 and DHCPv6"
  | "LAC (forwarding to a remote LNS)"
  | "PPPoE"
  | "CLI";

/** Extra checks on a string value. */
export type StringFormat =
  /** A path that must start with "/" (or be empty). */
  | "absolute-path"
  /** A file name, or "syslog:FACILITY". */
  | "log-target"
  /** A Linux interface name: 1 to 15 characters, no "/", ":" or blanks (or empty). */
  | "interface";

interface CommonSpec {
  readonly name: string;
  readonly section: VariableSection;
  /** One line, for docs/config.md and CLI help. */
  readonly description: string;
  readonly status: VariableStatus;
  readonly origin: VariableOrigin;
}

export type VariableSpec =
  | (CommonSpec & {
      readonly kind: "string";
      readonly default: string;
      readonly format?: StringFormat;
      /** An empty value means the default (l2tpns falls back to it). */
      readonly emptyIsDefault?: true;
    })
  | (CommonSpec & {
      readonly kind: "int";
      readonly default: number;
      /** Inclusive bounds; 0 and 2^31-1 when absent. */
      readonly min?: number;
      readonly max?: number;
      readonly unit?: string;
      /** 0 means the default (l2tpns falls back to it). */
      readonly zeroIsDefault?: true;
    })
  | (CommonSpec & { readonly kind: "port"; readonly default: number; readonly zeroIsDefault?: true })
  | (CommonSpec & { readonly kind: "bool"; readonly default: boolean })
  | (CommonSpec & { readonly kind: "ipv4"; readonly default: string })
  | (CommonSpec & { readonly kind: "ipv6"; readonly default: string })
  | (CommonSpec & { readonly kind: "ipv6-prefix"; readonly default: string })
  | (CommonSpec & { readonly kind: "ipv4-list"; readonly default: readonly string[] })
  | (CommonSpec & {
      readonly kind: "enum-list";
      readonly values: readonly string[];
      readonly default: readonly string[];
      /** An empty value means the default (l2tpns falls back to it). */
      readonly emptyIsDefault?: true;
    });

export type VariableKind = VariableSpec["kind"];

const USED = "used" as const;
const LATER = "accepted, not yet used" as const;

export const STARTUP_VARIABLES = [
  // Process and logging
  {
    name: "debug", section: "Process and logging", kind: "int", default: 0, status: USED, origin: "l2tpns",
    description: "Log detail, 0 (critical errors only) to 5 (every packet); higher levels slow the server down.",
  },
  {
    name: "log_file", section: "Process and logging", kind: "string", format: "log-target", default: "", status: USED, origin: "l2tpns",
    description: "Where the log goes: a file name, or syslog:FACILITY (e.g. syslog:local5); empty means standard error.",
  },
  {
    name: "pid_file", section: "Process and logging", kind: "string", format: "absolute-path", default: "", status: USED, origin: "l2tpns",
    description: "Absolute path of a file to write the process id to; empty writes none.",
  },
  {
    name: "random_device", section: "Process and logging", kind: "string", default: "/dev/urandom", status: LATER, origin: "l2tpns",
    description: "Source of random bytes for challenges and authenticators; empty uses the library generator.",
  },
  {
    name: "hostname", section: "Process and logging", kind: "string", default: "", status: USED, origin: "l2tpns",
    description: "Name this node gives itself (L2TP Host Name AVP, CLI prompt); empty uses the system host name; -h overrides it.",
  },
  {
    name: "scheduler_fifo", section: "Process and logging", kind: "bool", default: false, status: LATER, origin: "l2tpns",
    description: "Run under the SCHED_FIFO real-time scheduling policy (ignored on a single CPU).",
  },
  {
    name: "lock_pages", section: "Process and logging", kind: "bool", default: false, status: LATER, origin: "l2tpns",
    description: "Lock the process's memory so that it is never swapped out.",
  },
  {
    name: "dump_speed", section: "Process and logging", kind: "bool", default: false, status: LATER, origin: "l2tpns",
    description: "Log the current throughput every second (the CLI's uptime command shows it too).",
  },
  {
    name: "nsctl_address", section: "Process and logging", kind: "ipv4", default: "0.0.0.0", status: USED, origin: "lnsd",
    description: "Address the nsctl control port listens on; 0.0.0.0 (every address, as l2tpns) or e.g. 127.0.0.1 to keep it local.",
  },
  {
    name: "nsctl_port", section: "Process and logging", kind: "port", default: 1702, status: USED, origin: "lnsd",
    description: "UDP port of the nsctl control protocol (l2tpns: always 1702); 0 turns the control port off.",
  },
  {
    name: "metrics_address", section: "Process and logging", kind: "ipv4", default: "127.0.0.1", status: USED, origin: "lnsd",
    description: "Address of the Prometheus /metrics HTTP listener; loopback unless opened on purpose (0.0.0.0 for every address).",
  },
  {
    name: "metrics_port", section: "Process and logging", kind: "port", default: 0, status: USED, origin: "lnsd",
    description: "TCP port of the Prometheus /metrics HTTP listener; 0 (the default) serves no metrics.",
  },

  // L2TP
  {
    name: "bind_address", section: "L2TP", kind: "ipv4", default: "0.0.0.0", status: USED, origin: "l2tpns",
    description: "Local address for L2TP (UDP 1701) towards the LACs; also given to the tun interface unless iftun_address is set.",
  },
  {
    name: "bind_multi_address", section: "L2TP", kind: "ipv4-list", default: [], status: LATER, origin: "l2tpns",
    description: "Several L2TP listen addresses, comma separated (\"a.b.c.d, e.f.g.h\"); when set, replaces bind_address and iftun_address.",
  },
  {
    name: "multi_hostname", section: "L2TP", kind: "string", default: "", status: LATER, origin: "l2tpns",
    description: "Host names to present on the addresses of bind_multi_address.",
  },
  {
    name: "l2tp_secret", section: "L2TP", kind: "string", default: "", status: USED, origin: "l2tpns",
    description: "Shared secret for L2TP tunnel authentication and hidden AVPs; must match the LAC's.",
  },
  {
    name: "l2tp_require_auth", section: "L2TP", kind: "bool", default: false, status: USED, origin: "lnsd",
    description: "Challenge every LAC and refuse one that does not answer (StopCCN result 4); needs l2tp_secret. By default (as l2tpns) only a LAC that sends a Challenge is challenged in return.",
  },
  {
    name: "l2tp_mtu", section: "L2TP", kind: "int", default: 1500, min: 0, max: 65535, unit: "bytes", zeroIsDefault: true, status: USED, origin: "l2tpns",
    description: "MTU of the path to the LACs; sets the PPP MRU offered and the TCP MSS clamp.",
  },
  {
    name: "disable_sending_hello", section: "L2TP", kind: "bool", default: false, status: USED, origin: "l2tpns",
    description: "Never send L2TP HELLO keepalives (for LACs, such as some OS X versions, that mishandle them).",
  },
  {
    name: "auth_tunnel_change_addr_src", section: "L2TP", kind: "bool", default: false, status: LATER, origin: "l2tpns",
    description: "Accept a tunnel's packets from a new source address (LACs that are themselves a cluster).",
  },
  {
    name: "max_tunnels", section: "L2TP", kind: "int", default: 65534, min: 1, max: 65535, status: USED, origin: "lnsd",
    description: "Most tunnels open at once; a new tunnel beyond this is refused.",
  },
  {
    name: "max_sessions", section: "L2TP", kind: "int", default: 250000, min: 1, status: USED, origin: "lnsd",
    description: "Most sessions open at once, over all tunnels; a new call beyond this is refused.",
  },
  {
    name: "max_sessions_in_setup", section: "L2TP", kind: "int", default: 5000, min: 1, status: USED, origin: "lnsd",
    description: "Most sessions between ICRQ and established at once, to ride out reconnection storms.",
  },

  // PPP
  {
    name: "ppp_restart_time", section: "PPP", kind: "int", default: 3, min: 1, unit: "seconds", status: USED, origin: "l2tpns",
    description: "PPP Restart timer (RFC 1661 4.6): time between retransmitted Configure-Requests.",
  },
  {
    name: "ppp_max_configure", section: "PPP", kind: "int", default: 10, min: 1, status: USED, origin: "l2tpns",
    description: "PPP Max-Configure (RFC 1661 4.6): Configure-Requests sent without answer before giving up.",
  },
  {
    name: "ppp_max_failure", section: "PPP", kind: "int", default: 5, min: 1, status: USED, origin: "l2tpns",
    description: "PPP Max-Failure (RFC 1661 4.6): Configure-Naks sent before rejecting the option instead.",
  },
  {
    name: "ppp_keepalive", section: "PPP", kind: "bool", default: true, status: USED, origin: "l2tpns",
    description: "Send LCP Echo only on idle links; with no, send one every echo_timeout whatever the traffic.",
  },
  {
    name: "echo_timeout", section: "PPP", kind: "int", default: 10, unit: "seconds", status: USED, origin: "l2tpns",
    description: "Time since the last packet sent before an LCP Echo-Request goes out.",
  },
  {
    name: "idle_echo_timeout", section: "PPP", kind: "int", default: 240, unit: "seconds", status: USED, origin: "l2tpns",
    description: "Drop a session whose peer has not answered LCP Echo for this long.",
  },

  // Subscriber addresses and DNS
  {
    name: "peer_address", section: "Subscriber addresses and DNS", kind: "ipv4", default: "0.0.0.0", status: USED, origin: "l2tpns",
    description: "Address given to subscribers as the far end of their link (their gateway) in IPCP.",
  },
  {
    name: "primary_dns", section: "Subscriber addresses and DNS", kind: "ipv4", default: "0.0.0.0", status: USED, origin: "l2tpns",
    description: "First DNS server offered in IPCP; 0.0.0.0 offers none.",
  },
  {
    name: "secondary_dns", section: "Subscriber addresses and DNS", kind: "ipv4", default: "0.0.0.0", status: USED, origin: "l2tpns",
    description: "Second DNS server offered in IPCP; 0.0.0.0 offers none.",
  },

  // RADIUS
  {
    name: "primary_radius", section: "RADIUS", kind: "ipv4", default: "0.0.0.0", status: USED, origin: "l2tpns",
    description: "RADIUS server for authentication and accounting.",
  },
  {
    name: "secondary_radius", section: "RADIUS", kind: "ipv4", default: "0.0.0.0", status: USED, origin: "l2tpns",
    description: "RADIUS server tried when the primary does not answer.",
  },
  {
    name: "primary_radius_port", section: "RADIUS", kind: "port", default: 1812, zeroIsDefault: true, status: USED, origin: "l2tpns",
    description: "Authentication port of the primary server; accounting goes to the next port up.",
  },
  {
    name: "secondary_radius_port", section: "RADIUS", kind: "port", default: 1812, zeroIsDefault: true, status: USED, origin: "l2tpns",
    description: "Authentication port of the secondary server; accounting goes to the next port up.",
  },
  {
    name: "radius_secret", section: "RADIUS", kind: "string", default: "", status: USED, origin: "l2tpns",
    description: "Secret shared with the RADIUS servers; without it every RADIUS request fails.",
  },
  {
    name: "radius_authtypes", section: "RADIUS", kind: "enum-list", values: ["pap", "chap"], default: ["pap"], emptyIsDefault: true, status: USED, origin: "l2tpns",
    description: "PPP authentication protocols to offer, comma separated, most preferred first (pap, chap).",
  },
  {
    name: "radius_accounting", section: "RADIUS", kind: "bool", default: false, status: USED, origin: "l2tpns",
    description: "Send RADIUS accounting: Start when a session is up, Stop when it ends.",
  },
  {
    name: "radius_interim", section: "RADIUS", kind: "int", default: 0, unit: "seconds", status: USED, origin: "l2tpns",
    description: "With radius_accounting, time between Interim-Update accounting records.",
  },
  {
    name: "radius_dae_port", section: "RADIUS", kind: "port", default: 3799, status: USED, origin: "l2tpns",
    description: "UDP port for Dynamic Authorization requests (Disconnect, CoA; RFC 5176).",
  },
  {
    name: "radius_bind_min", section: "RADIUS", kind: "port", default: 0, status: USED, origin: "l2tpns",
    description: "Lowest local port for RADIUS client sockets (the range must be at least 64 wide); 0 lets the system choose.",
  },
  {
    name: "radius_bind_max", section: "RADIUS", kind: "port", default: 0, status: USED, origin: "l2tpns",
    description: "Highest local port for RADIUS client sockets; 0 lets the system choose.",
  },
  {
    name: "radius_bind_address", section: "RADIUS", kind: "ipv4", default: "0.0.0.0", status: USED, origin: "lnsd",
    description: "Source address of RADIUS requests; 0.0.0.0 (as l2tpns) sends from the address the kernel picks for the route to the server. NAS-IP-Address stays bind_address.",
  },
  {
    name: "radius_require_message_authenticator", section: "RADIUS", kind: "string", default: "auto", emptyIsDefault: true, status: USED, origin: "lnsd",
    description: "auto, yes or no: whether Access-Accept/Reject/Challenge must carry Message-Authenticator (RFC 3579, BlastRADIUS); auto requires it from a server once that server has sent one. One that is present must always verify.",
  },
  {
    name: "local_secrets_file", section: "RADIUS", kind: "string", default: "chap-secrets", emptyIsDefault: true, status: USED, origin: "lnsd",
    description: "With no RADIUS server set, the users allowed in: a pppd chap-secrets file, relative to the startup-config's directory unless absolute.",
  },

  // Sessions
  {
    name: "allow_duplicate_users", section: "Sessions", kind: "bool", default: false, status: USED, origin: "l2tpns",
    description: "Let one username have several sessions; with no, a new login drops the older session.",
  },
  {
    name: "guest_account", section: "Sessions", kind: "string", default: "", status: USED, origin: "l2tpns",
    description: "A username that may have several sessions even when allow_duplicate_users is no.",
  },
  {
    name: "kill_timedout_sessions", section: "Sessions", kind: "bool", default: true, status: LATER, origin: "l2tpns",
    description: "Drop a session when its RADIUS Session-Timeout or Idle-Timeout expires.",
  },
  {
    name: "state_directory", section: "Sessions", kind: "string", format: "absolute-path", default: "/var/lib/lnsd", status: USED, origin: "lnsd",
    description: "Where lnsd journals its tunnels and sessions, so that after SIGTERM, a crash or an upgrade the next start resumes them (one subdirectory per startup-config and bind_address); empty keeps no state.",
  },
  {
    name: "state_max_age", section: "Sessions", kind: "int", default: 60, min: 1, unit: "seconds", status: USED, origin: "lnsd",
    description: "State last written longer ago than this is not resumed (the LACs and subscribers have given up by then): lnsd starts empty, with one log line.",
  },

  // Throttling and accounting
  {
    name: "throttle_speed", section: "Throttling and accounting", kind: "int", default: 0, max: 4294967295, unit: "kbit/s", status: USED, origin: "l2tpns",
    description: "Default rate for throttled sessions; 0 turns throttling off. Changing it affects new sessions only.",
  },
  {
    name: "throttle_buckets", section: "Throttling and accounting", kind: "int", default: 6000, status: LATER, origin: "l2tpns",
    description: "Token buckets to allocate for throttling; each throttled session uses two (in and out).",
  },
  {
    name: "no_throttle_local_IP", section: "Throttling and accounting", kind: "bool", default: false, status: LATER, origin: "l2tpns",
    description: "Do not throttle traffic between two sessions on this server.",
  },
  {
    name: "accounting_dir", section: "Throttling and accounting", kind: "string", default: "", status: LATER, origin: "l2tpns",
    description: "Directory for a usage file every 5 minutes (username, address, qos, octets up and down); empty writes none.",
  },
  {
    name: "account_all_origin", section: "Throttling and accounting", kind: "bool", default: false, status: LATER, origin: "l2tpns",
    description: "In accounting_dir files, also count traffic relayed as LAC or PPPoE, with an origin column.",
  },

  // Data path
  {
    name: "tundevicename", section: "Data path", kind: "string", format: "interface", default: "tun0", emptyIsDefault: true, status: USED, origin: "l2tpns",
    description: "Name of the tun interface carrying subscriber traffic.",
  },
  {
    name: "disable_tun", section: "Data path", kind: "bool", default: false, status: USED, origin: "lnsd",
    description: "Run without a tun interface: sessions come up but carry no IP traffic (control-plane tests, or a node that only relays).",
  },
  {
    name: "data_workers", section: "Data path", kind: "int", default: 0, min: 0, max: 64, status: USED, origin: "lnsd",
    description: "Data worker threads forwarding subscriber traffic, each with its own queue of the tun interface and its own socket on port 1701; 0 means one per CPU core.",
  },
  {
    name: "iftun_address", section: "Data path", kind: "ipv4", default: "0.0.0.0", status: USED, origin: "l2tpns",
    description: "Address of the tun interface when it must differ from bind_address (1.1.1.1 if neither is set).",
  },
  {
    name: "send_garp", section: "Data path", kind: "bool", default: true, status: LATER, origin: "l2tpns",
    description: "Send a gratuitous ARP for bind_address when ready for traffic (not with BGP).",
  },
  {
    name: "multi_read_count", section: "Data path", kind: "int", default: 10, min: 1, status: LATER, origin: "l2tpns",
    description: "Packets read from each socket per wake-up before looking at the others.",
  },
  {
    name: "icmp_rate", section: "Data path", kind: "int", default: 0, unit: "per second", status: USED, origin: "l2tpns",
    description: "Most ICMP host-unreachable messages sent per second.",
  },
  {
    name: "packet_limit", section: "Data path", kind: "int", default: 0, unit: "packets per 0.1 s", status: USED, origin: "l2tpns",
    description: "Most downstream packets forwarded per session per tenth of a second, the rest dropped (a DoS guard); 0 means no limit.",
  },
  {
    name: "disable_no_spoof", section: "Data path", kind: "bool", default: false, status: USED, origin: "l2tpns",
    description: "Turn off the check that drops upstream packets whose source address is not the session's.",
  },

  // Cluster
  {
    name: "cluster_address", section: "Cluster", kind: "ipv4", default: "239.192.13.13", status: USED, origin: "l2tpns",
    description: "Multicast group the cluster nodes talk on. lnsd forms a cluster only when the startup-config sets it (l2tpns always does, on its defaults).",
  },
  {
    name: "cluster_port", section: "Cluster", kind: "int", default: 32792, min: 1, max: 65535, status: USED, origin: "l2tpns",
    description: "UDP port of the cluster's multicast; the replication streams use the same TCP port.",
  },
  {
    name: "cluster_interface", section: "Cluster", kind: "string", format: "interface", default: "eth0", status: USED, origin: "l2tpns",
    description: "Interface the cluster multicast is sent and received on.",
  },
  {
    name: "cluster_mcast_ttl", section: "Cluster", kind: "int", default: 1, max: 255, status: USED, origin: "l2tpns",
    description: "TTL of cluster multicast packets.",
  },
  {
    name: "cluster_hb_interval", section: "Cluster", kind: "int", default: 5, min: 1, unit: "tenths of a second", status: USED, origin: "l2tpns",
    description: "Time between cluster heartbeats and pings.",
  },
  {
    name: "cluster_hb_timeout", section: "Cluster", kind: "int", default: 150, min: 1, unit: "tenths of a second", status: USED, origin: "l2tpns",
    description: "Time without a heartbeat from the master before a new one is elected.",
  },
  {
    name: "cluster_master_min_adv", section: "Cluster", kind: "int", default: 1, status: LATER, origin: "l2tpns",
    description: "Up-to-date slaves the master needs before it withdraws its own routes.",
  },
  {
    name: "cluster_secret", section: "Cluster", kind: "string", default: "", status: USED, origin: "lnsd",
    description: "Shared secret that authenticates every cluster message (HMAC-SHA-256); messages that do not match are dropped and counted. Set the same on every node.",
  },

  // BGP
  {
    name: "nexthop_address", section: "BGP", kind: "ipv4", default: "0.0.0.0", status: LATER, origin: "l2tpns",
    description: "IPv4 next hop (BGP NEXT_HOP) announced with the routes; 0.0.0.0 leaves it unset.",
  },
  {
    name: "nexthop6_address", section: "BGP", kind: "ipv6", default: "::", status: LATER, origin: "l2tpns",
    description: "IPv6 next hop announced with the IPv6 routes; :: leaves it unset.",
  },

  // IPv6 and DHCPv6
  {
    name: "ipv6_prefix", section: "IPv6 and DHCPv6", kind: "ipv6-prefix", default: "::", status: USED, origin: "l2tpns",
    description: "Turns on IPv6: the /64 that starts every subscriber's address (the rest comes from its IPv4 address); :: leaves IPv6 off.",
  },
  {
    name: "primary_ipv6_dns", section: "IPv6 and DHCPv6", kind: "ipv6", default: "::", status: LATER, origin: "l2tpns",
    description: "First IPv6 DNS server given to subscribers (RFC 3646); :: gives none.",
  },
  {
    name: "secondary_ipv6_dns", section: "IPv6 and DHCPv6", kind: "ipv6", default: "::", status: LATER, origin: "l2tpns",
    description: "Second IPv6 DNS server given to subscribers; :: gives none.",
  },
  {
    name: "default_ipv6_domain_list", section: "IPv6 and DHCPv6", kind: "string", default: "", status: LATER, origin: "l2tpns",
    description: "DNS search list given to subscribers over DHCPv6 (RFC 3646), e.g. example.net.",
  },
  {
    name: "dns6_lifetime", section: "IPv6 and DHCPv6", kind: "int", default: 1200, unit: "seconds", status: LATER, origin: "l2tpns",
    description: "Lifetime of the DNS servers announced in router advertisements.",
  },
  {
    name: "dhcp6_preferred_lifetime", section: "IPv6 and DHCPv6", kind: "int", default: 0, unit: "seconds", status: LATER, origin: "l2tpns",
    description: "Preferred lifetime of the addresses and prefixes given by DHCPv6 (RFC 3315).",
  },
  {
    name: "dhcp6_valid_lifetime", section: "IPv6 and DHCPv6", kind: "int", default: 0, unit: "seconds", status: LATER, origin: "l2tpns",
    description: "Valid lifetime of the addresses and prefixes given by DHCPv6 (RFC 3315).",
  },
  {
    name: "dhcp6_server_duid", section: "IPv6 and DHCPv6", kind: "int", default: 0, max: 4294967295, status: LATER, origin: "l2tpns",
    description: "Number used to form the DHCPv6 server's DUID-LL (RFC 3315 9.4).",
  },

  // LAC
  {
    name: "disable_lac_func", section: "LAC (forwarding to a remote LNS)", kind: "bool", default: false, status: LATER, origin: "l2tpns",
    description: "Turn off relaying sessions to a remote LNS (setforward or RADIUS Tunnel-* attributes).",
  },
  {
    name: "bind_address_remotelns", section: "LAC (forwarding to a remote LNS)", kind: "ipv4", default: "0.0.0.0", status: LATER, origin: "l2tpns",
    description: "Local address for the tunnels to remote LNSs; 0.0.0.0 listens on all addresses.",
  },
  {
    name: "bind_portremotelns", section: "LAC (forwarding to a remote LNS)", kind: "port", default: 65432, status: LATER, origin: "l2tpns",
    description: "Local UDP port for the tunnels to remote LNSs.",
  },

  // PPPoE
  {
    name: "pppoe_if_to_bind", section: "PPPoE", kind: "string", format: "interface", default: "", status: LATER, origin: "l2tpns",
    description: "Interface to serve PPPoE on (e.g. eth0.12); empty leaves PPPoE off. Cluster nodes must share its MAC address.",
  },
  {
    name: "pppoe_service_name", section: "PPPoE", kind: "string", default: "", status: LATER, origin: "l2tpns",
    description: "PPPoE Service-Name offered; empty offers none.",
  },
  {
    name: "pppoe_ac_name", section: "PPPoE", kind: "string", default: "l2tpns-pppoe", status: LATER, origin: "l2tpns",
    description: "PPPoE AC-Name (access concentrator name) sent to clients.",
  },
  {
    name: "pppoe_only_equal_svc_name", section: "PPPoE", kind: "bool", default: false, status: LATER, origin: "l2tpns",
    description: "Answer only clients that ask for exactly pppoe_service_name (not an empty Service-Name).",
  },

  // CLI
  {
    name: "cli_bind_address", section: "CLI", kind: "ipv4", default: "0.0.0.0", status: USED, origin: "l2tpns",
    description: "Address the telnet CLI (port 23) listens on; 0.0.0.0 means all.",
  },
] as const satisfies readonly VariableSpec[];

type Spec = (typeof STARTUP_VARIABLES)[number];
export type StartupVariableName = Spec["name"];

type ValueOf<S> = S extends { readonly kind: "bool" }
  ? boolean
  : S extends { readonly kind: "int" | "port" }
    ? number
    : S extends { readonly kind: "enum-list"; readonly values: readonly (infer E)[] }
      ? readonly E[]
      : S extends { readonly kind: "ipv4-list" }
        ? readonly string[]
        : string;

/** Every variable's value, typed by its table row. */
export type StartupSettings = { readonly [S in Spec as S["name"]]: ValueOf<S> };

export type SettingValue = string | number | boolean | readonly string[];

const BY_NAME: ReadonlyMap<string, VariableSpec> = new Map(STARTUP_VARIABLES.map((v) => [v.name, v]));

/** The table row of a variable (names are case-sensitive, as in l2tpns). */
export function findVariable(name: string): VariableSpec | undefined {
  return BY_NAME.get(name);
}

export function isVariableName(name: string): name is StartupVariableName {
  return BY_NAME.has(name);
}

/** Builds the typed record from per-name values that the table-driven parser produced. */
export function settingsFrom(values: ReadonlyMap<StartupVariableName, SettingValue>): StartupSettings {
  const out: Record<string, SettingValue> = {};
  for (const spec of STARTUP_VARIABLES) out[spec.name] = values.get(spec.name) ?? spec.default;
  // Each value was produced by parseSettingValue for its own row's kind (or is the row's default),
  // so it has the type StartupSettings gives that name.
  return out as StartupSettings;
}

/** All defaults. */
export function defaultSettings(): StartupSettings {
  return settingsFrom(new Map());
}
