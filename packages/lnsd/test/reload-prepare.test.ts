// A reload is prepare then commit (issue 13): when one part cannot be prepared (here the metrics
// listener's new port is taken), nothing changes: nsctl stays where it was, the RADIUS client
// keeps its servers and secret (a login still goes through the old server), and the port another
// part had already opened for the reload is closed again. Then a reload that can be prepared
// moves them all at once. In-process: the RADIUS side on the fake clock and in-memory network of
// the inproc rig, the listeners on real loopback sockets of this process.
import t from "tap";
import { createServer, type Server } from "node:net";
import { createSocket } from "node:dgram";
import { defaultSettings, type StartupSettings } from "@lnsd/config";
import { controlListener, Listener, LnsdMetrics, LoopWatch, metricsListener, prepareAll, radiusComponent } from "../src/index.js";
import { Inproc, RADIUS_ADDRESS, SECRET } from "./lib/inproc.js";

const HOST = "127.0.36.1";
const NSCTL = 17_021;
const NSCTL_NEXT = 17_022;
const METRICS = 19_101;
const TAKEN = 19_102;
const METRICS_NEXT = 19_103;

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(port, HOST, () => { resolve(s); });
  });
}

/** Whether something listens on UDP HOST:port (an ICMP port unreachable says no). */
function udpListens(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket("udp4");
    const done = (v: boolean): void => {
      clearTimeout(timer);
      sock.close();
      resolve(v);
    };
    const timer = setTimeout(() => { done(true); }, 300);
    sock.on("error", () => { done(false); });
    sock.connect(port, HOST, () => { sock.send(Buffer.from([0]), (e) => { if (e !== null) done(false); }); });
  });
}

void t.test("a reload one part cannot prepare changes nothing; one all can prepare changes everything", async (t) => {
  const lab = await Inproc.start();
  t.teardown(() => { lab.close(); });
  const logger = lab.logger;
  const settings: StartupSettings = {
    ...defaultSettings(),
    primary_radius: RADIUS_ADDRESS,
    radius_secret: SECRET,
    nsctl_address: HOST,
    nsctl_port: NSCTL,
    metrics_address: HOST,
    metrics_port: METRICS,
  };
  const nsctl = await Listener.start(controlListener(logger, new LoopWatch(logger)), settings, logger);
  const metrics = await Listener.start(metricsListener(new LnsdMetrics()), settings, logger);
  t.teardown(() => {
    nsctl.stop();
    metrics.stop();
  });
  const components = [radiusComponent(lab.client, "lns-inproc", true, logger), nsctl, metrics];
  const blocker = await listen(TAKEN);
  t.teardown(() => { blocker.close(); });

  // RADIUS elsewhere with another secret, nsctl on another port, metrics on a taken one.
  const bad: StartupSettings = { ...settings, primary_radius: "192.0.2.99", radius_secret: "another secret", nsctl_port: NSCTL_NEXT, metrics_port: TAKEN };
  const refused = await prepareAll(components, bad);
  t.equal(refused.ok, false, "the reload is refused");
  const errors = refused.ok ? [] : refused.errors;
  t.equal(errors.length, 1, "for one reason");
  t.match(errors[0] ?? "", /^metrics: .*19102/, "the metrics port, named");
  t.equal(nsctl.current?.local.port, NSCTL, "nsctl where it was");
  t.equal(await udpListens(NSCTL_NEXT), false, "the nsctl socket opened for the reload is closed again");
  t.equal(await udpListens(NSCTL), true, "the old one still open");
  t.same(lab.client.stats().servers.map((s) => s.server), [`${RADIUS_ADDRESS}:1812`, `${RADIUS_ADDRESS}:1813`], "RADIUS servers unchanged");
  lab.radius.users.set("after", { password: "pw", reply: [] });
  await lab.online("after", "pw");
  t.equal(lab.radius.access.length, 1, "a login goes to the old server, with the old secret, and is accepted");

  const good: StartupSettings = { ...bad, metrics_port: METRICS_NEXT };
  const prepared = await prepareAll(components, good);
  t.equal(prepared.ok, true, "a reload every part can prepare");
  if (prepared.ok) prepared.commit();
  t.equal(nsctl.current?.local.port, NSCTL_NEXT, "nsctl moved");
  t.equal(metrics.current?.port, METRICS_NEXT, "metrics moved");
  t.ok(lab.client.stats().servers.some((s) => s.server === "192.0.2.99:1812"), "RADIUS servers changed");
});
