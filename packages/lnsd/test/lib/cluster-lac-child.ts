// The test LAC of the cluster test (issue 14), in the LAC's namespace: tunnels x sessions logged in
// (CHAP, user PREFIX-T-S), then, after "go", every session pings the target each INTERVAL_MS
// without pause (the sessions spread over the interval), sends an LCP Echo-Request each ECHO_MS,
// and every tunnel a HELLO after HELLO_MS without a control message from the LNS; what the LNS
// sends is watched on the wire (lib/lac-probe.ts, shared with restart-child). The test asks for windows of the run ("report FROM TO", epoch ms): per session the
// longest time between two ping replies, pings lost, LCP Echo-Requests lost, HELLOs unanswered;
// and for the LAC's standing ("state": sessions online, addresses, PPP restarts, teardowns).
// Commands: "go", "report FROM TO", "state", "end" (pinging stops), "clear" (CDN on every call),
// "stop" (StopCCN on every tunnel, exit). Says {"online"}, {"report"}, {"state"}, {"ended"},
// {"cleared"}, {"stopped"}.
// Arguments: LNS address, local address, target, tunnels, sessions per tunnel, user prefix,
// password, INTERVAL_MS, ECHO_MS, HELLO_MS.
import { emit, udpDrops } from "./child-io.js";
import { lacProbeArgs, LATE_MS, spread, startLacProbe } from "./lac-probe.js";

/** A HELLO unacknowledged this long after it was sent is unanswered (the LAC retransmits it after 1 s). */
const HELLO_ANSWER_MS = 2000;
const probe = await startLacProbe(lacProbeArgs(process.argv.slice(2), "cl"));
const { sim, lines, hellos, dropTimes } = probe;

/**
 * The window [from, to] (epoch ms; to is cut at now). Per session, the longest time between two
 * ping replies (from the last reply before the window, or its start, to the window's end); pings
 * sent in the window and unanswered LATE_MS later; LCP Echo-Requests lost (unanswered when the next
 * one went); HELLOs sent in the window, acknowledged or not.
 */
function report(from: number, toAsked: number): unknown {
  const now = Date.now();
  const to = Math.min(toAsked, now);
  const gaps: { index: number; gap: number; at: number }[] = [];
  let sent = 0;
  let lost = 0;
  let late = 0;
  let maxRttMs = 0;
  let answeredNearEnd = 0;
  let replied = 0;
  const echoGaps: number[] = [];
  for (const line of lines) {
    let prev = from;
    for (const r of line.replies) if (r <= from) prev = r;
    let gap = 0;
    let at = prev;
    let any = false;
    for (const r of line.replies) {
      if (r <= from || r > to) continue;
      any = true;
      if (r - prev > gap) {
        gap = r - prev;
        at = prev;
      }
      prev = r;
    }
    if (to - prev > gap) {
      gap = to - prev;
      at = prev;
    }
    gaps.push({ index: line.index, gap, at });
    if (any) replied++;
    if (line.replies.some((r) => r > to - 1000 && r <= to)) answeredNearEnd++;
    for (let seq = 0; seq < line.sentAt.length; seq++) {
      const s = line.sentAt[seq] ?? 0;
      if (s < from || s > to) continue;
      const r = line.repliedAt[seq] ?? Number.NaN;
      if (Number.isNaN(r)) {
        if (s < now - LATE_MS) {
          sent++;
          lost++;
        }
        continue;
      }
      sent++;
      if (r - s > LATE_MS) late++;
      maxRttMs = Math.max(maxRttMs, r - s);
    }
    let eprev = from;
    let egap = 0;
    for (const r of line.echoReplies) {
      if (r <= from) {
        eprev = r;
        continue;
      }
      if (r > to) break;
      egap = Math.max(egap, r - eprev);
      eprev = r;
    }
    echoGaps.push(Math.max(egap, to - eprev));
  }
  const sorted = [...gaps].sort((a, b) => b.gap - a.gap);
  const hellosIn = [...hellos.values()].filter((h) => h.sentAt >= from && h.sentAt <= to);
  const ackMs = hellosIn.filter((h) => h.ackedAt !== undefined).map((h) => (h.ackedAt ?? 0) - h.sentAt);
  const unanswered = hellosIn.filter((h) => h.ackedAt === undefined && now - h.sentAt > HELLO_ANSWER_MS);
  const slow = hellosIn.filter((h) => h.ackedAt !== undefined && h.ackedAt - h.sentAt > HELLO_ANSWER_MS);
  return {
    from,
    to,
    sessions: gaps.length,
    sessionsReplied: replied,
    sessionsAnsweredNearEnd: answeredNearEnd,
    gapMs: spread(gaps.map((g) => g.gap)),
    worst: sorted.slice(0, 3).map((g) => `session ${g.index}: ${Math.round(g.gap)} ms from +${g.at - from} ms`),
    pingsSent: sent,
    pingsLost: lost,
    late,
    maxRttMs,
    echoLost: lines.reduce((n, l) => n + l.echoLost.filter((t) => t >= from && t <= to).length, 0),
    echoReplies: lines.reduce((n, l) => n + l.echoReplies.filter((t) => t >= from && t <= to).length, 0),
    echoGapMs: spread(echoGaps),
    hellosSent: hellosIn.length,
    hellosAcked: ackMs.length,
    helloAckMs: spread(ackMs),
    hellosUnanswered: [...unanswered, ...slow].map((h) => `${h.tunnel}/${h.ns} sent +${h.sentAt - from} ms${h.ackedAt === undefined ? ", not acknowledged" : `, acknowledged after ${h.ackedAt - h.sentAt} ms`}`),
    hellosPending: hellosIn.length - ackMs.length - unanswered.length,
    lacDrops: dropTimes.filter(([at]) => at >= from && at <= to).map(([at, n]) => `+${at - from}:${n}`),
  };
}

function state(): unknown {
  const now = Date.now();
  const r = sim.report();
  const addresses = [...probe.logins.stats.online.values()].map((i) => i.address);
  const seen = new Map<string, number>();
  for (const a of addresses) seen.set(a, (seen.get(a) ?? 0) + 1);
  let unacked = 0;
  for (const t of sim.node.tunnels.values()) if (t.state === "established" && !t.transport.idle) unacked++;
  return {
    online: probe.logins.stats.online.size,
    addresses,
    sharedAddresses: [...seen].filter(([, n]) => n > 1).map(([a, n]) => `${a} x${n}`),
    callsDown: r.sessions.down,
    tunnelsEstablished: r.tunnels.established,
    tunnelsUnacked: unacked,
    ...probe.standing(),
    hellosSent: hellos.size,
    // One sent less than HELLO_ANSWER_MS ago may still be answered.
    hellosUnacked: [...hellos.values()].filter((h) => h.ackedAt === undefined && now - h.sentAt > HELLO_ANSWER_MS).map((h) => `${h.tunnel}/${h.ns} sent ${new Date(h.sentAt).toISOString()}`),
    hellosPending: [...hellos.values()].filter((h) => h.ackedAt === undefined && now - h.sentAt <= HELLO_ANSWER_MS).length,
    retransmitted: r.reliable.retransmitted,
    udpDrops: udpDrops(sim.local.port),
  };
}

probe.serve(async (words) => {
  switch (words[0]) {
    case "report":
      emit("report", report(Number(words[1] ?? "0"), Number(words[2] ?? "0")));
      return true;
    case "state":
      emit("state", state());
      return true;
    case "end":
      probe.end();
      // The last requests' replies.
      await new Promise((r) => setTimeout(r, LATE_MS));
      emit("ended", state());
      return true;
    default:
      return false;
  }
});
