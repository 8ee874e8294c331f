// The "l2tpns operator" rig (issue 12): what an operator moving from l2tpns has, in network
// namespaces of a test's own. Debian's FreeRADIUS runs from Debian's own /etc/freeradius/3.0,
// changed only the way l2tpns's documentation has an operator change it (a client in clients.conf
// naming the LNS's interface address, entries in the users file); lnsd reads a startup-config in
// l2tpns's words. Nothing here tunes FreeRADIUS for lnsd (compare lib/freeradius.ts, which does).
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { appendFileSync, existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { env, sleep, until } from "./netns.js";

export const FREERADIUS_ETC = "/etc/freeradius/3.0";
const FREERADIUS = "/usr/sbin/freeradius";

/** Why the rig cannot run here, or undefined. */
export function whyNoOperatorRig(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (CI runs as root): namespaces, TUN and mounts";
  if (!existsSync(FREERADIUS)) return "needs Debian's freeradius (scripts/deps.sh installs it)";
  let conffiles: string;
  try {
    conffiles = execFileSync("dpkg-query", ["-W", "-f=${Conffiles}\n", "freeradius-config"], { encoding: "utf8", env });
  } catch {
    return "needs Debian's freeradius-config package";
  }
  // The rig starts from the files as Debian ships them: dpkg knows their checksums.
  const changed: string[] = [];
  for (const line of conffiles.split("\n")) {
    const [path, md5, flag] = line.trim().split(/\s+/);
    if (path === undefined || md5 === undefined || flag === "obsolete" || !path.startsWith(`${FREERADIUS_ETC}/`)) continue;
    if (!existsSync(path)) changed.push(`${path} (removed)`);
    else if (createHash("md5").update(readFileSync(path)).digest("hex") !== md5) changed.push(path);
  }
  if (changed.length > 0) return `this host's ${FREERADIUS_ETC} is not as Debian ships it (${changed.slice(0, 3).join(", ")}); the rig starts from Debian's files`;
  return undefined;
}

export interface RadiusClient {
  /** The name in `client NAME { }`. */
  readonly name: string;
  /** The LNS's address as the RADIUS server sees it: the address of its interface towards the server. */
  readonly ipaddr: string;
  readonly secret: string;
}

export interface StockFreeRadius {
  log(): string;
  /** SIGTERM (then SIGKILL) to the server's PID; removes the copied configuration. */
  stop(): Promise<void>;
}

/**
 * A copy of Debian's /etc/freeradius/3.0 with the links its postinst makes on a first install
 * (sites default and inner-tunnel, the default modules), plus `clients` in clients.conf and
 * `users` at the top of the users file (mods-config/files/authorize), as an operator edits them.
 */
export function stockFreeRadiusConfig(clients: readonly RadiusClient[], users: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), "lnsd-operator-raddb-")), "3.0");
  // cp -a: owners and modes as installed (the server reads them as user freerad).
  execFileSync("cp", ["-a", FREERADIUS_ETC, dir], { env });
  const link = (sub: string, name: string): void => {
    const path = join(dir, sub.replace("available", "enabled"), name);
    try {
      lstatSync(path);
    } catch {
      symlinkSync(`../${sub}/${name}`, path);
    }
  };
  for (const site of ["default", "inner-tunnel"]) link("sites-available", site);
  for (const module of ["always", "attr_filter", "chap", "detail", "detail.log", "digest", "dynamic_clients", "eap", "echo", "exec", "expiration", "expr", "files", "linelog", "logintime", "mschap", "ntlm_auth", "pap", "passwd", "preprocess", "radutmp", "realm", "replicate", "soh", "sradutmp", "unix", "unpack", "utf8"]) {
    link("mods-available", module);
  }
  appendFileSync(join(dir, "clients.conf"), clients.map((c) => `\nclient ${c.name} {\n\tipaddr = ${c.ipaddr}\n\tsecret = ${c.secret}\n}\n`).join(""));
  // writeFileSync on the existing file keeps its owner and mode.
  const authorize = join(dir, "mods-config", "files", "authorize");
  writeFileSync(authorize, `${users}\n${readFileSync(authorize, "utf8")}`);
  return dir;
}

/**
 * Debian's freeradius in `ns`, from `confDir` mounted over /etc/freeradius/3.0 (so every path in
 * the stock files means what it says) with a tmpfs over /var/log/freeradius (its accounting detail
 * files), both only in the mount namespace `ip netns exec` gives it. Resolves once it is ready.
 */
export async function startStockFreeRadius(ns: string, confDir: string): Promise<StockFreeRadius> {
  const script = `mount --bind "$1" ${FREERADIUS_ETC} && mount -t tmpfs -o mode=0755 tmpfs /var/log/freeradius && chown freerad:adm /var/log/freeradius && exec ${FREERADIUS} -f -l stdout`;
  // Its own process group: signals meant for the test's group never reach it, and it is stopped by its PID.
  const proc = spawn("ip", ["netns", "exec", ns, "sh", "-c", script, "sh", confDir], { detached: true, stdio: ["ignore", "pipe", "pipe"], env });
  let out = "";
  const keep = (d: Buffer): void => { out = (out + d.toString()).slice(-200_000); };
  proc.stdout.on("data", keep);
  proc.stderr.on("data", keep);
  const reap = (): void => { proc.kill("SIGKILL"); };
  process.once("exit", reap);
  const exited = new Promise<void>((r) => proc.once("exit", () => { process.off("exit", reap); r(); }));
  const running = (): boolean => proc.exitCode === null && proc.signalCode === null;
  const stop = async (): Promise<void> => {
    if (running()) {
      proc.kill("SIGTERM");
      await Promise.race([exited, sleep(5000)]);
    }
    if (running()) proc.kill("SIGKILL");
    await exited;
    rmSync(join(confDir, ".."), { recursive: true, force: true });
  };
  await until(() => out.includes("Ready to process requests") || !running(), 15_000);
  if (!out.includes("Ready to process requests")) {
    await stop();
    throw new Error(`Debian's FreeRADIUS did not start:\n${out.slice(-4000)}`);
  }
  return { log: () => out, stop };
}

/**
 * A startup-config as an l2tpns operator writes it: Debian's /etc/l2tpns/startup-config with
 * their addresses filled in (comments dropped), plus `extra` lines.
 */
export function l2tpnsStartupConfig(o: { bindAddress: string; radiusServer: string; radiusSecret: string; l2tpSecret?: string | undefined; authtypes: string; pidFile: string; extra?: readonly string[] }): string {
  return [
    "set debug 3",
    `set pid_file "${o.pidFile}"`,
    ...(o.l2tpSecret === undefined ? [] : [`set l2tp_secret "${o.l2tpSecret}"`]),
    "set primary_dns 10.0.0.1",
    "set secondary_dns 10.0.0.2",
    `set primary_radius ${o.radiusServer}`,
    `set radius_secret "${o.radiusSecret}"`,
    `set radius_authtypes "${o.authtypes}"`,
    "set radius_accounting yes",
    `set bind_address ${o.bindAddress}`,
    "set cli_bind_address 127.0.0.1",
    "set ppp_keepalive yes",
    ...(o.extra ?? []),
    "",
  ].join("\n");
}

/** Lines of lnsd's log saying a session came up: user, address and PPP authentication. */
export function onlineLines(log: string): { user: string; address: string; auth: string }[] {
  return [...log.matchAll(/(\S+) online, address (\d+\.\d+\.\d+\.\d+) \((\w+)\)/g)].map((m) => ({ user: m[1] ?? "", address: m[2] ?? "", auth: m[3] ?? "" }));
}
