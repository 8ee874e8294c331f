// A UDP host for the policy test, in a namespace of its own or the internet host's: it binds the
// given ports on an address, records every datagram (port, source, payload in hex), and sends on
// request. Says {"ready": ports}; "take" answers {"taken": [...]} with what came since the last
// take; "send FROM_PORT DST DST_PORT HEX" sends one datagram and answers {"sent": n}.
// Arguments: address, ports separated by commas.
import { createSocket, type Socket } from "node:dgram";
import { commands, emit } from "./child-io.js";

const [address = "", portsText = ""] = process.argv.slice(2);
const ports = portsText.split(",").map(Number);

export interface UdpRecord {
  readonly port: number;
  readonly from: string;
  readonly hex: string;
}

let records: UdpRecord[] = [];
const sockets = new Map<number, Socket>();
for (const port of ports) {
  const s = createSocket({ type: "udp4", recvBufferSize: 4 << 20 });
  s.on("message", (msg, rinfo) => { records.push({ port, from: `${rinfo.address}:${rinfo.port}`, hex: msg.toString("hex") }); });
  await new Promise<void>((r) => s.bind(port, address, r));
  sockets.set(port, s);
}
emit("ready", ports);
commands(async (words) => {
  switch (words[0]) {
    case "take":
      emit("taken", records);
      records = [];
      return;
    case "send": {
      const [, from = "", dst = "", dstPort = "", hex = ""] = words;
      const s = sockets.get(Number(from));
      if (s === undefined) throw new Error(`no socket on port ${from}`);
      await new Promise<void>((resolve, reject) => {
        s.send(Buffer.from(hex, "hex"), Number(dstPort), dst, (e) => {
          if (e === null) resolve();
          else reject(e);
        });
      });
      emit("sent", hex.length / 2);
      return;
    }
    case "eof":
      for (const s of sockets.values()) s.close();
      process.exit(0);
  }
});
