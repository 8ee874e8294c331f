// Prometheus metrics (prom-client) on metrics_address:metrics_port, GET /metrics. Everything
// per session is read at scrape time from what the daemon already keeps (MetricsSession counters, the
// L2TP node, the RADIUS client's stats): nothing is added to the packet path. Line quality is the
// LCP Echo keepalive: round-trip and loss histograms over every line, and the worst few lines by
// name, so that cardinality stays bounded whatever the number of sessions. Runs on the control thread.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { ClusterNode } from "@lnsd/cluster";
import type { EchoSample, EchoStats, PppPhase } from "@lnsd/ppp";
import type { RadiusClientEvent, RadiusClientStats } from "@lnsd/radius";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Level, Logger } from "./log.js";
import type { LoopWatch } from "./loop-watch.js";

/** How many lines the worst-line gauges name: small and fixed, so the series stay few. */
export const WORST_LINES = 5;
/** Distinct log reasons counted by name; beyond that they count as "other". */
const MAX_REASONS = 200;
/** A line's loss ratio is shown once this many of its recent Echo-Requests have an outcome. */
const MIN_ECHOES_FOR_LOSS = 4;

/** The nsctl server's counters, as the control package keeps them. */
export interface ControlCounters {
  readonly requests: number;
  readonly dropped: Readonly<Record<string, number>>;
}

/** What the metrics read of a session (the SessionManager's Subscriber has it all). */
export interface MetricsSession {
  readonly tunnel: { readonly localId: number };
  readonly l2tp: { readonly localId: number };
  readonly ppp: { readonly phase: PppPhase; readonly echoStats: Readonly<EchoStats> };
  readonly username?: string | undefined;
  readonly address?: number | undefined;
  readonly rxPackets: number;
  readonly txPackets: number;
  readonly rxOctets: number;
  readonly txOctets: number;
}

/** What the metrics read of the L2TP node. */
export interface MetricsL2tp {
  readonly tunnels: ReadonlyMap<number, { readonly state: string }>;
  readonly sessionsInSetupCount: number;
  readonly counters: ReadonlyMap<string, number>;
}

/** Where the numbers come from; given once the parts exist (the metrics exist before the daemon). */
export interface MetricsSources {
  readonly sessions?: () => Iterable<MetricsSession>;
  readonly l2tp?: () => MetricsL2tp;
  readonly radius?: () => RadiusClientStats;
  readonly control?: () => ControlCounters;
  /** The data workers' statistics (DataPlane.stats()), summed over the workers. */
  readonly dataplane?: () => Readonly<Record<string, number>>;
  /** Telnet CLI connections open. */
  readonly cliSessions?: () => number;
  /** The record store and its journal (issue 13), when the state is kept. */
  readonly state?: () => MetricsState;
  /** The cluster node (issue 14), when the startup-config sets cluster_address. */
  readonly cluster?: () => ClusterNode;
}

/** What the metrics read of the record store and the state journal. */
export interface MetricsState {
  readonly records: number;
  /** Changes published, by "KIND OP". */
  readonly published: ReadonlyMap<string, number>;
  readonly journalBytes: number;
}

/** Data-plane statistics that count packets moved, by where; the rest are drops by reason. */
const DATAPLANE_PATHS: Readonly<Record<string, string>> = {
  UDP_IN: "udp_in",
  TUN_OUT: "tun_out",
  TUN_IN: "tun_in",
  UDP_OUT: "udp_out",
  TO_CONTROL: "to_control",
  ICMP_SENT: "icmp_sent",
  MSS_CLAMPED: "mss_clamped",
};
const DATAPLANE_NOT_DROPS = new Set([...Object.keys(DATAPLANE_PATHS), "BATCHES"]);

interface Traffic {
  rxPackets: number;
  txPackets: number;
  rxOctets: number;
  txOctets: number;
}

function popcount(n: number): number {
  let c = 0;
  for (let v = n >>> 0; v !== 0; v &= v - 1) c++;
  return c;
}

function lineName(sub: MetricsSession): { session: string; user: string } {
  return { session: `${sub.tunnel.localId}/${sub.l2tp.localId}`, user: sub.username ?? "" };
}

export class LnsdMetrics {
  readonly registry = new Registry();
  private sources: MetricsSources = {};
  /** Traffic of sessions gone, so that the totals never go down when a session ends. */
  private readonly retired: Traffic = { rxPackets: 0, txPackets: 0, rxOctets: 0, txOctets: 0 };
  /** Each live session's counters as last seen, to retire a session that ended unseen. */
  private readonly lastSeen = new Map<MetricsSession, Traffic>();
  /** Sessions already retired by sessionEnded(), in case one is still listed for a moment. */
  private readonly ended = new WeakSet<MetricsSession>();
  private readonly logEvents = new Map<string, number>();
  private readonly echoRtt: Histogram<never>;
  private readonly echoOutcomes: Counter<"outcome">;
  private readonly radiusRtt: Histogram<"request" | "server">;
  private readonly cliSessions: Gauge<never>;

  constructor(opts: { readonly defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    const self = (): LnsdMetrics => this;

    new Gauge({
      name: "lnsd_tunnels",
      help: "L2TP tunnels by state (RFC 2661 control connection states).",
      labelNames: ["state"],
      registers,
      collect() {
        this.reset();
        const node = self().sources.l2tp?.();
        if (node === undefined) return;
        for (const s of ["wait-ctl-conn", "established", "closing"] as const) this.set({ state: s }, 0);
        for (const t of node.tunnels.values()) this.inc({ state: t.state });
      },
    });
    new Gauge({
      name: "lnsd_sessions",
      help: "Sessions by state: l2tp-setup (ICRQ seen, no ICCN yet), then the PPP phase (establish, authenticate, network, terminate).",
      labelNames: ["state"],
      registers,
      collect() {
        this.reset();
        const m = self();
        const node = m.sources.l2tp?.();
        if (node !== undefined) this.set({ state: "l2tp-setup" }, node.sessionsInSetupCount);
        for (const s of ["establish", "authenticate", "network"] as const) this.set({ state: s }, 0);
        for (const sub of m.sources.sessions?.() ?? []) this.inc({ state: sub.ppp.phase });
      },
    });
    new Gauge({
      name: "lnsd_sessions_online",
      help: "Sessions in the network phase with an IPv4 address.",
      registers,
      collect() {
        let n = 0;
        for (const sub of self().sources.sessions?.() ?? []) if (sub.address !== undefined && sub.ppp.phase === "network") n++;
        this.set(n);
      },
    });
    const traffic = (name: string, help: string, packets: boolean): void => {
      new Counter({
        name,
        help,
        labelNames: ["direction"],
        registers,
        collect() {
          const t = self().trafficTotals();
          this.reset();
          this.inc({ direction: "rx" }, packets ? t.rxPackets : t.rxOctets);
          this.inc({ direction: "tx" }, packets ? t.txPackets : t.txOctets);
        },
      });
    };
    traffic("lnsd_subscriber_packets_total", "MetricsSession packets through the control thread's path: rx from the subscribers, tx to them.", true);
    traffic("lnsd_subscriber_bytes_total", "MetricsSession bytes (IP packets) through the control thread's path: rx from the subscribers, tx to them.", false);

    new Counter({
      name: "lnsd_l2tp_drops_total",
      help: "L2TP datagrams dropped and calls or tunnels refused, by reason.",
      labelNames: ["reason"],
      registers,
      collect() {
        this.reset();
        const node = self().sources.l2tp?.();
        for (const [reason, n] of node?.counters ?? []) this.inc({ reason }, n);
      },
    });
    new Counter({
      name: "lnsd_log_events_total",
      help: "Problems reported (log calls at critical, error and warning), by level and reason, whatever the debug level and the log rate limit.",
      labelNames: ["level", "reason"],
      registers,
      collect() {
        this.reset();
        for (const [key, n] of self().logEvents) {
          const [level = "", reason = ""] = key.split("\u0000");
          this.inc({ level, reason }, n);
        }
      },
    });
    new Counter({
      name: "lnsd_nsctl_requests_total",
      help: "nsctl requests answered.",
      registers,
      collect() {
        this.reset();
        this.inc(self().sources.control?.().requests ?? 0);
      },
    });
    new Counter({
      name: "lnsd_dataplane_packets_total",
      help: "Packets the data workers moved: datagrams in from and out to the LACs, packets to and from the tun device, handed to the control thread, ICMP unreachables sent, SYNs whose MSS was clamped.",
      labelNames: ["path"],
      registers,
      collect() {
        this.reset();
        const st = self().sources.dataplane?.();
        if (st === undefined) return;
        for (const [stat, path] of Object.entries(DATAPLANE_PATHS)) this.inc({ path }, st[stat] ?? 0);
      },
    });
    new Counter({
      name: "lnsd_dataplane_drops_total",
      help: "Packets the data workers dropped, by reason (see docs/dataplane.md).",
      labelNames: ["reason"],
      registers,
      collect() {
        this.reset();
        const st = self().sources.dataplane?.();
        if (st === undefined) return;
        for (const [stat, n] of Object.entries(st)) if (!DATAPLANE_NOT_DROPS.has(stat)) this.inc({ reason: stat.toLowerCase() }, n);
      },
    });
    new Counter({
      name: "lnsd_nsctl_drops_total",
      help: "Datagrams to the nsctl port that were not a request, by reason.",
      labelNames: ["reason"],
      registers,
      collect() {
        this.reset();
        for (const [reason, n] of Object.entries(self().sources.control?.().dropped ?? {})) this.inc({ reason }, n);
      },
    });

    // RADIUS.
    this.radiusRtt = new Histogram({
      name: "lnsd_radius_round_trip_seconds",
      help: "Time from sending a RADIUS request (its last retransmission) to its valid answer.",
      labelNames: ["request", "server"],
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
      registers,
    });
    const radiusCounter = (name: string, help: string, pick: (s: RadiusClientStats) => { auth: number; acct: number }): void => {
      new Counter({
        name,
        help,
        labelNames: ["request"],
        registers,
        collect() {
          this.reset();
          const s = self().sources.radius?.();
          if (s === undefined) return;
          const v = pick(s);
          this.inc({ request: "auth" }, v.auth);
          this.inc({ request: "acct" }, v.acct);
        },
      });
    };
    radiusCounter("lnsd_radius_requests_total", "RADIUS requests made (Access-Request, Accounting-Request).", (s) => ({ auth: s.counters.accessRequests, acct: s.counters.acctRequests }));
    radiusCounter("lnsd_radius_timeouts_total", "RADIUS requests given up with no answer from any server.", (s) => ({ auth: s.counters.authTimeouts, acct: s.counters.acctTimeouts }));
    new Counter({
      name: "lnsd_radius_retransmits_total",
      help: "RADIUS datagrams sent again (same or another server).",
      registers,
      collect() {
        this.reset();
        this.inc(self().sources.radius?.().counters.retransmits ?? 0);
      },
    });
    new Counter({
      name: "lnsd_radius_drops_total",
      help: "RADIUS answers dropped, by reason.",
      labelNames: ["reason"],
      registers,
      collect() {
        this.reset();
        for (const [reason, n] of Object.entries(self().sources.radius?.().counters.dropped ?? {})) this.inc({ reason }, n);
      },
    });
    new Gauge({
      name: "lnsd_radius_in_flight",
      help: "RADIUS requests waiting for an answer.",
      registers,
      collect() {
        this.set(self().sources.radius?.().inFlight ?? 0);
      },
    });

    // Read from the CLI server at scrape time, or set with setCliSessions().
    this.cliSessions = new Gauge({
      name: "lnsd_cli_sessions",
      help: "Telnet CLI sessions open.",
      registers,
      collect() {
        const n = self().sources.cliSessions?.();
        if (n !== undefined) this.set(n);
      },
    });
    this.cliSessions.set(0);

    // The record store and the state journal (restart.md), read at scrape time.
    new Gauge({
      name: "lnsd_state_records",
      help: "Live records (tunnels, L2TP sessions, subscribers) in the record store.",
      registers,
      collect() {
        const st = self().sources.state?.();
        if (st !== undefined) this.set(st.records);
      },
    });
    new Counter({
      name: "lnsd_state_changes_total",
      help: "Record changes published (and journaled), by kind and op.",
      labelNames: ["kind", "op"],
      registers,
      collect() {
        const st = self().sources.state?.();
        this.reset();
        for (const [key, n] of st?.published ?? []) {
          const [kind = "", op = ""] = key.split(" ");
          this.inc({ kind, op }, n);
        }
      },
    });
    new Counter({
      name: "lnsd_state_journal_bytes_total",
      help: "Bytes written to the state journal (page cache) since lnsd started.",
      registers,
      collect() {
        const st = self().sources.state?.();
        this.reset();
        if (st !== undefined) this.inc(st.journalBytes);
      },
    });

    // Line quality from the LCP Echo keepalive.
    this.echoRtt = new Histogram({
      name: "lnsd_lcp_echo_rtt_seconds",
      help: "Round trip of LCP Echo-Requests answered, over every line (LNS to the subscriber's PPP and back).",
      buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
      registers,
    });
    this.echoOutcomes = new Counter({
      name: "lnsd_lcp_echo_total",
      help: "LCP Echo-Requests by outcome: reply, or lost (no reply before the next one went out).",
      labelNames: ["outcome"],
      registers,
    });
    this.echoOutcomes.inc({ outcome: "reply" }, 0);
    this.echoOutcomes.inc({ outcome: "lost" }, 0);
    new Gauge({
      name: "lnsd_line_worst_echo_rtt_seconds",
      help: `The ${WORST_LINES} lines with the longest latest LCP Echo round trip (rank 1 is the worst).`,
      labelNames: ["rank", "session", "user"],
      registers,
      collect() {
        this.reset();
        const worst = self().worstLines((sub) => sub.ppp.echoStats.lastRttMs);
        worst.forEach(([sub, ms], i) => { this.set({ rank: String(i + 1), ...lineName(sub) }, ms / 1000); });
      },
    });
    new Gauge({
      name: "lnsd_line_worst_echo_loss_ratio",
      help: `The ${WORST_LINES} lines losing the most of their latest 32 LCP Echo-Requests (0 to 1; rank 1 is the worst).`,
      labelNames: ["rank", "session", "user"],
      registers,
      collect() {
        this.reset();
        const worst = self().worstLines((sub) => {
          const e = sub.ppp.echoStats;
          if (e.recentCount < MIN_ECHOES_FOR_LOSS) return undefined;
          const lost = popcount(e.recentLost & (e.recentCount >= 32 ? 0xffff_ffff : (1 << e.recentCount) - 1));
          return lost === 0 ? undefined : lost / e.recentCount;
        });
        worst.forEach(([sub, ratio], i) => { this.set({ rank: String(i + 1), ...lineName(sub) }, ratio); });
      },
    });
  }

  /** The parts to read at scrape time; may be given in several calls. */
  attach(sources: MetricsSources): void {
    this.sources = { ...this.sources, ...sources };
    const cluster = sources.cluster;
    if (cluster !== undefined) this.clusterMetrics(cluster);
  }

  /** The cluster's role, peers, replication and output commit (issue 14). */
  private clusterMetrics(cluster: () => ClusterNode): void {
    const registers = [this.registry];
    new Gauge({
      name: "lnsd_cluster_role",
      help: "1 for this node's cluster role (starting, slave, master).",
      labelNames: ["role"],
      registers,
      collect() {
        const role = cluster().role;
        for (const r of ["starting", "slave", "master"]) this.set({ role: r }, r === role ? 1 : 0);
      },
    });
    new Gauge({ name: "lnsd_cluster_peers", help: "Other cluster nodes heard within cluster_hb_timeout.", registers, collect() { this.set(cluster().livePeers.length); } });
    new Gauge({ name: "lnsd_cluster_uptodate_slaves", help: "The master: slaves that hold its state and acknowledge its changes.", registers, collect() { this.set(cluster().uptodateSlaves); } });
    new Gauge({
      name: "lnsd_cluster_replication_lag_versions",
      help: "The master: record versions each slave has not yet acknowledged.",
      labelNames: ["slave"],
      registers,
      collect() {
        this.reset();
        const n = cluster();
        const version = n.version;
        for (const [slave, s] of n.slaves) this.set({ slave }, Math.max(0, version - s.acked));
      },
    });
    new Histogram({
      name: "lnsd_cluster_commit_latency_seconds",
      help: "The master: how long output waited for every up-to-date slave to hold the changes behind it.",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
      collect() {
        for (const l of cluster().takeCommitLatencies()) this.observe(l / 1000);
      },
    });
    new Counter({
      name: "lnsd_cluster_dropped_total",
      help: "Cluster messages dropped: bad-mac (another cluster_secret), malformed, undecodable.",
      labelNames: ["reason"],
      registers,
      collect() {
        this.reset();
        for (const [reason, n] of cluster().counters.badFrames) this.inc({ reason }, n);
      },
    });
    new Counter({ name: "lnsd_cluster_forwarded_total", help: "A slave: datagrams passed to the master.", registers, collect() { this.reset(); this.inc(cluster().counters.forwarded); } });
    new Counter({ name: "lnsd_cluster_elections_total", help: "Times this node declared itself the master.", registers, collect() { this.reset(); this.inc(cluster().counters.elections); } });
  }

  /** The control loop's lag (a histogram) and the inputs dropped after an internal error, by site. */
  watchLoop(watch: LoopWatch): void {
    const lag = new Histogram({
      name: "lnsd_event_loop_lag_seconds",
      help: "How late the control thread's event loop ran a 20 ms timer: time other work held it.",
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    watch.onLag = (seconds) => { lag.observe(seconds); };
    new Counter({
      name: "lnsd_handler_errors_total",
      help: "Inputs (a datagram, a connection's data, a timer) dropped after an internal error, by where they entered.",
      labelNames: ["site"],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [site, n] of watch.errors) this.inc({ site }, n);
      },
    });
  }

  /** Counts the logger's problems by reason (critical, error, warning). */
  observeLogger(logger: Logger): void {
    logger.observer = (level, reason) => {
      this.logEvent(level, reason);
    };
  }

  /** For the PPP config's onEcho: one Echo-Request's fate. */
  observeEcho(sample: EchoSample): void {
    if (sample.kind === "reply") {
      this.echoOutcomes.inc({ outcome: "reply" });
      this.echoRtt.observe(sample.rttMs / 1000);
    } else this.echoOutcomes.inc({ outcome: "lost" });
  }

  /** For the RADIUS client's onEvent: round trips feed the histogram. */
  radiusEvent(e: RadiusClientEvent): void {
    if (e.kind === "round-trip") this.radiusRtt.observe({ request: e.request, server: e.server }, e.rttMs / 1000);
  }

  /** The CLI's setter: how many telnet sessions are open. */
  setCliSessions(n: number): void {
    this.cliSessions.set(n);
  }

  /** A session ended (SessionEvents.offline): its traffic joins the retired totals at once. */
  sessionEnded(sub: MetricsSession): void {
    if (this.ended.has(sub)) return;
    this.ended.add(sub);
    this.lastSeen.delete(sub);
    this.retired.rxPackets += sub.rxPackets;
    this.retired.txPackets += sub.txPackets;
    this.retired.rxOctets += sub.rxOctets;
    this.retired.txOctets += sub.txOctets;
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  private logEvent(level: Level, reason: string): void {
    if (level !== "critical" && level !== "error" && level !== "warn") return;
    let key = `${level}\u0000${reason}`;
    if (!this.logEvents.has(key) && this.logEvents.size >= MAX_REASONS) key = `${level}\u0000other`;
    this.logEvents.set(key, (this.logEvents.get(key) ?? 0) + 1);
  }

  /** Live sessions' counters plus those of sessions gone; a session gone since the last scrape is retired now. */
  private trafficTotals(): Traffic {
    const live = new Map<MetricsSession, Traffic>();
    const sum: Traffic = { ...this.retired };
    for (const sub of this.sources.sessions?.() ?? []) {
      if (this.ended.has(sub)) continue;
      const t = { rxPackets: sub.rxPackets, txPackets: sub.txPackets, rxOctets: sub.rxOctets, txOctets: sub.txOctets };
      live.set(sub, t);
      sum.rxPackets += t.rxPackets;
      sum.txPackets += t.txPackets;
      sum.rxOctets += t.rxOctets;
      sum.txOctets += t.txOctets;
    }
    for (const [sub, t] of this.lastSeen) {
      if (live.has(sub)) continue;
      // Ended without sessionEnded(): what was last seen of it is kept.
      this.retired.rxPackets += t.rxPackets;
      this.retired.txPackets += t.txPackets;
      this.retired.rxOctets += t.rxOctets;
      this.retired.txOctets += t.txOctets;
      sum.rxPackets += t.rxPackets;
      sum.txPackets += t.txPackets;
      sum.rxOctets += t.rxOctets;
      sum.txOctets += t.txOctets;
    }
    this.lastSeen.clear();
    for (const [sub, t] of live) this.lastSeen.set(sub, t);
    return sum;
  }

  /** The WORST_LINES sessions with the highest value (undefined: not ranked), highest first. */
  private worstLines(value: (sub: MetricsSession) => number | undefined): [MetricsSession, number][] {
    const top: [MetricsSession, number][] = [];
    for (const sub of this.sources.sessions?.() ?? []) {
      const v = value(sub);
      if (v === undefined) continue;
      if (top.length === WORST_LINES && v <= (top[WORST_LINES - 1]?.[1] ?? Infinity)) continue;
      top.push([sub, v]);
      top.sort((a, b) => b[1] - a[1]);
      if (top.length > WORST_LINES) top.pop();
    }
    return top;
  }
}

export interface MetricsHttpServer {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The scrape listener; each request is answered by answerScrape, its faults contained to it. */
export async function serveMetrics(metrics: LnsdMetrics, address: string, port: number): Promise<MetricsHttpServer> {
  const server: Server = createServer((req, res) => {
    try {
      answerScrape(metrics, req, res);
    } catch (e) {
      // One request's fault: that request gets a 500, the listener and the daemon go on.
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(`lnsd: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  });
  server.on("clientError", (_e, socket) => { socket.destroy(); });
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  server.maxHeadersCount = 50;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, address, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const a = server.address();
  const bound = typeof a === "object" && a !== null ? { address: a.address, port: a.port } : { address, port };
  return {
    ...bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

/** One scrape: GET /metrics (the Prometheus text format); anything else 404, methods other than GET/HEAD 405. */
function answerScrape(metrics: LnsdMetrics, req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? "/").split("?")[0];
  if (path !== "/metrics") {
    res.writeHead(404, { "content-type": "text/plain" }).end("lnsd: metrics are at /metrics\n");
    return;
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD" }).end();
    return;
  }
  metrics.text().then(
    (body) => {
      res.writeHead(200, { "content-type": metrics.registry.contentType }).end(req.method === "HEAD" ? undefined : body);
    },
    (e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(`lnsd: ${e instanceof Error ? e.message : String(e)}\n`);
    },
  );
}
