import t from "tap";
import {
  NSCTL_MAX_ARG,
  NSCTL_MAX_PACKET,
  NSCTL_REQ_CONTROL,
  NSCTL_REQ_HELP,
  NSCTL_REQ_LOAD,
  NSCTL_REQ_UNLOAD,
  NSCTL_RES_ERR,
  NSCTL_RES_OK,
  decodeNsctl,
  encodeNsctl,
  requestFor,
  type NsctlMessage,
} from "../src/index.js";
import { fuzz } from "./lib/fuzz.js";

// Datagrams captured from Debian's /usr/sbin/nsctl (l2tpns 2.4.1), sent to a plain UDP listener.
const CAPTURED: readonly { readonly argv: readonly string[]; readonly hex: string }[] = [
  { argv: ["help"], hex: "90131300ff" },
  { argv: ["load_plugin", "garden"], hex: "901311010667617264656eff" },
  { argv: ["show_throttle", "a", "", "b"], hex: "901314040d73686f775f7468726f74746c650161000162ff" },
  { argv: ["load_plugin"], hex: "90131100ff" },
];

void t.test("what Debian's nsctl sends, decoded, and the same bytes from lnsd's encoder", (t) => {
  for (const c of CAPTURED) {
    const [command = "", ...args] = c.argv;
    const want = requestFor(command, args);
    const d = decodeNsctl(Buffer.from(c.hex, "hex"));
    t.same(d, { ok: true, value: want }, c.argv.join(" "));
    t.equal(encodeNsctl(want).packet.toString("hex"), c.hex, `encode ${c.argv.join(" ")}`);
  }
  t.end();
});

void t.test("round trip of every type", (t) => {
  const messages: NsctlMessage[] = [
    { type: NSCTL_REQ_LOAD, args: ["garden"] },
    { type: NSCTL_REQ_UNLOAD, args: ["garden"] },
    { type: NSCTL_REQ_HELP, args: [] },
    { type: NSCTL_REQ_CONTROL, args: ["throttle", "user@isp", "512"] },
    { type: NSCTL_RES_OK, args: [] },
    { type: NSCTL_RES_ERR, args: ["unhandled action"] },
    { type: NSCTL_RES_OK, args: ["ünïcode ✓", ""] },
  ];
  for (const m of messages) t.same(decodeNsctl(encodeNsctl(m).packet), { ok: true, value: m });
  t.end();
});

void t.test("the encoder always fits one datagram", (t) => {
  const long = "x".repeat(NSCTL_MAX_ARG + 100);
  const one = encodeNsctl({ type: NSCTL_RES_OK, args: [long] });
  t.equal(one.truncatedArgs, 1);
  t.same(decodeNsctl(one.packet), { ok: true, value: { type: NSCTL_RES_OK, args: ["x".repeat(NSCTL_MAX_ARG)] } });
  const many = encodeNsctl({ type: NSCTL_RES_OK, args: Array.from({ length: 300 }, (_, i) => `line ${i} ${"y".repeat(40)}`) });
  t.ok(many.packet.length <= NSCTL_MAX_PACKET);
  t.ok(many.droppedArgs > 0);
  const d = decodeNsctl(many.packet);
  t.ok(d.ok && d.value.args.length === 300 - many.droppedArgs);
  t.equal(encodeNsctl({ type: NSCTL_RES_OK, args: Array.from({ length: 300 }, () => "") }).droppedArgs, 45, "at most 255 arguments");
  t.end();
});

void t.test("bad datagrams: each l2tpns unpack error", (t) => {
  const code = (hex: string): string | undefined => {
    const d = decodeNsctl(Buffer.from(hex, "hex"));
    return d.ok ? undefined : d.error.code;
  };
  t.equal(code(""), "short");
  t.equal(code("9013"), "short");
  t.equal(code("901313"), "short");
  t.equal(code("90131300"), "short", "no terminator");
  t.equal(code("9013130000"), "short", "0x00 where 0xff belongs");
  t.equal(code("9013110105ff"), "short", "argument longer than the datagram");
  t.equal(code("90131300ff00"), "long", "bytes after the terminator");
  t.equal(code("12341300ff"), "magic");
  t.equal(code("90131500ff"), "type");
  t.equal(code("90130000ff"), "type");
  t.equal(decodeNsctl(Buffer.alloc(NSCTL_MAX_PACKET + 1)).ok, false);
  // A C string ends at its NUL, as l2tpns reads it.
  t.same(decodeNsctl(Buffer.from("9013110103610062ff", "hex")), { ok: true, value: { type: NSCTL_REQ_LOAD, args: ["a"] } });
  t.end();
});

void t.test("fuzz: the decoder never throws and its answer re-encodes", (t) => {
  const seeds = [...CAPTURED.map((c) => Buffer.from(c.hex, "hex")), encodeNsctl({ type: NSCTL_RES_ERR, args: ["a", "bb", "ccc"] }).packet];
  fuzz(
    (input) => {
      let r;
      try {
        r = decodeNsctl(input);
      } catch (e) {
        return `threw ${String(e)}`;
      }
      if (!r.ok) return typeof r.error.reason === "string" ? undefined : "no reason";
      // Anything accepted encodes to a valid datagram that decodes the same.
      const again = decodeNsctl(encodeNsctl(r.value).packet);
      return again.ok && JSON.stringify(again.value) === JSON.stringify(r.value) ? undefined : "does not round-trip";
    },
    { runs: 100_000, seeds, maxLength: 600 },
  );
  t.pass("100000 inputs");
  t.end();
});
