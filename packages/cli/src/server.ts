// The telnet side: a TCP listener (port 23 by default, on cli_bind_address), the option
// negotiation libcli does to put the client in character mode (WILL ECHO, WILL SUPPRESS-GO-AHEAD)
// plus DO NAWS for the window size, and one CliSession per connection. Everything a client
// controls is bounded: connections per source and in all (with slots kept for loopback, so an
// operator on the box is never locked out), subnegotiation length, the time to log in and to sit
// idle, and what it may make us buffer. An error in one connection ends that connection only.
// Control thread.
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { StringDecoder } from "node:string_decoder";
import { TelnetInput, TelnetOutput } from "telnet-stream";
import type { CliBackend } from "./backend.js";
import { l2tpnsCommands } from "./commands.js";
import { CliSession, type Terminal } from "./session.js";
import type { CommandSpec } from "./tree.js";

/** RFC 857, 858, 1073; RFC 854 Interrupt Process. */
const OPT_ECHO = 1;
const OPT_SGA = 3;
const OPT_NAWS = 31;
const CMD_IP = 244;
/** RFC 1073: NAWS carries 4 octets; nothing we accept needs more than this. */
const MAX_SUBNEGOTIATION = 64;
/** Bytes read from one client in one turn of the event loop. */
const READ_BUDGET = 16 * 1024;

export const CLI_PORT = 23;

export interface CliServerOptions {
  readonly backend: CliBackend;
  /** cli_bind_address; 0.0.0.0 listens on every address. */
  readonly address: string;
  readonly port?: number;
  readonly commands?: readonly CommandSpec[];
  /** As l2tpns: a client from 127.0.0.1 gets in without a login. Default true. */
  readonly trustLocalhost?: boolean;
  /** Connections at once from addresses other than loopback; more are told so and closed. Default 32. */
  readonly maxClients?: number;
  /** Connections at once from one address other than loopback. Default 4. */
  readonly maxClientsPerSource?: number;
  /** Connections at once from loopback; a new one past this closes the longest idle. Default 32. */
  readonly loopbackSlots?: number;
  /** Time to log in before the connection is closed. Default 60 s. */
  readonly loginTimeoutMs?: number;
  /** A connection with nothing typed for this long is closed (libcli's idle timeout). Default 600 s. */
  readonly idleTimeoutMs?: number;
  /** Output bytes waiting for a client before we stop reading what it sends. Default 256 KiB. */
  readonly maxPendingOutput?: number;
  readonly chunkBytes?: number;
  /** Runs each handler of a connection (the daemon's loop watch times them); default: directly. */
  readonly run?: (handler: () => void) => void;
  readonly log?: (level: "info" | "warn" | "error", message: string) => void;
}

/** What happened to connections, for `show counters` and metrics. */
export interface CliServerCounters {
  accepted: number;
  refused: number;
  evicted: number;
  loginTimeouts: number;
  idleTimeouts: number;
  /** Telnet protocol errors (overlong or broken subnegotiations). */
  telnetErrors: number;
  /** Connections ended by an error in handling them. */
  errors: number;
}

function isLocalhost(address: string | undefined): boolean {
  return address === "127.0.0.1" || address === "::ffff:127.0.0.1" || address === "::1";
}

interface Client {
  readonly socket: Socket;
  readonly session: CliSession;
  readonly source: string;
  readonly loopback: boolean;
  readonly since: number;
  lastInput: number;
  /** Whether the client has sent anything yet. */
  spoke: boolean;
  /** Being closed: it no longer holds a slot. */
  closing: boolean;
  /** Ends the connection (at most once). */
  readonly end: (message?: string) => void;
}

export class CliServer {
  private readonly clients = new Set<Client>();
  readonly counters: CliServerCounters = { accepted: 0, refused: 0, evicted: 0, loginTimeouts: 0, idleTimeouts: 0, telnetErrors: 0, errors: 0 };

  private constructor(
    private readonly server: Server,
    private readonly o: CliServerOptions,
    private readonly commands: readonly CommandSpec[],
  ) {
    server.on("connection", (socket) => {
      try {
        this.accept(socket);
      } catch (e) {
        this.counters.errors++;
        this.o.log?.("error", `CLI connection from ${socket.remoteAddress ?? "?"} closed: ${e instanceof Error ? e.message : String(e)}`);
        socket.destroy();
      }
    });
    server.on("error", (e) => { o.log?.("error", `CLI listener: ${e.message}`); });
  }

  static async listen(o: CliServerOptions): Promise<CliServer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: o.address, port: o.port ?? CLI_PORT }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    return new CliServer(server, o, o.commands ?? l2tpnsCommands());
  }

  get local(): AddressInfo {
    const a = this.server.address();
    if (a === null || typeof a === "string") throw new Error("CLI server is not listening");
    return a;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    for (const c of this.clients) {
      c.session.hangUp();
      c.socket.destroy();
    }
    this.clients.clear();
    await new Promise<void>((resolve) => this.server.close(() => { resolve(); }));
  }

  /** Room for one more connection from `source`: true, or what to tell the client. */
  private admit(source: string, loopback: boolean): true | string {
    const same = [...this.clients].filter((c) => c.loopback === loopback && !c.closing);
    if (loopback) {
      // Loopback is the operator on the box: never locked out. The longest idle one makes room:
      // one that never sent a byte first, then one not logged in, so that a flood of new
      // connections does not end an operator's session that is in use.
      if (same.length >= (this.o.loopbackSlots ?? 32)) {
        const silent = same.filter((c) => !c.spoke);
        const waiting = same.filter((c) => !c.session.loggedIn);
        const pool = silent.length > 0 ? silent : waiting.length > 0 ? waiting : same;
        const idlest = pool.reduce((a, b) => (b.lastInput < a.lastInput ? b : a));
        this.counters.evicted++;
        idlest.end("\r\nClosed to make room for a new connection from this host\r\n");
      }
      return true;
    }
    if (same.filter((c) => c.source === source).length >= (this.o.maxClientsPerSource ?? 4)) return "Too many CLI connections from your address\r\n";
    if (same.length >= (this.o.maxClients ?? 32)) {
      // A connection that has not logged in yet gives way to a new one; logged-in users keep theirs.
      const waiting = same.filter((c) => !c.session.loggedIn);
      if (waiting.length === 0) return "Too many CLI users connected\r\n";
      const oldest = waiting.reduce((a, b) => (b.since < a.since ? b : a));
      this.counters.evicted++;
      oldest.end("\r\nClosed to make room for a new connection\r\n");
    }
    return true;
  }

  private accept(socket: Socket): void {
    const who = socket.remoteAddress ?? "?";
    socket.on("error", (e) => { this.o.log?.("warn", `CLI connection from ${who}: ${e.message}`); });
    socket.setNoDelay(true);
    const loopback = isLocalhost(socket.remoteAddress);
    const room = this.admit(who, loopback);
    if (room !== true) {
      this.counters.refused++;
      this.o.log?.("warn", `CLI connection from ${who} refused: ${room.trim()}`);
      socket.end(room);
      return;
    }
    const local = (this.o.trustLocalhost ?? true) && loopback;
    const users = this.o.backend.users();
    if (!local && users === undefined) {
      // l2tpns: without a users file, no one logs in from elsewhere.
      this.counters.refused++;
      this.o.log?.("warn", `CLI connection from ${who} refused: no users file`);
      socket.end("\r\nNo users are configured for remote logins\r\n");
      return;
    }
    this.counters.accepted++;
    const input = new TelnetInput({ bufferSize: MAX_SUBNEGOTIATION });
    const output = new TelnetOutput();
    output.pipe(socket);
    // Once the output has been ended (quit, IAC IP at a prompt, a timeout) nothing more may be
    // written to it, an option reply included: a push after EOF is an error on the stream.
    const open = (): boolean => !socket.destroyed && !output.writableEnded;
    output.on("error", (e) => { this.o.log?.("warn", `CLI connection from ${who}: output: ${e.message}`); socket.destroy(); });
    // The end of a connection, however it comes: no more input is read, the output is flushed and
    // ended, and a client that does not close its side within 2 s is cut off.
    let ended = false;
    const finish = (): void => {
      if (ended) return;
      ended = true;
      client.closing = true;
      if (open()) output.end();
      setTimeout(() => { socket.destroy(); }, 2_000).unref();
    };
    const maxPending = this.o.maxPendingOutput ?? 256 * 1024;
    // Reading stops while the client's output backs up, and after READ_BUDGET bytes in one turn of
    // the event loop (the kernel hands a fast sender megabytes per turn): the rest waits a turn.
    let waitingForDrain = false;
    let yielding = false;
    let readThisTurn = 0;
    const terminal: Terminal = {
      write: (text) => {
        if (!open()) return true;
        const ok = output.write(Buffer.from(text, "utf8"));
        // A client that sends but does not read: stop reading it until it has read what it was sent.
        if (socket.writableLength > maxPending && !waitingForDrain) {
          waitingForDrain = true;
          socket.pause();
          socket.once("drain", () => {
            waitingForDrain = false;
            if (!yielding) socket.resume();
          });
        }
        return ok;
      },
      drained: () =>
        new Promise<void>((resolve) => {
          if (!open() || !output.writableNeedDrain) {
            resolve();
            return;
          }
          const done = (): void => {
            output.off("drain", done);
            socket.off("close", done);
            resolve();
          };
          output.on("drain", done);
          socket.on("close", done);
        }),
      close: () => { finish(); },
    };
    const session = new CliSession({
      backend: this.o.backend,
      commands: this.commands,
      terminal,
      login: !local,
      users,
      ...(this.o.chunkBytes === undefined ? {} : { chunkBytes: this.o.chunkBytes }),
      log: (level, message) => this.o.log?.(level, `${message} (from ${who})`),
      onError: (e) => { fault("command", e); },
    });
    // One connection's fault ends that connection, never the daemon.
    const fault = (what: string, e: unknown): void => {
      this.counters.errors++;
      this.o.log?.("error", `CLI connection from ${who} closed: ${what}: ${e instanceof Error ? e.message : String(e)}`);
      ended = true;
      client.closing = true;
      session.hangUp();
      socket.destroy();
    };
    const now = Date.now();
    const client: Client = {
      socket, session, source: who, loopback, since: now, lastInput: now, spoke: false, closing: false,
      end: (message) => {
        if (ended) return;
        if (message !== undefined && open()) output.write(Buffer.from(message, "utf8"));
        session.hangUp();
        finish();
      },
    };
    this.clients.add(client);
    const loginTimer = session.loggedIn
      ? undefined
      : setTimeout(() => {
          if (session.loggedIn) return;
          this.counters.loginTimeouts++;
          this.o.log?.("warn", `CLI login from ${who} timed out`);
          client.end("\r\nLogin timed out\r\n");
        }, this.o.loginTimeoutMs ?? 60_000);
    socket.setTimeout(this.o.idleTimeoutMs ?? 600_000, () => {
      this.counters.idleTimeouts++;
      client.end("\r\nIdle timeout\r\n");
    });
    socket.on("close", () => {
      if (loginTimer !== undefined) clearTimeout(loginTimer);
      session.hangUp();
      this.clients.delete(client);
    });

    const run = this.o.run ?? ((handler: () => void): void => { handler(); });
    const guarded = <A extends unknown[]>(what: string, f: (...args: A) => void) => (...args: A): void => {
      if (ended) return;
      run(() => {
        try {
          f(...args);
        } catch (e) {
          fault(what, e);
        }
      });
    };
    // Options we offered: the client's DO/WILL for them is the answer, not a request to answer.
    const weWill = new Set([OPT_ECHO, OPT_SGA]);
    const weDo = new Set([OPT_NAWS]);
    input.on("do", guarded("DO", (option: number) => { if (!weWill.has(option) && open()) output.writeWont(option); }));
    input.on("dont", guarded("DONT", (option: number) => { if (weWill.delete(option) && open()) output.writeWont(option); }));
    input.on("will", guarded("WILL", (option: number) => { if (!weDo.has(option) && option !== OPT_SGA && open()) output.writeDont(option); }));
    input.on("wont", () => undefined);
    input.on("sub", guarded("subnegotiation", (option: number, buffer: Buffer) => {
      if (option === OPT_NAWS && buffer.length >= 4) {
        session.width = buffer.readUInt16BE(0);
        session.height = buffer.readUInt16BE(2);
      }
    }));
    input.on("command", guarded("command", (command: number) => { if (command === CMD_IP) session.interrupt(); }));
    input.on("error", () => { this.counters.telnetErrors++; });
    const decoder = new StringDecoder("utf8");
    input.on("data", guarded("input", (data: Buffer) => {
      client.lastInput = Date.now();
      client.spoke = true;
      session.receive(decoder.write(data));
    }));
    socket.on("data", guarded("input", (data: Buffer) => {
      input.write(data);
      readThisTurn += data.length;
      if (readThisTurn >= READ_BUDGET && !yielding) {
        yielding = true;
        socket.pause();
        setImmediate(() => {
          yielding = false;
          readThisTurn = 0;
          if (!waitingForDrain && !ended) socket.resume();
        });
      }
    }));
    output.writeWill(OPT_ECHO);
    output.writeWill(OPT_SGA);
    output.writeDo(OPT_NAWS);
    session.start();
  }
}
