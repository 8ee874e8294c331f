// The telnet side: a TCP listener (port 23 by default, on cli_bind_address), the option
// negotiation libcli does to put the client in character mode (WILL ECHO, WILL SUPPRESS-GO-AHEAD)
// plus DO NAWS for the window size, and one CliSession per connection. Control thread.
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

export const CLI_PORT = 23;

export interface CliServerOptions {
  readonly backend: CliBackend;
  /** cli_bind_address; 0.0.0.0 listens on every address. */
  readonly address: string;
  readonly port?: number;
  readonly commands?: readonly CommandSpec[];
  /** As l2tpns: a client from 127.0.0.1 gets in without a login. Default true. */
  readonly trustLocalhost?: boolean;
  /** Connections at once; more are told so and closed. Default 32. */
  readonly maxClients?: number;
  readonly chunkBytes?: number;
  readonly log?: (level: "info" | "warn" | "error", message: string) => void;
}

function isLocalhost(address: string | undefined): boolean {
  return address === "127.0.0.1" || address === "::ffff:127.0.0.1" || address === "::1";
}

export class CliServer {
  private readonly clients = new Set<{ socket: Socket; session: CliSession }>();

  private constructor(
    private readonly server: Server,
    private readonly o: CliServerOptions,
    private readonly commands: readonly CommandSpec[],
  ) {
    server.on("connection", (socket) => { this.accept(socket); });
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

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    socket.on("error", (e) => { this.o.log?.("warn", `CLI connection from ${socket.remoteAddress ?? "?"}: ${e.message}`); });
    if (this.clients.size >= (this.o.maxClients ?? 32)) {
      socket.end("Too many CLI users connected\r\n");
      return;
    }
    const who = socket.remoteAddress ?? "?";
    const local = (this.o.trustLocalhost ?? true) && isLocalhost(socket.remoteAddress);
    const users = this.o.backend.users();
    if (!local && users === undefined) {
      // l2tpns: without a users file, no one logs in from elsewhere.
      this.o.log?.("warn", `CLI connection from ${who} refused: no users file`);
      socket.end("\r\nNo users are configured for remote logins\r\n");
      return;
    }
    const input = new TelnetInput();
    const output = new TelnetOutput();
    socket.pipe(input);
    output.pipe(socket);
    const terminal: Terminal = {
      write: (text) => (socket.destroyed ? true : output.write(Buffer.from(text, "utf8"))),
      drained: () =>
        new Promise<void>((resolve) => {
          if (socket.destroyed || !output.writableNeedDrain) {
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
      close: () => {
        output.end();
      },
    };
    const session = new CliSession({
      backend: this.o.backend,
      commands: this.commands,
      terminal,
      login: !local,
      users,
      ...(this.o.chunkBytes === undefined ? {} : { chunkBytes: this.o.chunkBytes }),
      log: (level, message) => this.o.log?.(level, `${message} (from ${who})`),
    });
    const client = { socket, session };
    this.clients.add(client);
    socket.on("close", () => {
      session.hangUp();
      this.clients.delete(client);
    });

    // Options we offered: the client's DO/WILL for them is the answer, not a request to answer.
    const weWill = new Set([OPT_ECHO, OPT_SGA]);
    const weDo = new Set([OPT_NAWS]);
    input.on("do", (option: number) => { if (!weWill.has(option)) output.writeWont(option); });
    input.on("dont", (option: number) => { if (weWill.delete(option)) output.writeWont(option); });
    input.on("will", (option: number) => { if (!weDo.has(option) && option !== OPT_SGA) output.writeDont(option); });
    input.on("wont", () => undefined);
    input.on("sub", (option: number, buffer: Buffer) => {
      if (option === OPT_NAWS && buffer.length >= 4) {
        session.width = buffer.readUInt16BE(0);
        session.height = buffer.readUInt16BE(2);
      }
    });
    input.on("command", (command: number) => { if (command === CMD_IP) session.interrupt(); });
    input.on("error", () => undefined);
    const decoder = new StringDecoder("utf8");
    input.on("data", (data: Buffer) => { session.receive(decoder.write(data)); });
    output.writeWill(OPT_ECHO);
    output.writeWill(OPT_SGA);
    output.writeDo(OPT_NAWS);
    session.start();
  }
}
