// lnsd's telnet CLI, kept open for a whole test: run in lnsd's namespace, it connects to
// 127.0.0.1:23 (no login from there), says {"ready": prompt}, and runs each line it reads as one
// command, answering {"out": text} (what the CLI printed up to the next prompt, telnet options
// and carriage returns taken out). The telnet negotiation is ignored: the CLI works without it.
// Argument: the CLI's port (default 23).
import { connect } from "node:net";
import { createInterface } from "node:readline";
import { emit } from "./child-io.js";

const port = Number(process.argv[2] ?? "23");
const IAC = 255;
const SB = 250;
const SE = 240;

/** libcli's prompts: `host>`, `host#`, `host(config)#`, each after a line break. */
const PROMPT = /\n[\w.-]+(\([\w-]+\))?[>#] $/;

let text = "";
/** 0: data; 1: after IAC; 2: option byte of WILL/WONT/DO/DONT; 3: inside SB; 4: IAC inside SB. */
let state = 0;
const socket = connect({ host: "127.0.0.1", port });
socket.on("data", (d: Buffer) => {
  const keep: number[] = [];
  for (const b of d) {
    switch (state) {
      case 0:
        if (b === IAC) state = 1;
        else keep.push(b);
        break;
      case 1:
        // IAC IAC is a data byte 255; WILL, WONT, DO, DONT (251-254) take an option byte.
        if (b === IAC) keep.push(IAC);
        state = b === SB ? 3 : b >= 251 && b <= 254 ? 2 : 0;
        break;
      case 2:
        state = 0;
        break;
      case 3:
        if (b === IAC) state = 4;
        break;
      case 4:
        state = b === SE ? 0 : 3;
        break;
    }
  }
  text += Buffer.from(keep).toString("latin1").replace(/\r/g, "");
  wake?.();
});
socket.on("error", (e) => {
  emit("error", e.message);
  process.exit(1);
});
socket.on("close", () => { process.exit(0); });

let wake: (() => void) | undefined;
/** Everything up to (not including) the next prompt; the prompt itself is taken too. */
async function untilPrompt(): Promise<{ out: string; prompt: string }> {
  for (;;) {
    const m = PROMPT.exec(text);
    if (m !== null) {
      const out = text.slice(0, m.index);
      const prompt = m[0].slice(1);
      text = "";
      return { out, prompt };
    }
    await new Promise<void>((r) => (wake = r));
  }
}

const first = await untilPrompt();
emit("ready", first.prompt);
const rl = createInterface({ input: process.stdin });
let chain = Promise.resolve();
rl.on("line", (line) => {
  chain = chain.then(async () => {
    socket.write(`${line}\r`);
    const r = await untilPrompt();
    emit("out", r.out);
  });
});
rl.on("close", () => {
  void chain.then(() => {
    socket.end("quit\r");
    setTimeout(() => process.exit(0), 1000).unref();
  });
});
