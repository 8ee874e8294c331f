// Where lnsd's RADIUS requests come from, from the startup-config to the wire: by default the
// address the kernel picks for the route to the server (as l2tpns; FreeRADIUS knows its clients by
// it), not bind_address, which stays NAS-IP-Address; radius_bind_address picks it explicitly.
// A RADIUS server on 127.0.0.1 records the source of each request; bind_address 127.0.0.2 and
// radius_bind_address 127.0.0.3 are on loopback too, so binding to them would show.
import t from "tap";
import { createSocket, type Socket } from "node:dgram";
import { parseStartupConfig, type StartupSettings } from "@lnsd/config";
import { Attr, Code, decodePacket, RadiusClient, signResponse } from "@lnsd/radius";
import { parseMessageAuthenticatorPolicy, radiusClientOptions } from "../src/index.js";

const SECRET = "source test secret";

interface Recorder {
  readonly port: number;
  readonly requests: { readonly source: string; readonly nasIpAddress: string | undefined }[];
  close(): void;
}

/** A RADIUS server on 127.0.0.1 that accepts everyone (signed) and records where requests came from. */
async function recorder(): Promise<Recorder> {
  const sock: Socket = createSocket("udp4");
  await new Promise<void>((resolve) => sock.bind(0, "127.0.0.1", resolve));
  const requests: Recorder["requests"][number][] = [];
  sock.on("message", (raw, rinfo) => {
    const d = decodePacket(raw);
    if (!d.ok || d.value.code !== Code.AccessRequest) return;
    const nas = d.value.attributes.find((a) => a.type === Attr.NasIpAddress)?.value;
    requests.push({ source: rinfo.address, nasIpAddress: nas === undefined ? undefined : [...nas].join(".") });
    const reply = signResponse({ code: Code.AccessAccept, identifier: d.value.identifier, attributes: [], secret: SECRET, requestAuthenticator: d.value.authenticator });
    sock.send(reply, rinfo.port, rinfo.address);
  });
  return { port: sock.address().port, requests, close: () => sock.close() };
}

function settings(lines: readonly string[]): StartupSettings {
  const r = parseStartupConfig([...lines, ""].join("\n"));
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("; "));
  return r.value.settings;
}

async function loginVia(s: StartupSettings): Promise<string> {
  const c = await RadiusClient.create({ ...radiusClientOptions(s, "lns-test"), timeoutMs: 500, tries: 2 });
  try {
    const r = await c.authenticate({ userName: "alice", nasPort: 1, acctSessionId: "1", auth: { kind: "pap", password: Buffer.from("pw") } });
    return r.kind;
  } finally {
    c.close();
  }
}

void t.test("RADIUS requests leave from the kernel's choice of address, not bind_address; NAS-IP-Address is bind_address", async (t) => {
  const server = await recorder();
  t.teardown(() => {
    server.close();
  });
  const s = settings(["set bind_address 127.0.0.2", "set primary_radius 127.0.0.1", `set primary_radius_port ${String(server.port)}`, `set radius_secret "${SECRET}"`]);
  t.equal(await loginVia(s), "accept");
  t.same(server.requests, [{ source: "127.0.0.1", nasIpAddress: "127.0.0.2" }]);
});

void t.test("radius_bind_address chooses the source explicitly", async (t) => {
  const server = await recorder();
  t.teardown(() => {
    server.close();
  });
  const s = settings([
    "set bind_address 127.0.0.2",
    "set radius_bind_address 127.0.0.3",
    "set primary_radius 127.0.0.1",
    `set primary_radius_port ${String(server.port)}`,
    `set radius_secret "${SECRET}"`,
  ]);
  t.equal(await loginVia(s), "accept");
  t.same(server.requests, [{ source: "127.0.0.3", nasIpAddress: "127.0.0.2" }]);
});

void t.test("bind_address 0.0.0.0: no NAS-IP-Address (NAS-Identifier names the LNS), as before", async (t) => {
  const server = await recorder();
  t.teardown(() => {
    server.close();
  });
  const s = settings(["set primary_radius 127.0.0.1", `set primary_radius_port ${String(server.port)}`, `set radius_secret "${SECRET}"`]);
  t.equal(await loginVia(s), "accept");
  t.same(server.requests, [{ source: "127.0.0.1", nasIpAddress: undefined }]);
});

void t.test("radius_require_message_authenticator: auto by default; auto, yes, no; anything else refused", (t) => {
  const base = ["set primary_radius 127.0.0.1", 'set radius_secret "x"'];
  t.equal(radiusClientOptions(settings(base), "h").requireMessageAuthenticator, "auto");
  for (const [text, policy] of [["auto", "auto"], ["yes", "yes"], ["no", "no"], ["YES", "yes"], ["true", "yes"], ["false", "no"]] as const) {
    t.equal(radiusClientOptions(settings([...base, `set radius_require_message_authenticator ${text}`]), "h").requireMessageAuthenticator, policy, text);
  }
  t.equal(parseMessageAuthenticatorPolicy("sometimes"), undefined);
  t.throws(() => radiusClientOptions(settings([...base, "set radius_require_message_authenticator sometimes"]), "h"), /radius_require_message_authenticator 'sometimes': use auto, yes or no/);
  t.end();
});
