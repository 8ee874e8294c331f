// The LAC simulator against an LNS L2tpNode over real UDP on 127.0.0.1: a thousand calls, tunnel
// authentication, clearing and stopping, refusals, and the call handler extension point.
import t from "tap";
import { AvpType, CdnResultCode, encodeL2tpDataMessage, L2tpErrorCode, L2tpMessageType, ProxyAuthenType, StopCcnResultCode } from "@lnsd/wire";
import { formatReport, LacSimulator, type LacCall } from "../src/index.js";
import { startLns, until } from "./lib/lns.js";
import { RawPeer } from "./lib/raw.js";

void t.test("the LNS takes 1,000 sessions in 10 tunnels; counts match; clearAll and stopAll empty both sides", async (t) => {
  const started = performance.now();
  const lns = await startLns({ stopCcnHoldMs: 500 });
  t.teardown(() => { lns.close(); });
  const sim = new LacSimulator({
    lns: lns.address,
    tunnels: 10,
    sessionsPerTunnel: 100,
    bindAddress: "127.0.0.1",
    config: { stopCcnHoldMs: 500 },
    callInfo: (ti, si) => ({ callingNumber: `t${ti}s${si}`, calledNumber: "lns" }),
    proxy: (ti, si) => ({ authenType: ProxyAuthenType.Pap, authenName: `t${ti}s${si}@isp`, authenResponse: Buffer.from("secret") }),
  });
  t.teardown(() => { sim.close(); });
  await sim.start();
  t.ok(await sim.waitForAllUp(20_000), "every call up on the LAC");
  // The LAC counts a call up when it sends ICCN; the LNS when ICCN arrives, a moment later.
  t.ok(await until(() => lns.node.sessionCount === 1000 && lns.node.sessionsInSetupCount === 0, 10_000), "every call established on the LNS");

  const r = sim.report();
  t.comment(formatReport(r));
  t.match(r.tunnels, { requested: 10, up: 10, failed: 0, established: 10 });
  t.match(r.sessions, { requested: 1000, placed: 1000, up: 1000, refused: 0, failed: 0, established: 1000, down: 0 });
  t.equal(r.sessions.setup.count, 1000);
  t.ok(r.sessions.setup.minMs <= r.sessions.setup.medianMs && r.sessions.setup.medianMs <= r.sessions.setup.maxMs);
  // A retransmission on a loaded machine would show as a duplicate; anything else is a fault.
  t.same(Object.keys(r.drops).filter((k) => !k.startsWith("reliable:")), [], "the LAC dropped nothing");
  t.same(Object.fromEntries(lns.node.counters), {}, "the LNS dropped and refused nothing");

  t.equal(lns.node.tunnels.size, 10);
  t.equal(sim.node.tunnels.size, 10);
  t.equal(sim.node.sessionCount, 1000);
  t.equal(lns.up.length, 1000, "sessionUp once per call on the LNS");
  for (const lt of lns.node.tunnels.values()) {
    t.equal(lt.state, "established");
    t.equal(lt.sessions.size, 100, `LNS tunnel ${lt.localId}: 100 calls`);
    const mine = sim.node.tunnels.get(lt.peerId);
    t.equal(mine?.peerId, lt.localId, "tunnel ids agree on both sides");
    t.equal(mine?.sessions.size, 100);
    for (const s of lt.sessions.values()) {
      const peer = mine?.sessions.get(s.peerId);
      if (peer?.peerId !== s.localId || peer.state !== "established" || s.state !== "established") {
        t.fail(`session ${s.localId} in tunnel ${lt.localId} does not match the LAC's`);
        break;
      }
    }
  }
  const calling = new Set(lns.up.map((s) => s.call.callingNumber));
  t.equal(calling.size, 1000, "each call's own Calling Number arrived");
  t.ok(lns.up.every((s) => s.call.proxy?.authenName === `${s.call.callingNumber ?? ""}@isp`), "proxy authentication AVPs arrived with their call");

  t.ok(await sim.clearAll(10_000), "every CDN acknowledged");
  t.equal(lns.node.sessionCount, 0, "the LNS's session table is empty after clearAll");
  t.equal(sim.node.sessionCount, 0);
  t.equal(sim.report().sessions.down, 1000);
  t.equal(lns.node.tunnels.size, 10, "the tunnels stay");

  t.ok(await sim.stopAll(10_000), "every StopCCN acknowledged");
  t.ok(await until(() => lns.node.tunnels.size === 0 && sim.node.tunnels.size === 0, 5000), "after the hold time (500 ms) both tunnel tables are empty");
  t.equal(lns.tunnelEnds.length, 10);
  t.ok(lns.tunnelEnds.every((e) => e?.by === "peer" && e.resultCode === StopCcnResultCode.GeneralRequestToClear), "the LNS saw StopCCN result 1 on each");
  t.comment(`1,000-session run: ${Math.round(performance.now() - started)} ms in all`);
});

void t.test("tunnel authentication: the right secret passes, a wrong one ends in StopCCN result 4", async (t) => {
  const lns = await startLns({ secret: "right", requireTunnelAuth: true, stopCcnHoldMs: 500 });
  t.teardown(() => { lns.close(); });

  const good = new LacSimulator({ lns: lns.address, tunnels: 2, sessionsPerTunnel: 5, secret: "right", bindAddress: "127.0.0.1", config: { stopCcnHoldMs: 500 } });
  t.teardown(() => { good.close(); });
  await good.start();
  t.ok(await good.waitForAllUp(5000), "right secret: all up");
  t.ok(await until(() => lns.node.sessionCount === 10, 3000));
  t.equal(lns.up[0]?.call.callingNumber?.startsWith("testkit-"), true, "hidden Calling Number revealed with the secret");
  await good.stopAll(5000);
  t.ok(await until(() => lns.node.tunnels.size === 0, 3000));
  lns.tunnelEnds.length = 0;

  const bad = new LacSimulator({ lns: lns.address, tunnels: 2, sessionsPerTunnel: 5, secret: "wrong", bindAddress: "127.0.0.1", config: { stopCcnHoldMs: 500 } });
  t.teardown(() => { bad.close(); });
  await bad.start();
  t.equal(await bad.waitForAllUp(5000), false, "wrong secret: not up, and settled before the timeout");
  const r = bad.report();
  t.match(r.tunnels, { up: 0, failed: 2 });
  // The LAC checks the LNS's Challenge Response first (SCCRP) and stops with result 4 itself.
  t.match(r.tunnels.failures, [{ by: "local", resultCode: StopCcnResultCode.NotAuthorized, count: 2 }]);
  t.equal(r.sessions.placed, 0, "no call placed in a tunnel that never came up");
  t.ok(await until(() => lns.tunnelEnds.length === 2, 3000), "the LNS's tunnels went too");
  t.ok(lns.tunnelEnds.every((e) => e?.by === "peer" && e.resultCode === StopCcnResultCode.NotAuthorized), "the LNS received StopCCN result 4");
  t.ok(await until(() => lns.node.tunnels.size === 0 && bad.node.tunnels.size === 0, 3000), "no tunnel left on either side");
  t.equal(bad.node.counter("tunnel-auth-failed"), 2);

  // A LAC that answers the LNS's Challenge wrongly hears StopCCN result 4 from the LNS.
  const raw = await RawPeer.open(lns.address, "right");
  t.teardown(() => { raw.close(); });
  await raw.sendControl({ messageType: L2tpMessageType.SCCRQ, tunnelId: 0, sessionId: 0, ns: 0, nr: 0, avps: { [AvpType.ProtocolVersion]: { version: 1, revision: 0 }, [AvpType.HostName]: "raw", [AvpType.FramingCapabilities]: 3, [AvpType.AssignedTunnelId]: 42 } });
  const sccrp = await raw.nextMessage(L2tpMessageType.SCCRP, 3000, 0);
  const lnsTunnel = sccrp === undefined || sccrp.messageType === "ZLB" ? undefined : sccrp.avps[AvpType.AssignedTunnelId];
  t.ok(sccrp !== undefined && sccrp.messageType !== "ZLB" && sccrp.avps[AvpType.Challenge] !== undefined, "the LNS challenges");
  if (lnsTunnel === undefined) return;
  await raw.sendControl({ messageType: L2tpMessageType.SCCCN, tunnelId: lnsTunnel, sessionId: 0, ns: 1, nr: 1, avps: { [AvpType.ChallengeResponse]: Buffer.alloc(16, 0xab) } });
  const stop = await raw.nextMessage(L2tpMessageType.StopCCN);
  t.same(stop !== undefined && stop.messageType !== "ZLB" ? stop.avps[AvpType.ResultCode]?.resultCode : undefined, StopCcnResultCode.NotAuthorized, "StopCCN result 4 to the LAC");
  t.equal(lns.node.counter("tunnel-auth-failed"), 1);
});

void t.test("refused calls are reported with their Result and Error Codes", async (t) => {
  const lns = await startLns({ maxSessions: 15 });
  t.teardown(() => { lns.close(); });
  const sim = new LacSimulator({ lns: lns.address, tunnels: 2, sessionsPerTunnel: 10, bindAddress: "127.0.0.1", maxCallsInSetup: 4 });
  t.teardown(() => { sim.close(); });
  await sim.start();
  t.equal(await sim.waitForAllUp(5000), false);
  const r = sim.report();
  t.match(r.sessions, { requested: 20, placed: 20, up: 15, refused: 5, failed: 0, established: 15 });
  t.match(r.sessions.refusals, [{ by: "peer", resultCode: CdnResultCode.GeneralError, errorCode: L2tpErrorCode.TryAnother, count: 5 }]);
  t.match(formatReport(r), /refused: 5 x result 2 \(general error \(see error code\)\), error 7 \(try another LNS\) from the LNS/);
  t.equal(lns.node.counter("icrq-refused"), 5);
});

void t.test("the call handler gets each established call and exchanges PPP frames over it", async (t) => {
  const lns = await startLns();
  t.teardown(() => { lns.close(); });
  // The LNS echoes every PPP frame back on the same session.
  lns.events.data = (lt, s, packet, header) => {
    const frame = packet.subarray(header.payloadOffset, header.payloadOffset + header.payloadLength);
    lns.node.sendData(lt, encodeL2tpDataMessage({ tunnelId: lt.peerId, sessionId: s.peerId }, Buffer.concat([Buffer.from("echo:"), frame])));
  };
  const ups: LacCall[] = [];
  const frames: string[] = [];
  let downs = 0;
  const sim = new LacSimulator({
    lns: lns.address,
    tunnels: 2,
    sessionsPerTunnel: 3,
    bindAddress: "127.0.0.1",
    calls: {
      up: (call) => {
        ups.push(call);
        call.sendFrame(Buffer.from(`ff03c021-${call.tunnelIndex}-${call.sessionIndex}`));
      },
      frame: (call, frame) => { frames.push(`${call.tunnelIndex}/${call.sessionIndex} ${frame.toString()}`); },
      down: () => { downs++; },
    },
  });
  t.teardown(() => { sim.close(); });
  await sim.start();
  t.ok(await sim.waitForAllUp(5000));
  t.equal(ups.length, 6);
  t.ok(await until(() => frames.length === 6, 3000), "every call got its echo");
  t.same(frames.sort(), ["0/0 echo:ff03c021-0-0", "0/1 echo:ff03c021-0-1", "0/2 echo:ff03c021-0-2", "1/0 echo:ff03c021-1-0", "1/1 echo:ff03c021-1-1", "1/2 echo:ff03c021-1-2"]);
  t.ok(ups.every((c) => c.session.txPackets === 1 && c.session.rxPackets === 1));
  await sim.clearAll(5000);
  t.equal(downs, 6, "down() once per call");
  t.equal(ups[0]?.sendFrame(Buffer.from("late")), false, "no frame on a cleared call");
});
