// Tunnel authentication (RFC 2661 5.1.1, CHAP of RFC 1994): known answers computed here with
// node:crypto, independently of the codec.
import { createHash } from "node:crypto";
import t from "tap";
import { L2tpMessageType, tunnelChallengeResponse, verifyTunnelChallengeResponse } from "../src/index.js";

const challenge = Buffer.from("a1b2c3d4e5f60718293a4b5c6d7e8f90", "hex");

void t.test("Challenge Response = MD5(Message Type || secret || Challenge)", (t) => {
  for (const [type, id] of [
    [L2tpMessageType.SCCRP, 2],
    [L2tpMessageType.SCCCN, 3],
  ] as const) {
    const expected = createHash("md5")
      .update(Buffer.concat([Buffer.from([id]), Buffer.from("topsecret", "utf8"), challenge]))
      .digest();
    t.same(tunnelChallengeResponse(type, "topsecret", challenge), expected, `ID ${id}`);
    t.same(tunnelChallengeResponse(type, Buffer.from("topsecret"), challenge), expected, "secret as octets");
    t.ok(verifyTunnelChallengeResponse(type, "topsecret", challenge, expected));
    t.notOk(verifyTunnelChallengeResponse(type, "topsecreT", challenge, expected), "wrong secret");
    t.notOk(verifyTunnelChallengeResponse(type, "topsecret", challenge, expected.subarray(0, 15)), "short response");
  }
  // The ID is what distinguishes the LNS's answer from the LAC's.
  t.notSame(tunnelChallengeResponse(L2tpMessageType.SCCRP, "s", challenge), tunnelChallengeResponse(L2tpMessageType.SCCCN, "s", challenge));
  // A fixed vector: MD5(0x02 || "secret" || 00..0f).
  const fixed = createHash("md5").update(Buffer.from("02" + Buffer.from("secret").toString("hex") + "000102030405060708090a0b0c0d0e0f", "hex")).digest("hex");
  t.equal(tunnelChallengeResponse(2, "secret", Buffer.from("000102030405060708090a0b0c0d0e0f", "hex")).toString("hex"), fixed);
  t.end();
});
