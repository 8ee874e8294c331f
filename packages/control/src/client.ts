// The nsctl client side: which request a command line makes, one datagram out and one answer back
// (from the address it was sent to, as a connected UDP socket gives), within the timeout.
import { createSocket } from "node:dgram";
import { isIP } from "node:net";
import {
  NSCTL_REQ_CONTROL,
  NSCTL_REQ_HELP,
  NSCTL_REQ_LOAD,
  NSCTL_REQ_UNLOAD,
  decodeNsctl,
  encodeNsctl,
  isRequestType,
  type NsctlMessage,
  type NsctlRequestType,
} from "./protocol.js";

export interface NsctlBuiltin {
  readonly command: string;
  readonly args: string;
  readonly summary: string;
  readonly type: NsctlRequestType;
}

/** The commands every server knows; the rest are its plugins' (help lists those). */
export const NSCTL_BUILTINS: readonly NsctlBuiltin[] = [
  { command: "load_plugin", args: "PLUGIN", summary: "Load the named plugin", type: NSCTL_REQ_LOAD },
  { command: "unload_plugin", args: "PLUGIN", summary: "Unload the named plugin", type: NSCTL_REQ_UNLOAD },
  { command: "help", args: "", summary: "List the commands the server offers", type: NSCTL_REQ_HELP },
];

/** The lines `nsctl help` prints before asking the server for its plugins' commands. */
export function builtinHelpLines(): string[] {
  return ["Available commands:", ...NSCTL_BUILTINS.map((b) => `  ${`${b.command} ${b.args}`.padEnd(44)}${b.summary}`)];
}

/**
 * The request a command line makes: a built-in sends its arguments only; anything else is a
 * control request carrying the command word and its arguments (nsctl(8)).
 */
export function requestFor(command: string, args: readonly string[]): NsctlMessage {
  const builtin = NSCTL_BUILTINS.find((b) => b.command === command);
  return builtin === undefined ? { type: NSCTL_REQ_CONTROL, args: [command, ...args] } : { type: builtin.type, args };
}

export interface NsctlRequestOptions {
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
  /** Each datagram sent and received, decoded (nsctl -d). */
  readonly trace?: (direction: "sent" | "received", msg: NsctlMessage) => void;
}

export type NsctlReply = { readonly ok: true; readonly response: NsctlMessage } | { readonly ok: false; readonly message: string };

/** Sends one request and waits for its answer. Never rejects. */
export function nsctlRequest(request: NsctlMessage, o: NsctlRequestOptions): Promise<NsctlReply> {
  return new Promise((resolve) => {
    const socket = createSocket(isIP(o.host) === 6 ? "udp6" : "udp4");
    let done = false;
    const finish = (r: NsctlReply): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      resolve(r);
    };
    const timer = setTimeout(() => {
      finish({ ok: false, message: `no answer from ${o.host}:${o.port} within ${o.timeoutMs / 1000} s` });
    }, o.timeoutMs);
    socket.on("error", (e: NodeJS.ErrnoException) => {
      // ICMP port unreachable, on a connected socket.
      finish({ ok: false, message: e.code === "ECONNREFUSED" ? `connection refused: nothing listens on ${o.host}:${o.port}` : e.message });
    });
    socket.on("message", (packet) => {
      const d = decodeNsctl(packet);
      if (!d.ok) {
        finish({ ok: false, message: `bad answer (${d.error.code}: ${d.error.reason})` });
        return;
      }
      if (isRequestType(d.value.type)) {
        finish({ ok: false, message: "the answer is a request, not a response" });
        return;
      }
      o.trace?.("received", d.value);
      finish({ ok: true, response: d.value });
    });
    // connect(): the kernel then lets in only datagrams from the server's address and port.
    socket.connect(o.port, o.host, () => {
      const { packet, truncatedArgs, droppedArgs } = encodeNsctl(request);
      if (droppedArgs > 0) {
        finish({ ok: false, message: "the command line is too long for one nsctl datagram" });
        return;
      }
      if (truncatedArgs > 0) {
        finish({ ok: false, message: "an argument is longer than 255 bytes" });
        return;
      }
      o.trace?.("sent", request);
      socket.send(packet, (e) => {
        if (e) finish({ ok: false, message: `cannot send: ${e.message}` });
      });
    });
  });
}
