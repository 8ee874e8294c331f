// Public face of the L2TPv2 codec (RFC 2661, RFC 3145): header, AVP dictionary, control messages,
// hidden AVPs and tunnel authentication. Pure functions only.
export * from "./constants.js";
export * from "./header.js";
export * from "./avp-table.js";
export { decodeAvpValue, encodeAvpValue, type AvpValueError } from "./avp-values.js";
export { hideAvpValue, revealAvpValue, l2tpSecretBytes, type L2tpSecret, type AvpRevealError } from "./hidden.js";
export * from "./message.js";
export * from "./auth.js";
