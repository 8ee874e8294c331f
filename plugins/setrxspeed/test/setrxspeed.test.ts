// setrxspeed against an in-memory API: l2tpns's Tx -> Rx Connect Speed table.
import t from "tap";
import { PLUGIN_RET_OK, PPP_CHAP, TEST_TUNNEL, memoryApi, testSession, type PostAuthParams } from "@lnsd/plugin-api";
import { plugin } from "../src/index.js";

function postAuth(fields: Partial<Pick<PostAuthParams, "authAllowed" | "txConnectSpeed" | "rxConnectSpeed">>): PostAuthParams {
  const p: PostAuthParams = { tunnel: TEST_TUNNEL, session: testSession(3), username: "alice", authAllowed: true, protocol: PPP_CHAP, ...fields };
  const r = plugin.hooks.post_auth?.(p, memoryApi());
  if (r !== PLUGIN_RET_OK) throw new Error("post_auth did not answer OK");
  return p;
}

void t.test("fills in a missing Rx Connect Speed", (t) => {
  t.equal(postAuth({ txConnectSpeed: 256 }).rxConnectSpeed, 64);
  t.equal(postAuth({ txConnectSpeed: 512 }).rxConnectSpeed, 128);
  t.equal(postAuth({ txConnectSpeed: 1500 }).rxConnectSpeed, 256);
  t.equal(postAuth({ txConnectSpeed: 1500, rxConnectSpeed: 0 }).rxConnectSpeed, 256, "0 is none");
  t.end();
});

void t.test("leaves it alone otherwise", (t) => {
  t.equal(postAuth({ txConnectSpeed: 512, rxConnectSpeed: 300 }).rxConnectSpeed, 300, "the LAC sent one");
  t.equal(postAuth({ txConnectSpeed: 8000 }).rxConnectSpeed, undefined, "a speed not in the table");
  t.equal(postAuth({}).rxConnectSpeed, undefined, "no Tx Connect Speed");
  t.equal(postAuth({ authAllowed: false, txConnectSpeed: 256 }).rxConnectSpeed, undefined, "a refused login");
  t.end();
});
