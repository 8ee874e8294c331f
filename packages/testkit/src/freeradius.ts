// Runs a real FreeRADIUS (Debian's freeradius 3.x) for the RADIUS and daemon tests: a minimal raddb
// in a temporary directory (one client, 127.0.0.0/8 by default, with a secret; a users file; the detail module
// writing accounting to a file), listening on 127.0.0.1 only, on free high ports, in the
// foreground as the current user (no user/group in the security section, so it never tries to
// drop privileges), stopped by PID.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const FREERADIUS = ["/usr/sbin/freeradius", "/usr/sbin/radiusd"].find((p) => existsSync(p));
export const RADCLIENT = ["/usr/bin/radclient"].find((p) => existsSync(p));
export const RADIUS_DICTIONARY = "/usr/share/freeradius";

/** Why FreeRADIUS tests cannot run here, or undefined. */
export function freeradiusMissing(): string | undefined {
  if (FREERADIUS === undefined) return "freeradius is not installed (apt-get install freeradius; scripts/deps.sh does it)";
  if (!existsSync(join(RADIUS_DICTIONARY, "dictionary"))) return "FreeRADIUS dictionaries missing";
  return undefined;
}

/** True when UDP `port` can be bound on `address` right now. */
export async function portFree(port: number, address = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket("udp4");
    s.once("error", () => {
      resolve(false);
    });
    s.bind(port, address, () => {
      s.close(() => {
        resolve(true);
      });
    });
  });
}

/** A free UDP port on `address` whose successor is free too (authentication, accounting). */
export async function freePortPair(address = "127.0.0.1"): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const p = 20000 + Math.floor(Math.random() * 40000);
    if ((await portFree(p, address)) && (await portFree(p + 1, address))) return p;
  }
  throw new Error("no free port pair");
}

export interface FreeRadiusOptions {
  readonly secret: string;
  /** Contents of the users (authorize) file. */
  readonly users: string;
  /** Added to every reply as Reply-Message, to tell servers apart. */
  readonly name?: string;
  /** Default true: add Message-Authenticator to every reply (3.2.1 does not by itself). */
  readonly signReplies?: boolean;
  /** -X: full debug to our pipe, single-threaded. Off for load tests. */
  readonly debug?: boolean;
  readonly authPort?: number;
  /** Where requests may come from (FreeRADIUS client ipaddr); default 127.0.0.0/8. */
  readonly clients?: string;
}

export interface DetailRecord {
  readonly attrs: ReadonlyMap<string, readonly string[]>;
}

export class FreeRadius {
  private proc: ChildProcess | undefined;
  private output = "";
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    readonly dir: string,
    readonly authPort: number,
    private readonly debug: boolean,
  ) {}

  get acctPort(): number {
    return this.authPort + 1;
  }

  get detailFile(): string {
    return join(this.dir, "acct", "detail");
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** The last part of the server's output, for a failing test's diagnostics. */
  get log(): string {
    return this.output.slice(-20_000);
  }

  static async start(o: FreeRadiusOptions): Promise<FreeRadius> {
    const dir = mkdtempSync(join(tmpdir(), "lnsd-freeradius-"));
    const port = o.authPort ?? (await freePortPair());
    writeRaddb(dir, port, o);
    const fr = new FreeRadius(dir, port, o.debug ?? true);
    try {
      // Check the configuration first: a mistake shows as a message, not a timeout.
      const check = spawnSync(FREERADIUS ?? "freeradius", ["-CX", "-d", dir, "-n", "radiusd"], { encoding: "utf8" });
      if (check.status !== 0) throw new Error(`freeradius -C failed:\n${check.stdout.slice(-3000)}\n${check.stderr}`);
      await fr.spawn();
    } catch (e) {
      await fr.dispose();
      throw e;
    }
    return fr;
  }

  /** Starts the server again with the same configuration and ports (after stop()). */
  async restart(): Promise<void> {
    await this.spawn();
  }

  private async spawn(): Promise<void> {
    const args = this.debug ? ["-X", "-d", this.dir, "-n", "radiusd"] : ["-f", "-l", "stdout", "-d", this.dir, "-n", "radiusd"];
    const proc = spawn(FREERADIUS ?? "freeradius", args, { stdio: ["ignore", "pipe", "pipe"] });
    this.proc = proc;
    // Should the test process die first, the server goes with it.
    const reap = (): void => {
      proc.kill("SIGKILL");
    };
    process.once("exit", reap);
    proc.once("exit", () => process.off("exit", reap));
    this.output = "";
    let ready!: () => void;
    let failed!: (e: Error) => void;
    const readyP = new Promise<void>((res, rej) => {
      ready = res;
      failed = rej;
    });
    const onData = (b: Buffer): void => {
      this.output += b.toString();
      if (this.output.length > 2_000_000) this.output = this.output.slice(-100_000);
      if (this.output.includes("Ready to process requests")) ready();
    };
    proc.stdout.on("data", onData);
    proc.stderr.on("data", onData);
    this.exited = new Promise<void>((res) => {
      proc.once("exit", (code, signal) => {
        failed(new Error(`freeradius exited (${code ?? signal ?? "?"}) before it was ready:\n${this.log}`));
        res();
      });
    });
    const timer = setTimeout(() => {
      failed(new Error(`freeradius not ready after 15 s:\n${this.log}`));
    }, 15_000);
    try {
      await readyP;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGTERM by PID, then SIGKILL if it lingers. */
  async stop(): Promise<void> {
    const p = this.proc;
    if (p === undefined || p.exitCode !== null || p.signalCode !== null) return;
    p.kill("SIGTERM");
    const killer = setTimeout(() => p.kill("SIGKILL"), 5000);
    await this.exited;
    clearTimeout(killer);
    this.proc = undefined;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The records of the detail file, in order. */
  detail(): DetailRecord[] {
    if (!existsSync(this.detailFile)) return [];
    const out: DetailRecord[] = [];
    for (const block of readFileSync(this.detailFile, "utf8").split(/\n\s*\n/)) {
      const attrs = new Map<string, string[]>();
      for (const line of block.split("\n").slice(1)) {
        const m = /^\s+([\w-]+) = (.*)$/.exec(line);
        if (m === null) continue;
        const [, name = "", raw = ""] = m;
        const value = raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
        attrs.set(name, [...(attrs.get(name) ?? []), value]);
      }
      if (attrs.size > 0) out.push({ attrs });
    }
    return out;
  }

  /** Waits until the detail file holds a record that satisfies `pred`. */
  async waitForDetail(pred: (r: DetailRecord) => boolean, timeoutMs = 5000): Promise<DetailRecord> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const r = this.detail().find(pred);
      if (r !== undefined) return r;
      if (Date.now() > end) throw new Error("no such detail record");
      await new Promise((res) => setTimeout(res, 25));
    }
  }
}

function writeRaddb(dir: string, port: number, o: FreeRadiusOptions): void {
  for (const d of ["log", "run", "acct"]) mkdirSync(join(dir, d), { recursive: true });
  const updates: string[] = [];
  if (o.signReplies !== false) updates.push("Message-Authenticator := 0x00");
  if (o.name !== undefined) updates.push(`Reply-Message += "${o.name}"`);
  const update = updates.length === 0 ? "" : `update reply {\n        ${updates.join("\n        ")}\n      }`;
  writeFileSync(
    join(dir, "radiusd.conf"),
    `# Generated by the lnsd tests.
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = ${dir}
sbindir = /usr/sbin
logdir = ${dir}/log
raddbdir = ${dir}
radacctdir = ${dir}/acct
name = freeradius
confdir = ${dir}
run_dir = ${dir}/run
db_dir = ${dir}
libdir = /usr/lib/freeradius
pidfile = ${dir}/run/radiusd.pid
max_request_time = 30
cleanup_delay = 2
max_requests = 65536
hostname_lookups = no
log {
  destination = stdout
  auth = no
}
# No user or group: it runs as whoever starts it, root or not.
security {
  allow_core_dumps = no
  max_attributes = 200
  reject_delay = 0
  status_server = yes
}
thread pool {
  start_servers = 4
  max_servers = 8
  min_spare_servers = 2
  max_spare_servers = 8
  max_requests_per_server = 0
}
client lnsd {
  ipaddr = ${o.clients ?? "127.0.0.0/8"}
  secret = "${o.secret}"
  # BlastRADIUS: refuse Access-Requests without Message-Authenticator (lnsd always sends one).
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
    filename = ${dir}/acct/detail
    escape_filenames = no
    permissions = 0600
    header = "%t"
  }
  always ok {
    rcode = ok
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
    ok
  }
  # FreeRADIUS 3.2.1 (Debian 12) predates the BlastRADIUS fixes and does not sign its replies
  # unless told: Message-Authenticator on every Access-Accept and Access-Reject.
  post-auth {
    ${update}
    Post-Auth-Type REJECT {
      ${update}
    }
  }
}
`,
  );
  writeFileSync(join(dir, "dictionary"), `$INCLUDE ${RADIUS_DICTIONARY}/dictionary\n`);
  writeFileSync(join(dir, "users"), o.users);
  writeFileSync(join(dir, "acct_users"), "");
}

/** Runs radclient; resolves with its exit code and output. */
export function radclient(args: readonly string[], input: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(RADCLIENT ?? "radclient", ["-D", RADIUS_DICTIONARY, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (b: Buffer) => (out += b.toString()));
    p.stderr.on("data", (b: Buffer) => (out += b.toString()));
    p.once("exit", (code) => {
      resolve({ code, out });
    });
    p.stdin.end(input);
  });
}
