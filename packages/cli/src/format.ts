// The text of the show commands. Column widths and labels are those of l2tpns 2.4.1, which
// operators' scripts parse (docs/cli.md); each function returns lines without line ends.
import { STARTUP_VARIABLES, formatExtendedRule, formatSpecValue, formatStandardRule, type SettingValue, type StartupConfig } from "@lnsd/config";
import type { CliCounters, CliPoolEntry, CliSession, CliTunnel, CliUptime } from "./backend.js";

const left = (s: string | number, n: number): string => String(s).padEnd(n);
const right = (s: string | number, n: number): string => String(s).padStart(n);
const yn = (b: boolean): string => (b ? "Y" : "N");

export const SESSION_HEADER = [
  right("SID", 5), right("LkToSID", 7), right("TID", 4), left("Username", 32), left("IP", 15), "I T G 6",
  right("opened", 10), right("downloaded", 10), right("uploaded", 10), right("idle", 4), right("Rem.Time", 10),
  left("LAC(L)/RLNS(R)/PPPOE(P)", 23), "CLI",
].join(" ");

export function sessionRow(s: CliSession): string {
  return [
    right(s.id, 5), right(s.linkedTo, 7), right(s.tunnelId, 4), left(s.username, 32), left(s.address ?? "0.0.0.0", 15),
    `${yn(s.intercepted)} ${yn(s.throttled)} ${yn(s.walledGarden)} ${yn(s.ipv6)}`,
    right(s.openedSeconds, 10), right(s.txOctets, 10), right(s.rxOctets, 10), right(s.idleSeconds, 4), right(s.remainingSeconds, 10),
    left(`(L)${s.lacAddress}`, 23), s.callingNumber,
  ].join(" ");
}

export function sessionDetail(s: CliSession): string[] {
  return [
    "",
    `Session ${s.id}:`,
    `\tUser:\t\t${s.username}`,
    `\tCalling Num:\t${s.callingNumber}`,
    `\tCalled Num:\t${s.calledNumber}`,
    `\tTunnel ID:\t${s.tunnelId}`,
    `\tPPP Phase:\t${s.pppPhase}`,
    `\t IPCP state:\t${s.ipcpState}`,
    `\t IPV6CP state:\t${s.ipv6cpState}`,
    `\t CCP state:\t${s.ccpState}`,
    `\tIP address:\t${s.address ?? "0.0.0.0"}`,
    `\tUnique SID:\t${s.id}`,
    `\tOpened:\t\t${s.openedSeconds} seconds`,
    `\tIdle time:\t${s.idleSeconds} seconds`,
    ...(s.remainingSeconds > 0 ? [`\tSession timeout:\t${s.remainingSeconds} seconds left`] : []),
    `\tBytes In/Out:\t${s.rxOctets}/${s.txOctets}`,
    `\tPkts In/Out:\t${s.rxPackets}/${s.txPackets}`,
    `\tMRU:\t\t${s.mru}`,
    `\tRx Speed:\t${s.rxSpeed}`,
    `\tTx Speed:\t${s.txSpeed}`,
    `\tIntercepted:\t${s.intercepted ? "yes" : "no"}`,
    `\tWalled Garden:\t${s.walledGarden ? "yes" : "no"}`,
    `\tThrottled:\t${s.throttled ? "yes" : "no"}`,
  ];
}

export const TUNNEL_HEADER = `${right("TID", 4)} ${right("Hostname", 20)} ${right("IP", 20)} ${right("State", 6)} Sessions`;

export function tunnelRow(t: CliTunnel): string {
  return `${right(t.id, 4)} ${right(t.hostname === "" ? "(null)" : t.hostname, 20)} ${right(t.address, 20)} ${right(t.state, 6)} ${right(t.sessions, 6)} Tunnel To LAC`;
}

export function tunnelDetail(t: CliTunnel): string[] {
  return [
    "",
    `Tunnel ${t.id}, Type Tunnel To LAC, State ${t.state}`,
    `\tHostname:\t${t.hostname === "" ? "(null)" : t.hostname}`,
    `\tRemote IP:\t${t.address}`,
    `\tRemote Port:\t${t.port}`,
    `\tRemote ID:\t${t.peerId}`,
    `\tVendor:\t\t${t.vendor}`,
    `\tOpened:\t\t${t.openedSeconds} seconds`,
    `\tControl Tx:\t${t.controlSent} (${t.controlRetransmitted} retransmitted)`,
    `\tControl Rx:\t${t.controlReceived}`,
    `\tSessions:\t${t.sessionIds.length === 0 ? "none" : t.sessionIds.join(" ")}`,
  ];
}

export const POOL_HEADER = "IP Address      Used  Session User";

export function poolRow(e: CliPoolEntry): string {
  if (e.used) return `${left(e.address, 15)}\tY ${right(e.sessionId, 8)} ${e.user}`;
  const last = e.user === "" ? "" : ` [${e.user}]`;
  const ago = e.freeForSeconds === undefined ? "" : ` ${e.freeForSeconds}s`;
  return `${left(e.address, 15)}\tN ${right("", 8)}${last}${ago}`;
}

export function counterLines(c: CliCounters): string[] {
  const row = (label: string, values: readonly number[]): string => [left(label, 10), ...values.map((v) => right(v, 10))].join(" ");
  const out: string[] = [];
  const tun = c.tun ?? { rxBytes: 0, rxPackets: 0, rxErrors: 0, rxDropped: 0, txBytes: 0, txPackets: 0, txErrors: 0 };
  out.push(left("Ethernet", 10) + ["Bytes", "Packets", "Errors", "Dropped"].map((h) => ` ${right(h, 10)}`).join(""));
  out.push(row("RX", [tun.rxBytes, tun.rxPackets, tun.rxErrors, tun.rxDropped]));
  out.push(row("TX", [tun.txBytes, tun.txPackets, tun.txErrors]));
  out.push(" ");
  const t = c.tunnel;
  out.push(left("Tunnel", 10) + ["Bytes", "Packets", "Errors", "Retries"].map((h) => ` ${right(h, 10)}`).join(""));
  out.push(row("RX", [t.rxBytes, t.rxPackets, t.rxErrors]));
  out.push(row("TX", [t.txBytes, t.txPackets, t.txErrors, t.retries]));
  out.push(" ");
  c.groups.forEach((group, i) => {
    if (i > 0) out.push("");
    out.push(`${left("Counter", 30)}${left("Value", 10)}`);
    out.push("-".repeat(41));
    for (const [name, value] of group) out.push(`${left(name, 30)}${value}`);
  });
  out.push(" ");
  out.push(`Last counter reset ${ctime(c.lastReset)}`);
  return out;
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const two = (n: number): string => String(n).padStart(2, "0");

/** C's ctime() without its newline, in local time: "Sat Nov 21 11:59:51 2026". */
export function ctime(d: Date): string {
  const day = DAYS[d.getDay()] ?? "";
  const month = MONTHS[d.getMonth()] ?? "";
  return `${day} ${month} ${String(d.getDate()).padStart(2)} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${d.getFullYear()}`;
}

function percent(n: number, total: number): string {
  return (total === 0 ? 0 : (100 * n) / total).toFixed(2).padStart(7);
}

/** Idle times in 5 s buckets up to 310 s, then "lots of secs". */
export function idleHistogram(idleSeconds: Iterable<number>): string[] {
  const buckets = new Array<number>(64).fill(0);
  let total = 0;
  for (const s of idleSeconds) {
    const b = Math.min(63, Math.floor(Math.max(0, s) / 5));
    buckets[b] = (buckets[b] ?? 0) + 1;
    total++;
  }
  const out = buckets.map((n, i) => `${i < 63 ? `${right(i * 5, 3)} seconds ` : "lots of secs"} : ${percent(n, total)}% (${right(n, 6)})`);
  out.push(`${total} total sessions open.`);
  return out;
}

/** Session durations in power-of-two buckets: "< 2^i" holds durations from 2^i to 2^(i+1). */
export function openHistogram(openSeconds: Iterable<number>): string[] {
  const buckets = new Array<number>(30).fill(0);
  let total = 0;
  for (const s of openSeconds) {
    const b = s < 1 ? 0 : Math.min(29, Math.floor(Math.log2(s)));
    buckets[b] = (buckets[b] ?? 0) + 1;
    total++;
  }
  const out = buckets.map((n, i) => ` < ${right(2 ** i, 8)} seconds : ${percent(n, total)}% (${right(n, 6)})`);
  out.push(`${total} total sessions open.`);
  return out;
}

function duration(sec: number): string {
  const days = Math.floor(sec / 86400);
  const h = Math.floor((sec % 86400) / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const dayPart = days > 0 ? `${days} day${days === 1 ? "" : "s"}, ` : "";
  if (sec < 60) return `${Math.floor(sec)} secs`;
  if (sec < 3600) return `${dayPart}${m} min`;
  return `${dayPart}${h}:${two(m)}`;
}

export function uptimeLines(u: CliUptime, now: Date): string[] {
  const clock = `${two(now.getHours())}:${two(now.getMinutes())}:${two(now.getSeconds())}`;
  const [l1, l5, l15] = u.loadAverage;
  const b = u.bandwidth ?? { udpToEth: [0, 0], ethToUdp: [0, 0], inPps: 0, outPps: 0 };
  const total = b.udpToEth[0] + b.udpToEth[1] + b.ethToUdp[0] + b.ethToUdp[1];
  return [
    `${clock} up ${duration(u.upSeconds)}, ${u.users} users, load average: ${l1.toFixed(2)}, ${l5.toFixed(2)}, ${l15.toFixed(2)}`,
    `Bandwidth: UDP-ETH:${b.udpToEth[0].toFixed(0)}/${b.udpToEth[1].toFixed(0)}  ETH-UDP:${b.ethToUdp[0].toFixed(0)}/${b.ethToUdp[1].toFixed(0)}  TOTAL:${total.toFixed(1)}   IN:${b.inPps} OUT:${b.outPps}`,
  ];
}

function quoteWord(s: string): string {
  return /^[^\s"'#|]+$/.test(s) ? s : `"${s.replace(/(["\\])/g, "\\$1")}"`;
}

/** `show running-config`: every variable, then plugins, forwards, BGP and the access lists. */
export function runningConfigLines(cfg: StartupConfig): string[] {
  const out = ["# Current configuration:"];
  const values: Readonly<Record<string, SettingValue>> = cfg.settings;
  for (const spec of STARTUP_VARIABLES) out.push(`set ${spec.name} ${formatSpecValue(spec, values[spec.name] ?? spec.default)}`);
  out.push("# Plugins");
  for (const p of cfg.plugins) out.push(`load plugin "${p}"`);
  if (cfg.forwards.length > 0) {
    out.push("# Remote LNS forwards");
    for (const f of cfg.forwards) out.push(`setforward ${quoteWord(f.mask)} ${f.address} ${f.port} ${quoteWord(f.secret)}`);
  }
  if (cfg.bgp !== undefined) {
    out.push("# BGP");
    out.push(`router bgp ${cfg.bgp.as}`);
    for (const n of cfg.bgp.neighbours) out.push(` neighbour ${n.peer} remote-as ${n.remoteAs}`, ` neighbour ${n.peer} timers ${n.keepaliveSeconds} ${n.holdTimeSeconds}`);
  }
  out.push("# Filters");
  for (const list of cfg.accessLists) out.push(...accessListLines(list));
  out.push("# end");
  return out;
}

export function accessListLines(list: StartupConfig["accessLists"][number]): string[] {
  const out = [`ip access-list ${list.type} ${list.name}`];
  if (list.type === "standard") for (const r of list.rules) out.push(` ${formatStandardRule(r)}`);
  else for (const r of list.rules) out.push(` ${formatExtendedRule(r)}`);
  return out;
}
