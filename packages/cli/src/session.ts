// One CLI user: login, the enable password, the modes and their prompts, history, `?` and Tab,
// running a command and streaming its output through the filters in chunks that wait for the
// terminal to drain and give the event loop back between them, so that a long `show session`
// holds up neither the daemon nor the other CLI users. Transport-free: a Terminal takes the bytes.
import { setImmediate as nextTurn } from "node:timers/promises";
import { verifyCliLogin, verifyPassword, type UsersFile } from "@lnsd/config";
import type { CliBackend } from "./backend.js";
import { KeyDecoder, LineEditor, MAX_LINE, type Key } from "./editor.js";
import { asAsync, makeFilter, type LineFilter } from "./filters.js";
import { commonPrefix, helpLines, offer, parseLine, resolve, type CommandContext, type CommandMode, type CommandSpec } from "./tree.js";

/** Where a session's output goes (a telnet connection, or a test's buffer). */
export interface Terminal {
  /** False when the caller should wait for drained() before writing more. */
  write(text: string): boolean;
  /** Resolves when the output has drained, or the terminal has closed. */
  drained(): Promise<void>;
  close(): void;
}

export interface CliSessionOptions {
  readonly backend: CliBackend;
  readonly commands: readonly CommandSpec[];
  readonly terminal: Terminal;
  /** Ask for a username and password first (a client that is not 127.0.0.1). */
  readonly login: boolean;
  /** The users file as read when the client connected. */
  readonly users: UsersFile | undefined;
  /** Failed logins before the connection is closed. */
  readonly maxLoginAttempts?: number;
  /** Bytes of output written before waiting for the terminal and the event loop. */
  readonly chunkBytes?: number;
  readonly maxHistory?: number;
  /**
   * An error escaped while handling this session's input (a fault of ours or of a backend): the
   * session is over. Without it the error is rethrown to the caller of receive().
   */
  readonly onError?: (e: unknown) => void;
  /** Told of logins, failed logins and commands (for the daemon's log). */
  readonly log?: (level: "info" | "warn", message: string) => void;
}

type State = "username" | "password" | "normal" | "enable-password" | "closed";

const BELL = "\x07";
/** Keys kept while a command runs (Enter included); more are dropped. */
const MAX_TYPEAHEAD = 2 * 4096;

export class CliSession {
  private state: State;
  private mode: Exclude<CommandMode, "any"> = "exec";
  private privileged = false;
  private readonly editor = new LineEditor();
  private readonly decoder = new KeyDecoder();
  /** Keys waiting while a command runs; `queueHead` is the next one (no O(n) shift per key). */
  private queue: Key[] = [];
  private queueHead = 0;
  /** The line being typed went past MAX_LINE: what follows until Enter is discarded. */
  private overlong = false;
  private busy = false;
  private aborted = false;
  private username = "";
  private failures = 0;
  private readonly historyList: string[] = [];
  /** Where Up/Down is in the history: historyList.length is the line being typed. */
  private historyAt = 0;
  private typed = "";
  private lastKey: Key["kind"] | undefined;
  private readonly debugFlags = new Set<string>();
  /** Terminal size from NAWS (kept for commands that will page). */
  width = 80;
  height = 24;

  constructor(private readonly o: CliSessionOptions) {
    this.state = o.login ? "username" : "normal";
  }

  /** What a command sees of this session, as it is now. */
  private get context(): CommandContext {
    const privileged = this.privileged || this.mode === "config";
    return {
      backend: this.o.backend,
      mode: this.mode,
      privileged,
      setMode: (m) => { this.mode = m; },
      enable: () => { this.enable(); },
      disable: () => { this.privileged = false; this.mode = "exec"; },
      quit: () => { this.close(); },
      history: () => this.historyList,
      debug: this.debugFlags,
      helpLines: () => helpLines(this.o.commands, { mode: this.mode, privileged }),
    };
  }

  get closed(): boolean {
    return this.state === "closed";
  }

  /** Past the login (or none was asked for). */
  get loggedIn(): boolean {
    return this.state === "normal" || this.state === "enable-password";
  }

  /** Shows the first prompt. */
  start(): void {
    this.showPrompt();
  }

  /** Bytes from the client (telnet commands already removed). */
  receive(text: string): void {
    if (this.state === "closed") return;
    for (const key of this.decoder.decode(text)) {
      // Ctrl-C stops a command's output at once; other keys wait for the prompt.
      if (key.kind === "interrupt" && this.busy) this.aborted = true;
      else if (!this.busy && this.queueHead === this.queue.length) this.take(key);
      // Typed ahead while a command runs: at most a few lines' worth is kept.
      else if (this.queue.length - this.queueHead < MAX_TYPEAHEAD) this.queue.push(key);
      if (this.closed) return;
    }
    this.pump();
  }

  /** Telnet Interrupt Process (IAC IP). */
  interrupt(): void {
    if (this.busy) this.aborted = true;
    else this.receive("\x03");
  }

  /** The connection went away. */
  hangUp(): void {
    this.state = "closed";
    this.aborted = true;
    this.clearQueue();
  }

  close(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.aborted = true;
    this.clearQueue();
    this.o.terminal.close();
  }

  /** What went wrong after receive() had returned (a command's continuation): this session ends. */
  private fail(e: unknown): void {
    this.hangUp();
    if (this.o.onError === undefined) throw e;
    this.o.onError(e);
  }

  private clearQueue(): void {
    this.queue = [];
    this.queueHead = 0;
  }

  private write(text: string): void {
    if (this.state !== "closed" && text !== "") this.o.terminal.write(text);
  }

  private prompt(): string {
    const host = this.o.backend.hostname();
    if (this.mode === "config") return `${host}(config)# `;
    return `${host}${this.privileged ? "#" : ">"} `;
  }

  /** libcli starts every prompt but the password ones on a new line. */
  private showPrompt(): void {
    switch (this.state) {
      case "username":
        this.write("\r\nUsername: ");
        return;
      case "password":
      case "enable-password":
        this.write("Password: ");
        return;
      case "normal":
        this.write(`\r\n${this.prompt()}${this.editor.line}${"\b".repeat(this.editor.line.length - this.editor.cursor)}`);
        return;
      case "closed":
        return;
    }
  }

  private pump(): void {
    while (!this.busy && this.queueHead < this.queue.length && this.state !== "closed") {
      const key = this.queue[this.queueHead++];
      if (key !== undefined) this.take(key);
    }
    if (this.queueHead >= this.queue.length) this.clearQueue();
  }

  private take(key: Key): void {
    this.key(key);
    this.lastKey = key.kind;
  }

  private key(key: Key): void {
    // libcli's limit on a line: past it, the rest of the line is discarded (not kept, not echoed)
    // and Enter says so, instead of running what was cut.
    if (key.kind === "enter" && this.overlong) {
      this.overlong = false;
      this.editor.take();
      this.write(`\r\n% Line too long (over ${String(MAX_LINE)} characters): discarded\r\n`);
      if (this.state === "password" || this.state === "enable-password") this.credential("\0");
      else this.showPrompt();
      return;
    }
    if (this.overlong) return;
    if (key.kind === "char" && this.editor.line.length + key.ch.length > MAX_LINE) {
      this.overlong = true;
      this.write(BELL);
      return;
    }
    const typing = this.state === "username" || this.state === "password" || this.state === "enable-password";
    if (typing) {
      this.editor.echo = this.state === "username";
      if (key.kind === "enter") {
        // libcli echoes no line end after a password.
        if (this.state === "username") this.write("\r\n");
        this.credential(this.editor.take());
        return;
      }
      // In a username or password, ? and Tab are characters like any other.
      if (key.kind === "char") this.write(this.editor.insert(key.ch));
      else if (key.kind === "help") this.write(this.editor.insert("?"));
      else if (key.kind === "tab") this.write(this.editor.insert("\t"));
      else if (key.kind === "interrupt" || key.kind === "eof") this.close();
      else this.write(this.editor.edit(key.kind) ?? "");
      return;
    }
    this.editor.echo = true;
    switch (key.kind) {
      case "char":
        this.write(this.editor.insert(key.ch));
        return;
      case "enter": {
        this.write("\r\n");
        const line = this.editor.take();
        this.historyAt = this.historyList.length + (line.trim() === "" ? 0 : 1);
        this.typed = "";
        this.busy = true;
        this.run(line)
          .then(() => {
            this.busy = false;
            this.aborted = false;
            if (this.state !== "closed") this.showPrompt();
            this.pump();
          })
          .catch((e: unknown) => { this.fail(e); });
        return;
      }
      case "help": {
        const o = offer(this.o.commands, this.editor.line.slice(0, this.editor.cursor), this.context);
        this.write(`\r\n${o.help.map((l) => `${l}\r\n`).join("")}`);
        this.showPrompt();
        return;
      }
      case "tab":
        this.complete();
        return;
      case "up":
      case "down":
        this.recall(key.kind === "up" ? -1 : 1);
        return;
      case "interrupt":
        this.editor.take();
        this.write("^C\r\n");
        this.showPrompt();
        return;
      case "eof":
        if (this.editor.line === "") {
          this.write("quit\r\n");
          this.close();
        } else {
          this.write(this.editor.edit("delete") ?? "");
        }
        return;
      case "redraw":
        this.showPrompt();
        return;
      case "exit-mode":
        if (this.mode !== "exec") {
          this.mode = "exec";
          this.editor.take();
          this.showPrompt();
        }
        return;
      default:
        this.write(this.editor.edit(key.kind) ?? "");
    }
  }

  private recall(step: number): void {
    const n = this.historyList.length;
    if (n === 0) return;
    if (this.historyAt === n) this.typed = this.editor.line;
    const at = Math.min(n, Math.max(0, this.historyAt + step));
    if (at === this.historyAt) {
      this.write(BELL);
      return;
    }
    this.historyAt = at;
    this.write(this.editor.replace(at === n ? this.typed : (this.historyList[at] ?? "")));
  }

  private complete(): void {
    const { line, cursor } = this.editor;
    if (cursor !== line.length) {
      this.write(BELL);
      return;
    }
    const o = offer(this.o.commands, line, this.context);
    const words = [...new Set(o.completions)];
    if (words.length === 0) {
      this.write(BELL);
      return;
    }
    const base = line.slice(0, line.length - o.partial.length);
    if (words.length === 1) {
      this.write(this.editor.replace(`${base}${words[0] ?? ""} `));
      return;
    }
    const common = commonPrefix(words);
    if (common.length > o.partial.length) {
      this.write(this.editor.replace(`${base}${common}`));
      return;
    }
    if (this.lastKey !== "tab") {
      this.write(BELL);
      return;
    }
    // A second Tab lists them, four to a line.
    const rows: string[] = [];
    for (let i = 0; i < words.length; i += 4) rows.push(words.slice(i, i + 4).map((w) => w.padEnd(18)).join(" ").trimEnd());
    this.write(`\r\n${rows.join("\r\n")}\r\n`);
    this.showPrompt();
  }

  private enable(): void {
    const password = this.o.users?.enable;
    // libcli: with no enable password set, enable needs none.
    if (password === undefined) this.privileged = true;
    else this.state = "enable-password";
  }

  /** A password check (the system's crypt(3) runs in a child process): keys typed meanwhile wait. */
  private checking(check: Promise<boolean>, then: (ok: boolean) => void): void {
    this.busy = true;
    void check.catch(() => false).then((ok) => {
      this.busy = false;
      this.aborted = false;
      if (this.state === "closed") return;
      then(ok);
      this.pump();
    });
  }

  private credential(text: string): void {
    switch (this.state) {
      case "username":
        this.username = text;
        this.state = "password";
        this.showPrompt();
        return;
      case "password": {
        const users = this.o.users;
        this.checking(users === undefined ? Promise.resolve(false) : verifyCliLogin(users, this.username, text), (ok) => {
          if (ok) {
            this.o.log?.("info", `CLI login by ${this.username}`);
            this.state = "normal";
            this.write("\r\n");
            this.showPrompt();
            return;
          }
          this.failures++;
          this.o.log?.("warn", `CLI login refused for ${JSON.stringify(this.username)}`);
          this.write("\r\n\r\nAccess denied\r\n");
          if (this.failures >= (this.o.maxLoginAttempts ?? 3)) {
            this.close();
            return;
          }
          this.state = "username";
          this.showPrompt();
        });
        return;
      }
      case "enable-password": {
        const stored = this.o.users?.enable;
        this.checking(stored === undefined ? Promise.resolve(false) : verifyPassword(stored, text), (ok) => {
          this.state = "normal";
          if (ok) {
            this.privileged = true;
          } else {
            this.o.log?.("warn", "CLI enable refused: wrong password");
            this.write("\r\n\r\nAccess denied\r\n");
          }
          this.showPrompt();
        });
        return;
      }
      default:
        return;
    }
  }

  private async run(line: string): Promise<void> {
    const parsed = parseLine(line);
    if (parsed.words.length === 0 && parsed.filters.length === 0) return;
    const text = line.trim();
    if (this.historyList[this.historyList.length - 1] !== text) {
      this.historyList.push(text);
      if (this.historyList.length > (this.o.maxHistory ?? 256)) this.historyList.shift();
    }
    this.historyAt = this.historyList.length;
    const r = resolve(this.o.commands, parsed.words, { mode: this.mode, privileged: this.context.privileged });
    if (!r.ok) {
      this.write(`${r.error}\r\n`);
      return;
    }
    const command = r.command;
    if (command?.run === undefined) {
      this.write("Incomplete command\r\n");
      return;
    }
    const filters: LineFilter[] = [];
    for (const stage of parsed.filters) {
      const f = makeFilter(stage);
      if (!f.ok) {
        this.write(`${f.error}\r\n`);
        return;
      }
      filters.push(f.filter);
    }
    if (command.name !== "quit" && command.name !== "logout") this.o.log?.("info", `CLI: ${text}`);
    try {
      const lines = command.run(this.context, r.args);
      await this.emit(filters.reduce((s, f) => f(s), asAsync(lines)));
    } catch (e) {
      this.write(`Error: ${e instanceof Error ? e.message : String(e)}\r\n`);
    }
  }

  /** Writes lines in chunks; waits for the terminal when it is full and yields between chunks. */
  private async emit(lines: AsyncIterable<string>): Promise<void> {
    const chunkBytes = this.o.chunkBytes ?? 16_384;
    let chunk = "";
    const flush = async (): Promise<void> => {
      const text = chunk;
      chunk = "";
      if (this.state === "closed") return;
      if (this.o.terminal.write(text)) await nextTurn();
      else await this.o.terminal.drained();
    };
    for await (const line of lines) {
      if (this.aborted) break;
      chunk += `${line.includes("\n") ? line.replace(/\r?\n/g, "\r\n") : line}\r\n`;
      if (chunk.length >= chunkBytes) await flush();
    }
    if (this.aborted && this.state !== "closed") chunk += "^C\r\n";
    if (chunk !== "") await flush();
  }
}
