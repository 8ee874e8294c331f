// Every frame the server sends during a whole CHAP login (and its teardown), wrapped in L2TP data
// messages over IPv4/UDP 1701, written to a pcap and dissected by tshark, an independent decoder:
// no malformed packet, no expert warning or error, and the PPP layer tshark sees is the one meant.
import t from "tap";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LINKTYPE_RAW, buildIpv4Udp, encodeL2tpDataMessage, encodePcap } from "@lnsd/wire";
import { Rig, describe } from "./harness.js";

const TSHARK = process.env.TSHARK ?? "tshark";

function run(args: string[]): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(TSHARK, args, { timeout: 30_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ ok: error === null, stdout, stderr });
    });
  });
}

void t.test("a whole CHAP login as the server sends it dissects cleanly in tshark", async (t) => {
  const version = await run(["-v"]);
  if (!version.ok) {
    t.comment(`SKIP: tshark not available (${TSHARK})`);
    t.end();
    return;
  }
  const r = new Rig({ server: { authProtocols: ["chap", "pap"], ipv6: true, primaryDns: "192.0.2.53" }, client: { ipv6: true } }).start();
  await r.run(100);
  t.equal(r.serverUp.length, 1, "the login completed");
  // An Echo exchange, a Protocol-Reject, then the server drops the session.
  await r.run(10_100, 500);
  r.inject(Buffer.from("ff0380fd0101000a120600000000", "hex"));
  r.server.close("session-timeout");
  await r.run(100);
  const sent = r.frames.filter((f) => f.from === "server");
  t.ok(sent.length >= 12);
  const records = sent.map((f, i) => ({
    timestampUs: 1_700_000_000_000_000 + f.atMs * 1000 + i,
    data: buildIpv4Udp({ src: "192.0.2.1", srcPort: 1701, dst: "192.0.2.2", dstPort: 1701, id: i, payload: encodeL2tpDataMessage({ tunnelId: 2, sessionId: 1 }, f.frame) }),
  }));
  const dir = await mkdtemp(join(tmpdir(), "lnsd-ppp-"));
  try {
    const file = join(dir, "chap-login.pcap");
    await writeFile(file, encodePcap(records, { linktype: LINKTYPE_RAW }));
    const out = await run(["-n", "-r", file, "-T", "fields", "-E", "separator=|", "-e", "frame.number", "-e", "frame.protocols", "-e", "_ws.malformed", "-e", "_ws.expert.severity", "-e", "_ws.expert.message"]);
    t.ok(out.ok, out.stderr);
    const lines = out.stdout.trim().split("\n");
    t.comment(lines.map((l, i) => `${l}  <- ${describe(sent[i]?.frame ?? Buffer.alloc(0))}`).join("\n"));
    t.equal(lines.length, sent.length, "one line per frame");
    const wanted: Record<number, string> = { 0xc021: "lcp", 0xc223: "chap", 0x8021: "ipcp", 0x8057: "ipv6cp" };
    lines.forEach((line, i) => {
      const [number, protocols, malformed, severity, message] = line.split("|");
      const what = describe(sent[i]?.frame ?? Buffer.alloc(0));
      t.equal(number, String(i + 1));
      t.equal(malformed ?? "", "", `frame ${i + 1} (${what}) not malformed`);
      // tshark's "chat"/"note" items are informational; warnings and errors are not acceptable.
      const severities = (severity ?? "").split(",").filter((s) => s !== "");
      t.notOk(
        severities.some((s) => Number(s) >= 0x600000 || s === "warning" || s === "error"),
        `frame ${i + 1} (${what}) has no expert warning or error: ${message ?? ""}`,
      );
      const protocol = sent[i]?.frame.readUInt16BE(2) ?? 0;
      const layer = wanted[protocol];
      t.ok(layer !== undefined && (protocols ?? "").split(":").includes(layer), `frame ${i + 1}: ${protocols ?? ""} carries ${layer ?? "?"}`);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  t.end();
});
