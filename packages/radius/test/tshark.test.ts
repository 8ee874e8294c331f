// Every kind of packet lnsd sends or answers, dissected by tshark, an independent decoder: no
// malformed packet, the attributes read back, User-Password decrypted with the secret and every
// Response Authenticator found correct.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { AcctTerminateCause, buildIpv4Udp, encodePcap } from "@lnsd/wire";
import {
  accessRequestAttributes,
  accountingAttributes,
  Attr,
  chapMd5Response,
  Code,
  encodeIpv6Prefix,
  ErrorCause,
  integerAttr,
  signRequest,
  signResponse,
  textAttr,
  Vendor,
  vendorAttr,
  VendorAttr,
} from "../src/index.js";

const SECRET = "tshark-secret";
const TSHARK = process.env.TSHARK ?? "tshark";

function tsharkVersion(): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(TSHARK, ["--version"], (err, out) => {
      resolve(err === null ? out.split("\n")[0] : undefined);
    });
  });
}

interface Frame {
  readonly payload: Buffer;
  readonly from: readonly [string, number];
  readonly to: readonly [string, number];
}

const NAS: readonly [string, number] = ["192.0.2.1", 40000];
const AUTH: readonly [string, number] = ["192.0.2.2", 1812];
const ACCT: readonly [string, number] = ["192.0.2.2", 1813];
const DAS: readonly [string, number] = ["192.0.2.2", 50000];
const DAE: readonly [string, number] = ["192.0.2.1", 3799];

function build(): Frame[] {
  const nas = { ipAddress: "192.0.2.1", identifier: "lns1" };
  const call = { userName: "alice", nasPort: 7, acctSessionId: "a-7", callingStationId: "0123", calledStationId: "lns", connectInfo: "1000000/512000" };
  const a1 = Buffer.alloc(16, 1);
  const pap = accessRequestAttributes({ ...call, auth: { kind: "pap", password: Buffer.from("opensesame-long-password") } }, nas, SECRET, a1);
  const a2 = Buffer.alloc(16, 2);
  const challenge = Buffer.alloc(16, 0x33);
  const chap = accessRequestAttributes({ ...call, auth: { kind: "chap", identifier: 5, challenge, response: chapMd5Response(5, Buffer.from("pw"), challenge) } }, nas, SECRET, a2);
  const stop = accountingAttributes(
    { status: "stop", session: { ...call, framedIpAddress: "10.0.0.7", classes: [Buffer.from("cls")], delegatedIpv6Prefix: { prefix: "2001:db8:100::", length: 56 } }, counters: { inputOctets: 3 * 2 ** 32 + 1, outputOctets: 2, inputPackets: 3, outputPackets: 4, sessionTimeSec: 5 }, terminateCause: AcctTerminateCause.LostCarrier },
    nas,
    2,
    1_700_000_000,
  );
  if (!pap.ok || !chap.ok || !stop.ok) throw new Error("cannot build");
  const papReq = signRequest({ code: Code.AccessRequest, identifier: 1, attributes: pap.attributes, secret: SECRET, randomAuthenticator: a1 });
  const accept = signResponse({
    code: Code.AccessAccept,
    identifier: 1,
    secret: SECRET,
    requestAuthenticator: a1,
    attributes: [
      { type: Attr.FramedIpAddress, value: Buffer.from([10, 0, 0, 7]) },
      textAttr(Attr.FramedRoute, "192.168.0.0/24 10.0.0.7 1"),
      { type: Attr.FramedIpv6Prefix, value: encodeIpv6Prefix({ prefix: "2001:db8:1::", length: 64 }) ?? Buffer.alloc(0) },
      integerAttr(Attr.SessionTimeout, 3600),
      vendorAttr(Vendor.Cisco, VendorAttr.CiscoAvPair, Buffer.from("throttle=yes")),
      vendorAttr(Vendor.Ascend, VendorAttr.AscendClientPrimaryDns, Buffer.from([1, 1, 1, 1])),
      vendorAttr(Vendor.Microsoft, VendorAttr.MsPrimaryDnsServer, Buffer.from([9, 9, 9, 9])),
    ],
  });
  const chapReq = signRequest({ code: Code.AccessRequest, identifier: 2, attributes: chap.attributes, secret: SECRET, randomAuthenticator: a2 });
  const reject = signResponse({ code: Code.AccessReject, identifier: 2, attributes: [textAttr(Attr.ReplyMessage, "no")], secret: SECRET, requestAuthenticator: a2 });
  const acctReq = signRequest({ code: Code.AccountingRequest, identifier: 3, attributes: stop.attributes, secret: SECRET });
  const acctResp = signResponse({ code: Code.AccountingResponse, identifier: 3, attributes: [], secret: SECRET, requestAuthenticator: acctReq.subarray(4, 20), messageAuthenticator: false });
  const dm = signRequest({ code: Code.DisconnectRequest, identifier: 4, attributes: [textAttr(Attr.UserName, "nobody")], secret: SECRET });
  const nak = signResponse({ code: Code.DisconnectNak, identifier: 4, attributes: [integerAttr(Attr.ErrorCause, ErrorCause.SessionContextNotFound)], secret: SECRET, requestAuthenticator: dm.subarray(4, 20) });
  const coa = signRequest({ code: Code.CoaRequest, identifier: 5, attributes: [textAttr(Attr.UserName, "alice"), vendorAttr(Vendor.Cisco, VendorAttr.CiscoAvPair, Buffer.from("throttle=no"))], secret: SECRET });
  const ack = signResponse({ code: Code.CoaAck, identifier: 5, attributes: [], secret: SECRET, requestAuthenticator: coa.subarray(4, 20) });
  return [
    { payload: papReq, from: NAS, to: AUTH },
    { payload: accept, from: AUTH, to: NAS },
    { payload: chapReq, from: NAS, to: AUTH },
    { payload: reject, from: AUTH, to: NAS },
    { payload: acctReq, from: NAS, to: ACCT },
    { payload: acctResp, from: ACCT, to: NAS },
    { payload: dm, from: DAS, to: DAE },
    { payload: nak, from: DAE, to: DAS },
    { payload: coa, from: DAS, to: DAE },
    { payload: ack, from: DAE, to: DAS },
  ];
}

const FIELDS = [
  "radius.code",
  "radius.authenticator.valid",
  "radius.User_Password",
  "radius.Cisco_AVPair",
  "radius.Framed_Route",
  "radius.Framed_IPv6_Prefix",
  "radius.Delegated_IPv6_Prefix",
  "radius.Ascend_Client_Primary_DNS",
  "radius.MS_Primary_DNS_Server",
  "radius.Acct_Terminate_Cause",
  "radius.Acct_Input_Gigawords",
  "radius.Class",
  "radius.Error_Cause",
  "radius.NAS_Port_Type",
  "radius.Connect_Info",
  "_ws.malformed",
  "_ws.expert.severity",
];

void t.test("tshark reads every packet lnsd sends or answers", async (t) => {
  const version = await tsharkVersion();
  if (version === undefined) {
    t.comment("tshark is not installed (scripts/deps.sh installs it)");
    t.fail("no tshark");
    return;
  }
  const frames = build();
  const dir = await mkdtemp(join(tmpdir(), "lnsd-radius-tshark-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, "radius.pcap");
  await writeFile(file, encodePcap(frames.map((f) => ({ data: buildIpv4Udp({ src: f.from[0], srcPort: f.from[1], dst: f.to[0], dstPort: f.to[1], payload: f.payload }) }))));
  const out = await new Promise<string>((resolve, reject) => {
    execFile(
      TSHARK,
      ["-r", file, "-o", `radius.shared_secret:${SECRET}`, "-o", "radius.validate_authenticator:TRUE", "-T", "fields", "-E", "separator=|", ...FIELDS.flatMap((f) => ["-e", f])],
      (err, stdout) => {
        if (err === null) resolve(stdout);
        else reject(new Error(`tshark: ${err.message}`));
      },
    );
  });
  const rows = out
    .trim()
    .split("\n")
    .map((line) => {
      const cells = line.split("|");
      return new Map(FIELDS.map((f, i) => [f, cells[i] ?? ""]));
    });
  t.equal(rows.length, frames.length, version);
  const codes = rows.map((r) => Number(r.get("radius.code")));
  t.same(codes, [1, 2, 1, 3, 4, 5, 40, 42, 43, 44]);
  for (const [i, r] of rows.entries()) {
    t.equal(r.get("_ws.malformed"), "", `frame ${i + 1} not malformed`);
    t.notMatch(r.get("_ws.expert.severity") ?? "", /\d/, `frame ${i + 1}: no expert note`);
    if (![1, 4, 40, 43].includes(codes[i] ?? 0)) t.equal(r.get("radius.authenticator.valid"), "1", `frame ${i + 1}: Response Authenticator correct`);
  }
  const at = (i: number, f: string): string => rows[i]?.get(f) ?? "";
  t.equal(at(0, "radius.User_Password"), "opensesame-long-password", "tshark decrypts the User-Password");
  t.equal(at(0, "radius.NAS_Port_Type"), "5");
  t.equal(at(0, "radius.Connect_Info"), "1000000/512000");
  t.equal(at(1, "radius.Cisco_AVPair"), "throttle=yes");
  t.equal(at(1, "radius.Framed_Route"), "192.168.0.0/24 10.0.0.7 1");
  // tshark shows these as their octets (Reserved, Prefix-Length, Prefix; RFC 3162 2.3).
  t.equal(at(1, "radius.Framed_IPv6_Prefix"), "004020010db800010000");
  t.equal(at(1, "radius.Ascend_Client_Primary_DNS"), "1.1.1.1");
  t.equal(at(1, "radius.MS_Primary_DNS_Server"), "9.9.9.9");
  t.equal(at(4, "radius.Acct_Terminate_Cause"), "2");
  t.equal(at(4, "radius.Acct_Input_Gigawords"), "3");
  t.equal(at(4, "radius.Class"), Buffer.from("cls").toString("hex"));
  t.equal(at(4, "radius.Delegated_IPv6_Prefix"), "003820010db8010000");
  t.equal(at(7, "radius.Error_Cause"), "503");
  t.equal(at(8, "radius.Cisco_AVPair"), "throttle=no");
});
