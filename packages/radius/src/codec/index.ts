// The RADIUS codec: framing, dictionary, signing, request builders, reply parser. Pure: no
// socket, no clock, no logger (STYLE.md). Written here rather than taken from the `radius` npm
// package, which throws on malformed input and signs accounting and DAE Message-Authenticators in
// the wrong order (docs/radius.md).
export * from "./result.js";
export * from "./constants.js";
export * from "./packet.js";
export * from "./ip.js";
export * from "./dictionary.js";
export * from "./crypto.js";
export * from "./request.js";
export * from "./reply.js";
