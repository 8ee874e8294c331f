// docs/config.md, the operator's reference of the config files, rendered from the variable table so
// that it cannot drift from what the parser accepts (written by `npm run -w @lnsd/config docs`).
import { BGP_DEFAULT_HOLD_TIME_SECONDS, BGP_DEFAULT_KEEPALIVE_SECONDS } from "./bgp.js";
import { SYSLOG_FACILITIES } from "./values.js";
import { STARTUP_VARIABLES, type StringFormat, type VariableSection, type VariableSpec } from "./variables.js";

const INT_MAX = 2 ** 31 - 1;

function stringType(format: StringFormat | undefined): string {
  switch (format) {
    case "absolute-path":
      return "string (absolute path)";
    case "log-target":
      return "string (file or syslog:FACILITY)";
    case "interface":
      return "string (interface name)";
    case undefined:
      return "string";
  }
}

function typeOf(v: VariableSpec): string {
  switch (v.kind) {
    case "string":
      return stringType(v.format);
    case "int": {
      const min = v.min ?? 0;
      const max = v.max ?? INT_MAX;
      const range = min === 0 && max === INT_MAX ? "" : `, ${min}–${max}`;
      return `integer${v.unit === undefined ? "" : ` (${v.unit})`}${range}`;
    }
    case "port":
      return "port (0–65535)";
    case "bool":
      return "boolean";
    case "ipv4":
      return "IPv4 address";
    case "ipv6":
      return "IPv6 address";
    case "ipv6-prefix":
      return "IPv6 /64 prefix";
    case "ipv4-list":
      return "IPv4 addresses, comma separated";
    case "enum-list":
      return `list of ${v.values.join(", ")}, comma separated`;
  }
}

function defaultOf(v: VariableSpec): string {
  const d = v.default;
  if (typeof d === "boolean") return d ? "yes" : "no";
  if (typeof d === "number") return String(d);
  if (typeof d === "string") return d === "" ? "*(empty)*" : `\`${d}\``;
  return d.length === 0 ? "*(empty)*" : `\`${d.join(",")}\``;
}

const cell = (s: string): string => s.replace(/\|/g, "\\|");

function variableRow(v: VariableSpec): string {
  const name = v.origin === "lnsd" ? `\`${v.name}\` *(lnsd extension)*` : `\`${v.name}\``;
  const fallsBack =
    ("zeroIsDefault" in v ? " 0 also means the default." : "") +
    ("emptyIsDefault" in v ? " Empty also means the default." : "");
  return `| ${name} | ${cell(typeOf(v))} | ${cell(defaultOf(v))} | ${v.status} | ${cell(v.description + fallsBack)} |`;
}

const HEAD = `<!-- Generated from packages/config/src/variables.ts and docs.ts by \`npm run -w @lnsd/config docs\`. Do not edit by hand. -->

# Configuration files

lnsd reads the configuration files of l2tpns, in the same formats, so an operator can bring theirs
along: \`startup-config\` (given with \`-c\`, by default \`/etc/l2tpns/startup-config\`) and, in the
same directory, \`ip_pool\` and \`users\`. The reference for the formats is startup-config(5) of
Debian's \`l2tpns\` package; this page says what lnsd accepts, which settings it acts on yet, and
where it is stricter than l2tpns.

A file with an error is refused as a whole, and every error is reported with its file and line,
for example \`startup-config:7: l2tp_mtu: 'abc' is not a number\`. Warnings (a value cut by a
\`#\`, a variable set twice, ...) are reported the same way but do not stop the file loading.

## startup-config

The file is a list of commands of the CLI's configuration mode, one per line:

- \`set VARIABLE VALUE\` sets one of the variables listed below. Variable names are case sensitive.
- \`router bgp AS\` opens the BGP block; \`ip access-list standard NAME\` and
  \`ip access-list extended NAME\` open an access-list block. A block lasts until the next block,
  or \`exit\`. Indentation does not matter.
- \`load plugin NAME\` and \`remove plugin NAME\`: the plugins to load, in order. As in l2tpns,
  loading a plugin already loaded, or removing one that is not, is a warning and does nothing.
- \`setforward MASK IP PORT SECRET\`: relay the users whose name matches MASK to the remote LNS at
  IP:PORT, authenticating the tunnel with SECRET (the LAC function).
- \`no ip access-list standard|extended NAME\` deletes a list; \`no neighbour PEER\` (in the BGP
  block) deletes a neighbour.

How a line is read, as l2tpns reads it:

- A line whose first non-blank character is \`#\` or \`!\` is a comment, and so are blank lines.
- A \`#\` anywhere else ends the line too, even inside quotes, so a value cannot contain \`#\`
  (lnsd warns when this cuts a quoted value or a word).
- Words are separated by blanks. \`"..."\` or \`'...'\` make one word of a value with blanks; a
  backslash takes the next character literally. A quote must not start in the middle of a word.
- Command words (\`set\`, \`router\`, \`permit\`, \`any\`, ...) are not case sensitive.

Values:

- Booleans are read as l2tpns reads them: \`yes\`, \`true\` or \`1\`, in any case, mean yes; every
  other word means no. lnsd reads \`no\`, \`false\` and \`0\` silently, and any other word
  (\`on\`, \`off\`, \`enabled\`, ...) as no with a warning, because \`on\` meaning *no* is rarely
  what was meant.
- Numbers are read as l2tpns reads them, with C's \`atoi\`: an optional \`+\` or \`-\`, then
  decimal digits (leading zeros do not make it octal). What follows the digits is ignored
  (\`30s\` is 30, \`1e3\` is 1, \`0x10\` is 0) and a word with no digits is 0; lnsd reads the
  same value, with a warning whenever the text is not a plain number. Unlike l2tpns, lnsd then
  checks the value against the range given below and refuses the file when it is outside
  (\`set ppp_max_configure abc\` is 0, out of range: an error).
- IPv4 addresses are dotted quads; host names are not accepted where an address is expected.
- Files written by l2tpns's \`write memory\` list every variable with its running value; lnsd
  reads them (a 0 port or empty string that l2tpns treats as "use the default" is read the same way).

### Variables

The column *lnsd* says whether lnsd acts on the setting yet: **used**, or **accepted, not yet
used** (read and checked, so that an l2tpns file loads, but with no effect so far). Each line that
sets one of the latter gets a warning naming the file, the line and the setting, at start, on every
reload and from \`lnsd -t\`, so that nothing is lost silently; so do \`setforward\` lines and the
\`router bgp\` block, which lnsd reads but does not act on yet. Settings marked *lnsd extension*
are not in l2tpns; l2tpns would refuse a file that has them.
`;

function variablesSection(): string {
  const sections: VariableSection[] = [];
  for (const v of STARTUP_VARIABLES) if (!sections.includes(v.section)) sections.push(v.section);
  return sections
    .map((section) => {
      const rows = STARTUP_VARIABLES.filter((v) => v.section === section).map((v) => variableRow(v));
      return [`#### ${section}`, "", "| Variable | Type | Default | lnsd | Description |", "|---|---|---|---|---|", ...rows].join("\n");
    })
    .join("\n\n");
}

const TAIL = `
In \`log_file\`, the syslog facilities are ${SYSLOG_FACILITIES.map((f) => `\`${f}\``).join(", ")}.

### BGP

\`\`\`
router bgp 64512
 neighbour 192.0.2.1 remote-as 64513
 neighbour 192.0.2.1 timers 10 30
 neighbour 192.0.2.1 update-source 192.0.2.10
\`\`\`

- \`router bgp AS\`: the local AS. There is one BGP block; a second \`router bgp\` with another AS
  is an error. AS numbers go from 1 to 4294967295 (l2tpns takes 1 to 65535 only).
- \`neighbour PEER remote-as AS\` adds a neighbour (PEER is an IPv4 address or a host name) or
  changes its AS. It must come before the neighbour's other lines.
- \`neighbour PEER timers KEEPALIVE HOLD\`: in seconds, keepalive 1 to 65535, hold 3 to 65535;
  the defaults are ${BGP_DEFAULT_KEEPALIVE_SECONDS} and ${BGP_DEFAULT_HOLD_TIME_SECONDS}.
- \`neighbour PEER update-source ADDRESS\`: the local IPv4 address of the session.
- l2tpns allows two neighbours at most; the lnsd parser sets no limit.

### Access lists

Access lists are named by letters, digits, \`_\` and \`-\` (31 characters at most). As in l2tpns, a
session is given lists by the RADIUS \`Filter-Id\` attribute (\`NAME.in\` for traffic from the
subscriber, \`NAME.out\` for traffic to it). The rules of a list are tried in order.

An address match is \`any\`, \`host ADDRESS\`, or \`ADDRESS WILDCARD\`, where the 1 bits of the
wildcard are the bits that do not have to match (\`10.0.0.0 0.0.0.255\` is 10.0.0.0/24).

Standard lists match on the source address, and optionally the destination:

\`\`\`
ip access-list standard office
 permit 10.1.0.0 0.0.255.255
 deny host 10.2.0.1
 permit any
\`\`\`

In a standard rule a lone address means that host. (startup-config(5) allows the destination;
l2tpns 2.4.1 itself reads the source only.)

Extended lists match on the protocol (\`ip\`, \`tcp\` or \`udp\`), source, destination, ports and
TCP flags:

\`\`\`
ip access-list extended web
 permit tcp any host 192.0.2.80 eq 80
 permit tcp any any established
 permit udp any any range 33434 33534
 permit tcp any any match-all +syn -ack
 deny ip any any fragments
\`\`\`

- After the source and after the destination of a \`tcp\` or \`udp\` rule, a port match:
  \`eq\`, \`neq\`, \`gt\` or \`lt\` and a port, or \`range FROM TO\`; ports go from 1 to 65535.
- At the end of a \`tcp\` rule: \`established\` (RST or ACK set, SYN clear), or \`match-any\` or
  \`match-all\` followed by flags, each \`+\` (set) or \`-\` (clear) and one of \`fin\`, \`syn\`,
  \`rst\`, \`psh\`, \`ack\`, \`urg\`.
- At the end of any rule without a port or flag match: \`fragments\`, to match IP fragments.
- In an extended rule, an address without a wildcard is an error: write \`host ADDRESS\`.

## ip_pool

The addresses lnsd hands to subscribers that RADIUS gives no Framed-IP-Address. One entry per line:
an address (\`192.0.2.7\`) or a network (\`198.51.100.0/24\`). Lines starting with \`#\` and blank
lines are ignored, as is a \`#\` comment after an entry.

- A network gives all its addresses except the network address itself. An entry whose address is
  not the network's (\`10.0.0.7/29\`) is read as its network, with a warning.
- No address ending in \`.0\` or \`.255\` is ever handed out, as in l2tpns.
- \`ADDRESS/32\` is that one address (l2tpns gives nothing for a /32).
- An entry may start with \`BIND_ADDRESS:\` (\`192.0.2.1:10.1.0.0/16\`): only the cluster node whose
  \`bind_address\` is BIND_ADDRESS uses it, so that the nodes of a cluster can share one file.
- Two entries that one node would both use must not overlap: an address would be handed out twice.

## users

Logins of the telnet CLI, one \`username:password\` per line; lines starting with \`#\` are comments.
The password is read as libcli reads it for l2tpns:

- \`{crypt}\` (in any case) followed by a hash of any scheme the system's crypt(3) knows: on
  Debian 12 (libxcrypt) \`$y$\` (yescrypt, the default of \`mkpasswd\`), \`$gy$\`, \`$7$\`,
  \`$6$\` (sha512crypt), \`$5$\` (sha256crypt), \`$2b$\` (bcrypt), \`$1$\` (MD5-crypt) or a
  traditional 13-character DES hash. \`mkpasswd -m yescrypt\` (Debian package \`whois\`) makes one.
- an MD5-crypt hash, \`$1$SALT$HASH\`, also without \`{crypt}\` (as made by \`openssl passwd -1\`);
- anything else is the plain-text password (everything after the first \`:\`). A \`$6$...\`
  without \`{crypt}\` is therefore a plain-text password, in l2tpns as in lnsd; lnsd warns about it.

MD5-crypt and DES are computed by lnsd itself; the other schemes by the system's crypt(3), which
lnsd asks through \`perl\` (part of every Debian system) in a child process, the password passed on
its standard input. A line whose hash cannot be checked (an unknown scheme, a malformed hash) is a
warning naming the file and line: that user cannot log in, the others can. For \`enable\`, such a
line means the \`enable\` command refuses every password. \`lnsd -t\` also asks crypt(3) whether
it knows each hash's scheme.

The user \`enable\` is not a login: its password is the one asked by the CLI's \`enable\` command.
With no users (no file, or a file of comments only), l2tpns lets anyone on the local host into the
CLI without a password, and no one from elsewhere.

## Checking a config: lnsd -t

\`lnsd -t [-c startup-config]\` reads the startup-config and the \`ip_pool\`, \`users\` and
\`chap-secrets\` (when no RADIUS server is set) files it points to, prints every error and warning
(each naming file and line) and exits: 0 when lnsd would start with it, 1 when not. Nothing is
started, no port is opened. \`lnsd -d\` makes the same check before it detaches from the terminal
and exits 1, with the errors on standard error, when the config has an error.

Detached, lnsd has no terminal to log to. With \`log_file\` set it logs there; with none it logs to
syslog (facility daemon), and it refuses to detach (exit 1) when no syslog listens on \`/dev/log\`
or \`log_file\` cannot be opened. (l2tpns \`-d\` with no \`log_file\` loses its log: it writes
to standard error, which it has pointed at \`/dev/null\`.) The warnings of the config files are
logged at start and again on every reload (SIGHUP), at level 2 (\`debug 2\` or more shows them).

## chap-secrets

The subscribers lnsd lets in itself when no RADIUS server is set (\`primary_radius\` and
\`secondary_radius\` unset); an lnsd addition, l2tpns has no local users. The file is
\`local_secrets_file\` (by default \`chap-secrets\` beside the startup-config), in pppd's format, one
\`client server secret [address]\` per line:

\`\`\`
# client	server	secret			address
demo1		*	demo1pass		*
demo2		*	"demo2 pass phrase"	-
demo3		*	demo3pass		198.51.100.200
\`\`\`

The rules (quoting, wildcards, which line applies, PAP and CHAP) are in
[authentication.md](authentication.md).
`;

/** The whole of docs/config.md. */
export function renderConfigDocs(): string {
  return `${HEAD}\n${variablesSection()}\n${TAIL}`;
}
