// The subscriber side of the data-plane test's real traffic, in the LAC's namespace: the test LAC
// logs one subscriber in, and this process relays between that PPP session and a TUN device of
// its own carrying the session's IPCP address, so that ping and iperf3 in the namespace run over
// the session. It counts the IPv4 packets and bytes (the PPP payload, as lnsd counts) each way.
// Arguments: LNS address, local address, TUN name, username, password, route to put on the TUN.
// Says {"up": {address, tun}}; "stop" hangs up and says {"stopped": {...counters}}.
import { execFileSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { closeSync, read, writeSync } from "node:fs";
import { loadAddon } from "@lnsd/dataplane";
import { LacSimulator, pppLogins, type LacCall } from "@lnsd/testkit";
import { commands, emit, udpDrops, until } from "./child-io.js";

const [lnsAddr = "", bindAddr = "", tunName = "", username = "", password = "", route = ""] = process.argv.slice(2);
const PPP_IPV4 = 0x0021;

const tun = loadAddon().openTun(tunName, false);
const counters = {
  /** IPv4 from the TUN device sent on the session. */
  up: { packets: 0, bytes: 0 },
  /** IPv4 that lnsd sent on the session. */
  down: { packets: 0, bytes: 0 },
  /** Read from the TUN device and not sent (not IPv4, or while not relaying). */
  upIgnored: 0,
  /** PPP data frames from lnsd other than IPv4. */
  downOther: 0,
  /** Writes to the TUN device that failed. */
  tunWriteErrors: 0,
};
let call: LacCall | undefined;
let relaying = false;

const logins = pppLogins({
  username,
  password,
  authProtocols: ["chap"],
  onPacket: (_call, protocol, payload) => {
    if (protocol !== PPP_IPV4) {
      counters.downOther++;
      return;
    }
    counters.down.packets++;
    counters.down.bytes += payload.length;
    if (!relaying) return;
    try {
      writeSync(tun.fd, payload);
    } catch {
      counters.tunWriteErrors++;
    }
  },
  onUp: (c) => { call = c; },
});
const lac = new LacSimulator({ lns: { address: lnsAddr, port: 1701 }, bindAddress: bindAddr, tunnels: 1, sessionsPerTunnel: 1, calls: logins.handler });
await lac.start();
if (!(await until(() => call !== undefined, 15_000))) {
  emit("error", `no session: ${JSON.stringify(lac.report().sessions)} ${JSON.stringify([...logins.stats.failures])}`);
  process.exit(1);
}
const address = [...logins.stats.online.values()][0]?.address ?? "";
const run = (...args: string[]): void => { execFileSync(args[0] ?? "", args.slice(1), { stdio: ["ignore", "ignore", "inherit"] }); };
run("sysctl", "-qw", `net.ipv6.conf.${tun.name}.disable_ipv6=1`);
run("ip", "link", "set", "dev", tun.name, "mtu", "1400");
run("ip", "addr", "add", `${address}/32`, "dev", tun.name);
run("ip", "link", "set", "dev", tun.name, "up");
run("ip", "route", "add", route, "dev", tun.name, "src", address);

// One packet per read (TUN); a blocking read in the thread pool, one at a time. Node joins its
// thread pool on exit: the last read must have returned by then (see stop).
const buf = Buffer.alloc(65_536);
let reading = false;
let closing = false;
const pump = (): void => {
  reading = true;
  read(tun.fd, buf, 0, buf.length, null, (e, n) => {
    reading = false;
    if (e !== null || closing) return;
    const c = call;
    if (relaying && c !== undefined && n >= 20 && (buf[0] ?? 0) >> 4 === 4 && logins.send(c, PPP_IPV4, buf.subarray(0, n))) {
      counters.up.packets++;
      counters.up.bytes += n;
    } else counters.upIgnored++;
    pump();
  });
};
relaying = true;
pump();
emit("up", { address, tun: tun.name, lacPort: lac.local.port });

commands(async (words) => {
  if (words[0] !== "stop" && words[0] !== "eof") return;
  // Nothing more goes up; what lnsd still sends until the hang-up is counted (lnsd counted it too).
  relaying = false;
  await lac.stopAll(3000);
  emit("stopped", { ...counters, udpDrops: udpDrops(lac.local.port) });
  lac.close();
  // A datagram routed into the TUN device ends the read that waits there.
  closing = true;
  const wake = createSocket("udp4");
  for (let i = 0; i < 20 && reading; i++) {
    wake.send(Buffer.alloc(1), 9, route.split("/")[0]);
    await until(() => !reading, 100, 10);
  }
  wake.close();
  closeSync(tun.fd);
  process.exit(0);
});
