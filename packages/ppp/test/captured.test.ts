// Replays what a real pppd 2.4.9 (behind xl2tpd 1.3.18) sent to l2tpns in
// packages/wire/test/vectors/captured/secret-chap.json against our server session, at the
// captured times. The peer's requests go in verbatim; its answers to l2tpns's requests (ConfAck,
// ConfRej, CHAP Response) are re-aimed at our requests, as pppd would have answered ours.
import t from "tap";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PppProtocol, decodeChap, decodeIpcp, decodeIpv6cp, decodeL2tpHeader, decodeLcp, decodePppFrame, encodeChap } from "@lnsd/wire";
import { chapMd5Response, type AuthRequest, type AuthResult } from "../src/index.js";
import { Rig, describe, frame } from "./harness.js";

const here = dirname(fileURLToPath(import.meta.url));
// Compiled to packages/ppp/dist/test; the vectors live in @lnsd/wire's source tree.
const CAPTURE = join(here, "..", "..", "..", "wire", "test", "vectors", "captured", "secret-chap.json");

interface Packet {
  readonly timeMs: number;
  readonly direction: string;
  readonly udpPayload: Buffer;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}

function loadPackets(): Packet[] {
  const data: unknown = JSON.parse(readFileSync(CAPTURE, "utf8"));
  if (!isRecord(data) || !Array.isArray(data.packets)) throw new Error("unexpected capture file");
  const out: Packet[] = [];
  for (const p of data.packets as unknown[]) {
    if (!isRecord(p) || typeof p.timeRelative !== "string" || typeof p.direction !== "string" || typeof p.udpPayloadHex !== "string") continue;
    out.push({ timeMs: Number(p.timeRelative) * 1000, direction: p.direction, udpPayload: Buffer.from(p.udpPayloadHex, "hex") });
  }
  return out;
}

/** The PPP frame of an L2TP data message, or undefined for a control message. */
function pppOf(udpPayload: Buffer): Buffer | undefined {
  const h = decodeL2tpHeader(udpPayload);
  if (!h.ok || h.value.kind !== "data") return undefined;
  return udpPayload.subarray(h.value.payloadOffset, h.value.payloadOffset + h.value.payloadLength);
}

function authenticate(r: AuthRequest): Promise<AuthResult> {
  const good = r.kind === "chap" && r.username === "test" && Buffer.compare(chapMd5Response(r.identifier, "test", r.challenge), r.response) === 0;
  return Promise.resolve(good ? { ok: true, address: "10.231.100.1" } : { ok: false });
}

void t.test("pppd's frames from secret-chap against our LNS session", async (t) => {
  const packets = loadPackets();
  t.equal(packets.length, 61);
  const r = new Rig({ withClient: false, authenticate, server: { authProtocols: ["chap", "pap"], hostName: "vm", localAddress: "10.231.0.1", ipv6: true } });
  // l2tpns sent its first ConfReq with the ZLB acknowledging ICCN (frame 8): the session starts there.
  const iccnAck = packets[7];
  t.equal(iccnAck?.direction, "lns->lac");
  const start = iccnAck?.timeMs ?? 0;
  r.server.start();
  const answers: { atMs: number; what: string }[] = [];
  const mark = (): number => r.toClient.length;
  const collect = (from: number, atMs: number): void => {
    for (const f of r.toClient.slice(from)) answers.push({ atMs, what: describe(f) });
  };
  /** Our last packet of `prefix` kind, e.g. our last LCP ConfReq. */
  const ourLast = (protocol: number, code: number): Buffer | undefined =>
    [...r.toClient].reverse().find((f) => {
      const d = decodePppFrame(f);
      return d.ok && d.value.protocol === protocol && d.value.info[0] === code;
    });
  let replayed = 0;
  let adapted = 0;
  for (const p of packets) {
    if (p.direction !== "lac->lns" || p.timeMs < start) continue;
    const ppp = pppOf(p.udpPayload);
    if (ppp === undefined) continue;
    const at = p.timeMs - start;
    await r.run(Math.max(0, Math.round(at - r.clock.now())), 50);
    const f = decodePppFrame(ppp);
    t.ok(f.ok, `frame at ${at.toFixed(1)} ms decodes`);
    if (!f.ok) continue;
    const { protocol, info } = f.value;
    let toSend: Buffer | undefined = ppp;
    const code = info[0] ?? 0;
    if ((protocol === PppProtocol.LCP || protocol === PppProtocol.IPCP || protocol === PppProtocol.IPV6CP) && (code === 2 || code === 4)) {
      // An answer to one of l2tpns's Configure-Requests: answer ours instead.
      const ours = ourLast(protocol, 1);
      if (code === 4) {
        // pppd rejected l2tpns's Multilink MRRU; we never ask for it, so pppd would not have.
        const rej = protocol === PppProtocol.LCP ? decodeLcp(info) : undefined;
        t.ok(rej?.ok === true && rej.value.kind === "ConfRej" && rej.value.options.every((o) => o.name === "mrru"), "the only Reject pppd sent was for MRRU");
        toSend = undefined;
      } else if (ours !== undefined) {
        // ConfAck: our request with Code 2.
        toSend = Buffer.from(ours);
        toSend[4] = 2;
        adapted++;
      }
    } else if (protocol === PppProtocol.CHAP && code === 2) {
      const ch = ourLast(PppProtocol.CHAP, 1);
      const d = ch === undefined ? undefined : decodeChap(ch.subarray(4));
      t.ok(d?.ok === true && d.value.kind === "Challenge", "we challenged before pppd responded");
      if (d?.ok === true && d.value.kind === "Challenge") {
        const original = decodeChap(info);
        t.ok(original.ok && original.value.kind === "Response" && Buffer.from(original.value.name).toString() === "test");
        toSend = frame(PppProtocol.CHAP, encodeChap({ kind: "Response", identifier: d.value.identifier, value: chapMd5Response(d.value.identifier, "test", d.value.value), name: Buffer.from("test") }));
        adapted++;
      }
    }
    if (toSend === undefined) continue;
    const from = mark();
    r.inject(toSend);
    replayed++;
    await r.run(1, 1);
    collect(from, at);
  }
  await r.run(4000, 100);
  const said = answers.map((a) => a.what);
  t.comment(answers.map((a) => `${a.atMs.toFixed(1).padStart(8)} ms  ${a.what}`).join("\n"));
  t.ok(replayed >= 20, `replayed ${replayed} frames (${adapted} answers re-aimed at ours)`);

  // LCP: pppd's first Configure-Request (asyncmap 0, magic) at ~161 ms is acknowledged and ours resent at once.
  const first = answers.filter((a) => a.what.startsWith("LCP"));
  t.match(first[0]?.what, /^LCP ConfReq 2 \[mru=1462 authProtocol=chap magicNumber\]$/);
  t.match(first[1]?.what, /^LCP ConfAck 1 \[accm=0 magicNumber\]$/);
  t.ok((first[0]?.atMs ?? 9999) < 200, "our resend goes out with pppd's first ConfReq, not 2.5 s later as l2tpns's did");
  t.equal(r.server.counter("lcp-early-resend"), 1);
  t.ok(said.includes("LCP EchoReply 0"), "pppd's Echo-Request answered");
  // CHAP, then the address.
  t.ok(r.toClient.some((f) => /^CHAP Challenge \d+ vm$/.test(describe(f))), "CHAP asked, with our name");
  t.ok(said.some((s) => /^CHAP Success \d+ ""$/.test(s)));
  t.ok(said.includes("IPCP ConfNak 1 [ipAddress=10.231.100.1]"), "0.0.0.0 Nak'd with the address the authentication gave");
  t.ok(said.includes("IPCP ConfAck 2 [ipAddress=10.231.100.1]"));
  t.ok(said.includes("IPV6CP ConfAck 1 [interfaceIdentifier=f98b20245d136dd3]"), "pppd's random identifier is unique: acknowledged (l2tpns Nak'd it)");
  t.ok(said.includes("IPV6CP ConfAck 2 [interfaceIdentifier=0ae7640100000000]"));
  t.equal(r.serverUp.length, 1);
  t.match(r.serverUp[0], { username: "test", address: "10.231.100.1", authProtocol: "chap" });
  t.ok(r.server.counter("data-rx") > 0, "IPv4/IPv6 data accepted once the NCPs opened");
  // pppd's "User request" Terminate-Request.
  t.ok(said.some((s) => s === 'LCP TermAck 2 ""'));
  t.equal(r.serverDown[0]?.reason, "user-request");
  t.equal(r.serverDown[0]?.terminateMessage, "User request");
  t.equal(r.server.counter("internal-error"), 0);
  t.equal(r.server.status().protocolErrors, 0);
  // Nothing we sent fails to decode.
  for (const f of r.toClient) {
    const d = decodePppFrame(f);
    t.ok(d.ok);
    if (!d.ok) continue;
    const ok =
      d.value.protocol === PppProtocol.LCP ? decodeLcp(d.value.info).ok : d.value.protocol === PppProtocol.IPCP ? decodeIpcp(d.value.info).ok : d.value.protocol === PppProtocol.IPV6CP ? decodeIpv6cp(d.value.info).ok : true;
    t.ok(ok, describe(f));
  }
  t.end();
});
