// Journal bytes written per session setup and appends per second (issue 13), with @lnsd/journal's
// JournalWriter on a temporary directory: a ~600-byte JSON session record, 8 changes per setup,
// flush() after each change (each change is followed by output: the output commit point).
// Usage: npx tsc -b && node bench/journal.mjs [seconds=5] [--record]   (--record appends to RESULTS.md)
import { execSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import { join } from "node:path";
import { JournalWriter, emptySnapshot, upsertJson } from "../packages/journal/dist/src/index.js";

const args = process.argv.slice(2);
const seconds = Number(args.find((a) => /^[0-9.]+$/.test(a)) ?? 5);
const record = args.includes("--record");
const CHANGES_PER_SETUP = 8;

function sessionRecord(sid, step) {
  // Shaped like an L2TP+PPP session record: ids, peer, Ns/Nr, PPP results, RADIUS, accounting, deadlines.
  return {
    tunnelId: 1234, sessionId: sid, peerSessionId: sid + 7, peer: "198.51.100.23", peerPort: 1701, state: ["icrq", "icrp", "iccn", "lcp", "auth", "ipcp", "online", "online"][step],
    ns: 12 + step, nr: 9 + step, callSerial: 900000 + sid, txConnectSpeed: 100000000, framing: "sync",
    ppp: { mru: 1492, peerMru: 1492, magic: 2882400001, peerMagic: 3735928559, accm: 0, pfc: false, acfc: false, auth: "chap-md5" },
    user: `bench-1-${sid}@example.net`, ipv4: "198.18.3.17", dns: ["192.0.2.53", "192.0.2.54"], ipv6InterfaceId: "0011:22ff:fe33:4455",
    radius: { class: "Y2xhc3MtdmFsdWUtMTIzNDU2Nzg5MA==", sessionTimeoutS: 86400, idleTimeoutS: 3600, acctSessionId: "5F3A9C21000004D2", nasPort: 4242 },
    accounting: { phase: step < 6 ? "none" : "started", nextInterimAtMs: 1800000600000 },
    policy: { throttleInKbps: 0, throttleOutKbps: 0, garden: false, snoop: null, filters: [] },
    deadlines: { echoAtMs: 1800000010000, lcpRestartAtMs: null },
  };
}

const dir = fs.mkdtempSync(join(os.tmpdir(), "lnsd-journal-bench-"));
try {
  let now = Date.now();
  const w = JournalWriter.open({ dir, lnsdVersion: "bench", nodeStartedAtMs: now, snapshot: emptySnapshot(), autoFlush: false });
  const bodyBytes = Buffer.byteLength(JSON.stringify(sessionRecord(1, 7)));
  const start0 = w.bytesWritten;
  let version = 0;
  let setups = 0;
  const t0 = process.hrtime.bigint();
  const deadline = t0 + BigInt(Math.round(seconds * 1e9));
  while (process.hrtime.bigint() < deadline) {
    for (let i = 0; i < 100; i++) {
      const sid = (setups % 60000) + 1;
      for (let step = 0; step < CHANGES_PER_SETUP; step++) {
        w.append({ version: ++version, change: upsertJson("session", String(sid), sessionRecord(sid, step)) });
        w.flush();
      }
      setups++;
    }
  }
  const elapsedS = Number(process.hrtime.bigint() - t0) / 1e9;
  const bytes = w.bytesWritten - start0;
  w.close();
  const perSetup = bytes / setups;
  const appendsPerS = version / elapsedS;
  const cpus = os.cpus();
  const machine = `${cpus.length} CPUs (${cpus[0]?.model.trim() ?? "?"}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Linux ${os.release()}. Node ${process.version}`;
  let commit = "?";
  try { commit = execSync("git rev-parse --short HEAD", { encoding: "utf8" }).trim(); } catch { /* not a checkout */ }
  const lines = [
    "",
    `## Journal, ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`,
    "",
    `Machine: ${machine}, lnsd ${commit}. Files in ${os.tmpdir()}.`,
    `Load: one JournalWriter, a ${bodyBytes}-byte JSON session record upserted ${CHANGES_PER_SETUP} times per session setup, flush() (one write(2), no fsync) after every change; ${elapsedS.toFixed(1)} s.`,
    "",
    "| setups | changes | body (B) | bytes written per setup | per change | appends+flushes/s | setups/s |",
    "|---|---|---|---|---|---|---|",
    `| ${setups} | ${version} | ${bodyBytes} | ${Math.round(perSetup)} | ${Math.round(perSetup / CHANGES_PER_SETUP)} | ${Math.round(appendsPerS)} | ${Math.round(setups / elapsedS)} |`,
  ];
  process.stdout.write(lines.join("\n") + "\n");
  if (record) fs.appendFileSync(new URL("./RESULTS.md", import.meta.url), lines.join("\n") + "\n");
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
