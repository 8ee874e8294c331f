// A FreeRADIUS (Debian's freeradius 3.x) for the daemon's RADIUS tests: a throwaway raddb with one
// client (127.0.0.0/8), a users file, accounting written to a detail file; listening on 127.0.0.1
// on free ports; run in the foreground as the current user and stopped by its PID.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SERVER_BINARY = ["/usr/sbin/freeradius", "/usr/sbin/radiusd"].find((p) => existsSync(p));
const RADCLIENT_BINARY = ["/usr/bin/radclient"].find((p) => existsSync(p));
const DICTIONARIES = "/usr/share/freeradius";

/** Why these tests cannot run here, or undefined when they can. */
export function whyNoFreeRadius(): string | undefined {
  if (SERVER_BINARY === undefined) return "freeradius not installed";
  if (RADCLIENT_BINARY === undefined) return "radclient (freeradius-utils) not installed";
  return undefined;
}

/** True when UDP `port` can be bound on `address` right now. */
export function udpPortFree(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket("udp4");
    s.once("error", () => { resolve(false); });
    s.bind(port, address, () => { s.close(() => { resolve(true); }); });
  });
}

/** A random free port on `address` whose next port is free too. */
export async function freeUdpPorts(address: string): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const port = 21000 + Math.floor(Math.random() * 30000);
    if ((await udpPortFree(address, port)) && (await udpPortFree(address, port + 1))) return port;
  }
  throw new Error(`no free UDP port pair on ${address}`);
}

/** One record of the detail file: attribute name to its values. */
export type AcctRecord = ReadonlyMap<string, readonly string[]>;

function raddb(dir: string, port: number, secret: string): string {
  // Message-Authenticator in every Access-Accept and -Reject: 3.2.1 does not add it by itself, and
  // lnsd believes no reply without it (BlastRADIUS).
  const sign = "update reply {\n      Message-Authenticator := 0x00\n    }";
  return `prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = ${dir}
sbindir = /usr/sbin
logdir = ${dir}
raddbdir = ${dir}
radacctdir = ${dir}
confdir = ${dir}
run_dir = ${dir}
db_dir = ${dir}
libdir = /usr/lib/freeradius
pidfile = ${dir}/radiusd.pid
name = freeradius
max_request_time = 30
cleanup_delay = 2
max_requests = 65536
hostname_lookups = no
log {
  destination = stdout
}
security {
  allow_core_dumps = no
  max_attributes = 200
  reject_delay = 0
  status_server = no
}
thread pool {
  start_servers = 4
  max_servers = 8
  min_spare_servers = 2
  max_spare_servers = 8
  max_requests_per_server = 0
}
client loopback {
  ipaddr = 127.0.0.0/8
  secret = "${secret}"
  require_message_authenticator = yes
}
modules {
  pap {
  }
  chap {
  }
  files {
    filename = ${dir}/users
    acctusersfile = ${dir}/acct_users
  }
  detail {
    filename = ${dir}/detail
    permissions = 0600
    header = "%t"
  }
}
server default {
  listen {
    type = auth
    ipaddr = 127.0.0.1
    port = ${port}
  }
  listen {
    type = acct
    ipaddr = 127.0.0.1
    port = ${port + 1}
  }
  authorize {
    files
    chap
    pap
  }
  authenticate {
    Auth-Type PAP {
      pap
    }
    Auth-Type CHAP {
      chap
    }
  }
  preacct {
  }
  accounting {
    detail
  }
  post-auth {
    ${sign}
    Post-Auth-Type REJECT {
      ${sign}
    }
  }
}
`;
}

export class TestRadiusServer {
  private output = "";

  private constructor(
    readonly dir: string,
    readonly authPort: number,
    private readonly proc: ChildProcess,
    private readonly exited: Promise<void>,
  ) {}

  /** Writes the raddb, checks it (-C) and starts the server; resolves once it is ready. */
  static async start(secret: string, users: string): Promise<TestRadiusServer> {
    const dir = mkdtempSync(join(tmpdir(), "lnsd-radius-"));
    mkdirSync(dir, { recursive: true });
    const port = await freeUdpPorts("127.0.0.1");
    writeFileSync(join(dir, "radiusd.conf"), raddb(dir, port, secret));
    writeFileSync(join(dir, "dictionary"), `$INCLUDE ${DICTIONARIES}/dictionary\n`);
    writeFileSync(join(dir, "users"), users);
    writeFileSync(join(dir, "acct_users"), "");
    const bin = SERVER_BINARY ?? "freeradius";
    const check = spawnSync(bin, ["-C", "-d", dir, "-n", "radiusd"], { encoding: "utf8" });
    if (check.status !== 0) throw new Error(`freeradius -C: ${check.stdout.slice(-3000)}${check.stderr}`);
    const proc = spawn(bin, ["-f", "-l", "stdout", "-d", dir, "-n", "radiusd"], { stdio: ["ignore", "pipe", "pipe"] });
    const reap = (): void => { proc.kill("SIGKILL"); };
    process.once("exit", reap);
    const exited = new Promise<void>((r) => proc.once("exit", () => { process.off("exit", reap); r(); }));
    const server = new TestRadiusServer(dir, port, proc, exited);
    const collect = (b: Buffer): void => { server.output = (server.output + b.toString()).slice(-50_000); };
    proc.stdout.on("data", collect);
    proc.stderr.on("data", collect);
    for (let waited = 0; !server.output.includes("Ready to process requests"); waited += 25) {
      if (proc.exitCode !== null || waited > 15_000) {
        proc.kill("SIGKILL");
        throw new Error(`freeradius did not start:\n${server.output}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    return server;
  }

  get log(): string {
    return this.output;
  }

  /** The accounting records so far, oldest first. */
  records(): AcctRecord[] {
    const file = join(this.dir, "detail");
    if (!existsSync(file)) return [];
    const out: AcctRecord[] = [];
    for (const block of readFileSync(file, "utf8").split(/\n\s*\n/)) {
      const rec = new Map<string, string[]>();
      for (const line of block.split("\n")) {
        const m = /^\s+([A-Za-z0-9-]+) = (.*)$/.exec(line);
        if (m?.[1] === undefined || m[2] === undefined) continue;
        const v = m[2].replace(/^"(.*)"$/, "$1");
        rec.set(m[1], [...(rec.get(m[1]) ?? []), v]);
      }
      if (rec.size > 0) out.push(rec);
    }
    return out;
  }

  /** The first record from the `from`-th on that satisfies `pred`, waiting for it up to timeoutMs. */
  async waitForRecord(pred: (r: AcctRecord) => boolean, timeoutMs = 5000, from = 0): Promise<AcctRecord | undefined> {
    for (let waited = 0; waited <= timeoutMs; waited += 50) {
      const r = this.records().slice(from).find(pred);
      if (r !== undefined) return r;
      await new Promise((res) => setTimeout(res, 50));
    }
    return undefined;
  }

  /** SIGTERM by PID (SIGKILL after 5 s), then the directory goes. */
  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill("SIGTERM");
      const t = setTimeout(() => this.proc.kill("SIGKILL"), 5000);
      await this.exited;
      clearTimeout(t);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** First value of an attribute in a record. */
export function attr(r: AcctRecord | undefined, name: string): string | undefined {
  return r?.get(name)?.[0];
}

/** radclient with FreeRADIUS's dictionaries; resolves with its exit code and output. */
export function radclient(args: readonly string[], input: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(RADCLIENT_BINARY ?? "radclient", ["-D", DICTIONARIES, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (b: Buffer) => (out += b.toString()));
    p.stderr.on("data", (b: Buffer) => (out += b.toString()));
    p.once("exit", (code) => { resolve({ code, out }); });
    p.stdin.end(input);
  });
}
