// The daemon's listeners as reloadable components (component.ts): nsctl, the Prometheus metrics,
// the telnet CLI and the DAE server, each reopened by a reload only when its address or port
// changed. Control thread.
import { CliServer, type CliBackend } from "@lnsd/cli";
import type { StartupSettings } from "@lnsd/config";
import { ControlServer, NSCTL_REQ_CONTROL, NSCTL_REQ_HELP, NSCTL_RES_OK, nsctlTypeName, type ControlServerEvent } from "@lnsd/control";
import { DaeServer, radiusUdp, radiusServersFromSettings, type DaeEvent, type DaeHandler, type NasIdentity } from "@lnsd/radius";
import type { UdpEndpointFactory } from "@lnsd/io";
import type { ListenerSpec } from "./component.js";
import type { Logger } from "./log.js";
import type { LoopWatch } from "./loop-watch.js";
import { serveMetrics, type LnsdMetrics, type MetricsHttpServer } from "./metrics.js";
import { lnsdControlBackend, type PluginHostControl } from "./control-backend.js";
import type { Subscriber } from "./sessions.js";

/** The control port's events as rate-limited log lines (one reason per kind of drop). */
function logControlEvent(logger: Logger, e: ControlServerEvent): void {
  switch (e.kind) {
    case "drop":
      logger.log("warn", `nsctl-drop-${e.reason}`, `nsctl: dropped a datagram from ${e.from.address}:${e.from.port}: ${e.reason} (${e.detail})${e.answered ? ", answered with an error" : ""}`);
      return;
    case "request": {
      const { type, args } = e.request;
      const command = type === NSCTL_REQ_CONTROL ? args.join(" ") : [nsctlTypeName(type), ...args].join(" ");
      const outcome = e.response.code === NSCTL_RES_OK ? "ok" : `error: ${e.response.lines.join("; ")}`;
      logger.log(type === NSCTL_REQ_HELP ? "debug" : "info", "nsctl-request", `nsctl from ${e.from.address}: ${command}: ${outcome}`);
      return;
    }
    case "backend-error":
      logger.log("error", "nsctl-backend", `nsctl: request from ${e.from.address} failed: ${e.detail}`);
      return;
    case "socket-error":
      logger.log("error", "nsctl-socket", `nsctl socket: ${e.detail}`);
      return;
    default: {
      const never: never = e;
      return never;
    }
  }
}

/** nsctl on nsctl_address:nsctl_port (l2tpns: every address, 1702); nsctl_port 0 turns it off. */
export function controlListener(logger: Logger, watch: LoopWatch, plugins?: PluginHostControl): ListenerSpec<ControlServer> {
  return {
    name: "nsctl",
    where: (s) => `${s.nsctl_address}:${s.nsctl_port}`,
    port: (s) => s.nsctl_port,
    open: async (s) =>
      s.nsctl_port === 0
        ? undefined
        : await ControlServer.create({ bindAddress: s.nsctl_address, port: s.nsctl_port, backend: lnsdControlBackend(plugins), onEvent: (e) => { logControlEvent(logger, e); }, run: (f) => { watch.call("nsctl", f); } }),
    close: (c) => { c.close(); },
    opened: (c) => `nsctl control port on ${c.local.address}:${c.local.port}`,
  };
}

/** Prometheus metrics on metrics_address:metrics_port (lnsd extension); 0 turns the listener off. */
export function metricsListener(metrics: LnsdMetrics): ListenerSpec<MetricsHttpServer> {
  return {
    name: "metrics",
    where: (s) => `${s.metrics_address}:${s.metrics_port}`,
    port: (s) => s.metrics_port,
    open: async (s) => (s.metrics_port === 0 ? undefined : await serveMetrics(metrics, s.metrics_address, s.metrics_port)),
    close: (h) => { void h.close(); },
    opened: (h) => `Prometheus metrics on http://${h.address}:${h.port}/metrics`,
  };
}

/** The operator's telnet CLI, port 23 on cli_bind_address. */
export function cliListener(backend: CliBackend, logger: Logger, watch: LoopWatch): ListenerSpec<CliServer> {
  return {
    name: "cli",
    where: (s) => `${s.cli_bind_address}:23`,
    port: () => 23,
    open: (s) => CliServer.listen({ backend, address: s.cli_bind_address, run: (f) => { watch.call("cli", f); }, log: (level, message) => { logger.log(level, "cli", message); } }),
    close: (c) => { void c.close(); },
    opened: (c) => `CLI on telnet ${c.local.address}:${c.local.port}`,
  };
}

function logDaeEvent(logger: Logger, e: DaeEvent): void {
  switch (e.kind) {
    case "drop":
      logger.log("warn", `dae-drop-${e.reason}`, `DAE: dropped a request from ${e.from.address}:${e.from.port}: ${e.reason} (${e.detail})`);
      return;
    case "ack":
      logger.log("info", `dae-${e.request}`, `DAE: ${e.request} from ${e.from.address} done on ${e.sessions} session(s)`);
      return;
    case "nak":
      logger.log("info", `dae-${e.request}-nak`, `DAE: ${e.request} from ${e.from.address} refused, Error-Cause ${e.errorCause}: ${e.detail}`);
      return;
    case "handler-error":
      logger.log("error", "dae-error", `DAE: ${e.detail}`);
      return;
    default: {
      const never: never = e;
      return never;
    }
  }
}

/** The RADIUS servers' addresses: the only clients the DAE server answers. */
function radiusAddresses(s: StartupSettings): string[] {
  return radiusServersFromSettings({ primary: s.primary_radius, secondary: s.secondary_radius, primaryPort: s.primary_radius_port, secondaryPort: s.secondary_radius_port }).map((x) => x.address);
}

/**
 * RFC 5176 on bind_address:radius_dae_port; a reload applies radius_secret and the servers in
 * place, and a new port with a new socket (bind_address, like the NAS identity, stays as at start).
 */
/**
 * The DAE server (RFC 5176). `udp`: its sockets (through the output gate, so that an answer leaves
 * once the change it reports is kept; in a cluster, through the switch that passes a slave's
 * requests to the master); RADIUS's own by default.
 */
export function daeListener(bindAddress: string, nas: NasIdentity, handler: DaeHandler<Subscriber>, logger: Logger, watch: LoopWatch, udp: UdpEndpointFactory = radiusUdp): ListenerSpec<DaeServer<Subscriber>> {
  return {
    name: "dae",
    where: (s) => `${bindAddress}:${s.radius_dae_port}`,
    port: (s) => s.radius_dae_port,
    open: (s) =>
      DaeServer.create<Subscriber>({
        bindAddress,
        port: s.radius_dae_port,
        secret: s.radius_secret,
        allowedClients: radiusAddresses(s),
        udp: watch.udp(udp, "dae"),
        nas,
        handler,
        onEvent: (e) => { logDaeEvent(logger, e); },
      }),
    close: (d) => { d.close(); },
    opened: (d) => `DAE (Disconnect, CoA) on ${d.local.address}:${d.local.port}`,
    adopt: (d, next) => {
      d.setSecret(next.radius_secret);
      d.setAllowedClients(radiusAddresses(next));
    },
  };
}
