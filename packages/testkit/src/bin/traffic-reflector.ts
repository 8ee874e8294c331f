#!/usr/bin/env node
// Entry point of `traffic-reflector`: on the "internet" host of the data-plane benchmark, sends
// every UDP datagram it gets on ADDR:PORT back to its sender (recvmmsg/sendmmsg in a worker), and
// answers "stat" lines on a unix socket with its counters, until SIGINT or SIGTERM.
import { rmSync } from "node:fs";
import { parseArgs } from "node:util";
import { TrafficReflector } from "../traffic-io.js";
import { ipv4ToNumber } from "../traffic.js";

const USAGE = `usage: traffic-reflector --bind ADDR:PORT [--control PATH]
  --bind ADDR:PORT   IPv4 address and UDP port to reflect on
  --control PATH     unix socket answering each line with the counters as JSON`;

async function run(): Promise<number> {
  const { values } = parseArgs({ options: { bind: { type: "string" }, control: { type: "string" }, help: { type: "boolean", short: "h" } }, strict: true });
  if (values.help === true) {
    console.log(USAGE);
    return 0;
  }
  const [address = "", portText = ""] = (values.bind ?? "").split(":");
  const port = Number(portText);
  ipv4ToNumber(address);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`bad --bind ${values.bind ?? ""}`);
  const reflector = TrafficReflector.open(address, port);
  await reflector.ready();
  if (values.control !== undefined) {
    rmSync(values.control, { force: true });
    await reflector.serve(values.control);
  }
  console.error(`traffic-reflector: reflecting on ${address}:${String(port)}`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => { resolve(); });
    process.once("SIGTERM", () => { resolve(); });
  });
  const c = reflector.counts();
  console.error(`traffic-reflector: received ${String(c.receivedPackets)}, sent ${String(c.sentPackets)}, send short ${String(c.sendShort)}, truncated ${String(c.truncated)}`);
  await reflector.close();
  if (values.control !== undefined) rmSync(values.control, { force: true });
  return 0;
}

try {
  process.exitCode = await run();
} catch (e) {
  console.error(`traffic-reflector: ${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
  process.exitCode = e instanceof RangeError || (e instanceof TypeError && "code" in e) ? 2 : 1;
}
