// Tunnel authentication (RFC 2661 4.2 / 5.1.1): the Challenge Response is computed as in CHAP
// (RFC 1994 4.1), with the Message Type of the message carrying the response as the CHAP ID.
import { createHash, timingSafeEqual } from "node:crypto";
import { L2tpMessageType } from "./constants.js";
import { l2tpSecretBytes, type L2tpSecret } from "./hidden.js";

/** The messages that carry a Challenge Response: SCCRP (LNS answering) and SCCCN (LAC answering). */
export type ChallengeResponseCarrier = typeof L2tpMessageType.SCCRP | typeof L2tpMessageType.SCCCN;

/** RFC 2661 5.1.1: Response = MD5(Message Type as one octet || secret || Challenge), 16 octets. */
export function tunnelChallengeResponse(messageType: ChallengeResponseCarrier, secret: L2tpSecret, challenge: Uint8Array): Buffer {
  return createHash("md5")
    .update(Uint8Array.of(messageType))
    .update(l2tpSecretBytes(secret))
    .update(challenge)
    .digest();
}

/** Checks a received Challenge Response in constant time (RFC 2661 5.1.1: mismatch disallows the tunnel). */
export function verifyTunnelChallengeResponse(
  messageType: ChallengeResponseCarrier,
  secret: L2tpSecret,
  challenge: Uint8Array,
  response: Uint8Array,
): boolean {
  const expected = tunnelChallengeResponse(messageType, secret, challenge);
  return response.length === expected.length && timingSafeEqual(expected, response);
}
