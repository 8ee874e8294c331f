// Bad input over real UDP: while the simulator's tunnels are up, a plain socket sends the LNS
// malformed headers, lying lengths, messages for unknown tunnels and sessions, unknown mandatory
// AVPs and an SCCRQ flood. The LNS must stay up, answer as RFC 2661 says where it says to, count
// every drop, and leave the simulator's calls alone.
import t from "tap";
import { AvpType, encodeControlMessage, encodeL2tpDataMessage, L2tpErrorCode, L2tpMessageType, StopCcnResultCode, type L2tpControlMessage } from "@lnsd/wire";
import { LacSimulator } from "../src/index.js";
import { sessionStates, sleep, startLns, until } from "./lib/lns.js";
import { RawPeer } from "./lib/raw.js";

const V1 = { version: 1, revision: 0 };

function resultOf(m: L2tpControlMessage | undefined): { resultCode: number; errorCode?: number } | undefined {
  if (m === undefined || m.messageType === "ZLB") return undefined;
  const r = m.avps[AvpType.ResultCode];
  return r === undefined ? undefined : r.errorCode === undefined ? { resultCode: r.resultCode } : { resultCode: r.resultCode, errorCode: r.errorCode };
}

void t.test("bad input and an SCCRQ flood: the LNS stays up, answers or counts, and the calls stay up", async (t) => {
  const lns = await startLns({ stopCcnHoldMs: 500, maxTunnels: 1000 });
  t.teardown(() => { lns.close(); });
  const sim = new LacSimulator({ lns: lns.address, tunnels: 4, sessionsPerTunnel: 25, bindAddress: "127.0.0.1" });
  t.teardown(() => { sim.close(); });
  await sim.start();
  t.ok(await sim.waitForAllUp(5000));
  t.ok(await until(() => lns.node.sessionCount === 100 && lns.node.sessionsInSetupCount === 0, 3000));
  const simTunnels = [...lns.node.tunnels.values()];
  const raw = await RawPeer.open(lns.address);
  t.teardown(() => { raw.close(); });

  // ---- headers that cannot be parsed: dropped and counted (RFC 2661 3.1) ----
  await raw.send(Buffer.alloc(0));
  await raw.send(Buffer.from("c8", "hex"));
  await raw.send(Buffer.from("c8030014000000000000000000000000", "hex")); // version 3 (L2TPv3)
  await raw.send(Buffer.from("8802000000000000", "hex")); // control message without L (RFC 2661 3.1: MUST be set)
  await raw.send(Buffer.from("c80200ff0001000000000000", "hex")); // Length 255, 12 bytes sent
  await raw.send(Buffer.from("c80200040001000000000000", "hex")); // Length 4, shorter than the header
  await raw.send(Buffer.from("c802000a00010000", "hex")); // truncated before Ns/Nr
  // ---- for tunnels and sessions that do not exist ----
  await raw.sendControl({ messageType: L2tpMessageType.HELLO, tunnelId: 60000, sessionId: 0, ns: 0, nr: 0, avps: {} });
  await raw.send(encodeL2tpDataMessage({ tunnelId: 60000, sessionId: 1 }, Buffer.from("ff03c021", "hex")));
  await raw.sendControl({ messageType: L2tpMessageType.ICRQ, tunnelId: 0, sessionId: 0, ns: 0, nr: 0, avps: { [AvpType.AssignedSessionId]: 1, [AvpType.CallSerialNumber]: 1 } });
  // ---- into the simulator's tunnels, from another port: not theirs (RFC 2661 8.1) ----
  for (const st of simTunnels) await raw.sendControl({ messageType: L2tpMessageType.StopCCN, tunnelId: st.localId, sessionId: 0, ns: 0, nr: 0, avps: { [AvpType.AssignedTunnelId]: 1, [AvpType.ResultCode]: { resultCode: 1 } } });
  // ---- SCCRQs that cannot open a tunnel ----
  await raw.send(Buffer.from("c802001400000000000000008008000000000001", "hex")); // SCCRQ without its required AVPs
  await raw.sendControl({ messageType: L2tpMessageType.SCCRQ, tunnelId: 0, sessionId: 0, ns: 5, nr: 0, avps: { [AvpType.ProtocolVersion]: V1, [AvpType.HostName]: "raw", [AvpType.FramingCapabilities]: 3, [AvpType.AssignedTunnelId]: 9 } });
  await raw.send(encodeControlMessage({ messageType: L2tpMessageType.SCCRQ, tunnelId: 0, sessionId: 0, ns: 0, nr: 0, avps: { [AvpType.ProtocolVersion]: V1, [AvpType.HostName]: "raw", [AvpType.FramingCapabilities]: 3, [AvpType.AssignedTunnelId]: 10 } }).subarray(0, 30)); // cut inside an AVP, Length lies
  const lying = encodeControlMessage({ messageType: L2tpMessageType.SCCRQ, tunnelId: 0, sessionId: 0, ns: 0, nr: 0, avps: { [AvpType.ProtocolVersion]: V1, [AvpType.HostName]: "raw", [AvpType.FramingCapabilities]: 3, [AvpType.AssignedTunnelId]: 11 } });
  lying.writeUInt16BE(0x8000 | 0x3ff, 20); // the second AVP claims 1023 octets
  await raw.send(lying);

  // ---- a tunnel and a call of the raw peer's own, driven by hand ----
  const since = raw.received.length;
  await raw.sendControl({ messageType: L2tpMessageType.SCCRQ, tunnelId: 0, sessionId: 0, ns: 0, nr: 0, avps: { [AvpType.ProtocolVersion]: V1, [AvpType.HostName]: "raw", [AvpType.FramingCapabilities]: 3, [AvpType.AssignedTunnelId]: 42 } });
  const sccrp = await raw.nextMessage(L2tpMessageType.SCCRP, 3000, since);
  const tid = sccrp !== undefined && sccrp.messageType !== "ZLB" ? sccrp.avps[AvpType.AssignedTunnelId] : undefined;
  t.ok(tid, "SCCRP for the raw peer's own tunnel");
  if (tid === undefined) return;
  await raw.sendControl({ messageType: L2tpMessageType.SCCCN, tunnelId: tid, sessionId: 0, ns: 1, nr: 1, avps: {} });
  await raw.sendControl({ messageType: L2tpMessageType.ICRQ, tunnelId: tid, sessionId: 0, ns: 2, nr: 1, avps: { [AvpType.AssignedSessionId]: 7, [AvpType.CallSerialNumber]: 1 } });
  const icrp = await raw.nextMessage(L2tpMessageType.ICRP);
  const sid = icrp !== undefined && icrp.messageType !== "ZLB" ? icrp.avps[AvpType.AssignedSessionId] : undefined;
  t.ok(sid, "ICRP");
  if (sid === undefined) return;
  await raw.sendControl({ messageType: L2tpMessageType.ICCN, tunnelId: tid, sessionId: sid, ns: 3, nr: 2, avps: { [AvpType.TxConnectSpeed]: 1e8, [AvpType.FramingType]: 1 } });
  t.ok(await until(() => lns.node.sessionCount === 101, 2000), "the raw peer's call is up");
  // A session message for a session that does not exist: counted, nothing else.
  await raw.sendControl({ messageType: L2tpMessageType.SLI, tunnelId: tid, sessionId: 4242, ns: 4, nr: 2, avps: { [AvpType.Accm]: { sendAccm: 0, receiveAccm: 0 } } });
  // RFC 2661 4.1: an unknown AVP with M set in a session message: CDN, result 2, error 8.
  const unknownM = [{ vendorId: 0, attributeType: 250, mandatory: true, hidden: false, value: Buffer.from("?") }];
  await raw.sendControl({ messageType: L2tpMessageType.SLI, tunnelId: tid, sessionId: sid, ns: 5, nr: 2, avps: { [AvpType.Accm]: { sendAccm: 0, receiveAccm: 0 } }, unknown: unknownM });
  const cdn = await raw.nextMessage(L2tpMessageType.CDN);
  t.same(resultOf(cdn), { resultCode: 2, errorCode: L2tpErrorCode.UnknownMandatoryAvp }, "CDN result 2 error 8");
  t.equal(cdn?.sessionId, 7, "to the raw peer's session");
  // ... and in a tunnel message: StopCCN, result 2, error 8.
  await raw.sendControl({ messageType: L2tpMessageType.HELLO, tunnelId: tid, sessionId: 0, ns: 6, nr: 3, avps: {}, unknown: [{ vendorId: 9999, attributeType: 1, mandatory: true, hidden: false, value: Buffer.alloc(0) }] });
  const stop = await raw.nextMessage(L2tpMessageType.StopCCN);
  t.same(resultOf(stop), { resultCode: StopCcnResultCode.GeneralError, errorCode: L2tpErrorCode.UnknownMandatoryAvp }, "StopCCN result 2 error 8");
  t.equal(stop?.tunnelId, 42);

  // ---- an SCCRQ flood: 3,000 tunnels asked for at once, against max_tunnels 1000 ----
  const floodStart = performance.now();
  const floodSince = raw.received.length;
  const flood = 3000;
  for (let i = 0; i < flood; i += 100) {
    const batch: Promise<void>[] = [];
    for (let j = i; j < Math.min(flood, i + 100); j++) {
      batch.push(raw.sendControl({ messageType: L2tpMessageType.SCCRQ, tunnelId: 0, sessionId: 0, ns: 0, nr: 0, avps: { [AvpType.ProtocolVersion]: V1, [AvpType.HostName]: `flood-${j}`, [AvpType.FramingCapabilities]: 3, [AvpType.AssignedTunnelId]: 1000 + j } }));
    }
    await Promise.all(batch);
  }
  const floodSentMs = performance.now() - floodStart;
  // Each SCCRQ gets one first answer: SCCRP (accepted) or StopCCN (refused: too many tunnels).
  const answered = (): Set<number> => {
    const ids = new Set<number>();
    for (const r of raw.received.slice(floodSince)) {
      const m = r.msg;
      if (m !== undefined && m.messageType !== "ZLB" && (m.messageType === L2tpMessageType.SCCRP || m.messageType === L2tpMessageType.StopCCN) && m.tunnelId >= 1000) ids.add(m.tunnelId);
    }
    return ids;
  };
  t.ok(await until(() => answered().size === flood, 10_000, 50), "every SCCRQ of the flood was answered");
  const floodMs = performance.now() - floodStart;
  t.comment(`flood: ${flood} SCCRQs sent in ${Math.round(floodSentMs)} ms, all answered after ${Math.round(floodMs)} ms`);
  t.ok(floodMs < 10_000, "the flood was dealt with in bounded time");
  const refusals = raw.received.slice(floodSince).filter((r) => r.msg?.messageType === L2tpMessageType.StopCCN).map((r) => resultOf(r.msg));
  t.ok(refusals.length > 0, "past max_tunnels the LNS refuses");
  t.same(refusals[0], { resultCode: StopCcnResultCode.GeneralError, errorCode: L2tpErrorCode.InsufficientResources }, "StopCCN result 2 error 4");

  // ---- the LNS is still up, and the simulator's calls are untouched ----
  await sleep(200);
  const c = lns.node.counters;
  t.comment(`LNS counters: ${JSON.stringify(Object.fromEntries(c))}`);
  t.ok((c.get("bad-header:truncated") ?? 0) >= 3, "truncated headers counted");
  t.equal(c.get("bad-header:bad-version"), 1);
  t.equal(c.get("bad-header:bad-header"), 1);
  t.equal(c.get("bad-header:bad-length"), 3, "Length past the datagram (twice) or inside the header");
  t.equal(c.get("control-unknown-tunnel"), 1);
  t.equal(c.get("data-unknown-session"), 1);
  t.equal(c.get("non-sccrq-for-tunnel-0"), 1);
  t.equal(c.get("control-wrong-peer"), simTunnels.length, "StopCCNs from another port ignored");
  t.equal(c.get("bad-sccrq:missing-avp"), 1);
  t.equal(c.get("sccrq-bad-ns"), 1);
  t.equal(c.get("bad-sccrq:bad-length"), 1, "an SCCRQ whose AVP Length lies is dropped");
  t.equal(c.get("session-message-unknown-session"), 1);
  t.equal(c.get("bad-control:unknown-mandatory-avp"), 2);
  t.equal(c.get("sccrq-refused"), refusals.length);
  t.equal(c.get("tunnel-replaced") ?? 0, 0, "no tunnel of the simulator replaced");

  for (const st of simTunnels) t.equal(st.state, "established", `the simulator's tunnel ${st.localId} is still established on the LNS`);
  t.same(sessionStates(sim.node), { established: 100 }, "all 100 calls established on the LAC");
  t.equal(simTunnels.reduce((n, st) => n + [...st.sessions.values()].filter((s) => s.state === "established").length, 0), 100, "and on the LNS");
  t.equal(sim.report().sessions.down, 0);
  t.ok(await sim.clearAll(5000), "the LNS still answers: every CDN acknowledged");
  t.equal(simTunnels.reduce((n, st) => n + st.sessions.size, 0), 0, "and the calls cleared");
});
