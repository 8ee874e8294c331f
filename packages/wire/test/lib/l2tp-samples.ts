// Realistic L2TPv2 sample messages, one or more per message type, plus a ZLB, a message with hidden
// AVPs and a data message carrying an LCP Configure-Request. Used as round-trip vectors, fuzz seeds
// and, by the tshark cross-check, as packets a real dissector must agree with.
import {
  AvpType,
  BearerBits,
  FramingBits,
  L2tpMessageType,
  ProxyAuthenType,
  encodeControlMessage,
  encodeL2tpDataMessage,
  tunnelChallengeResponse,
  type AvpValueMap,
  type AvpValues,
  type L2tpControlMessageInit,
  type L2tpEncodeOptions,
} from "../../src/index.js";
import { hex } from "./util.js";

export interface L2tpSample {
  readonly name: string;
  readonly bytes: Buffer;
  /** The control message type, "ZLB", or "data" for a data message. */
  readonly messageType: L2tpMessageType | "ZLB" | "data";
  /** The shared secret needed to reveal hidden AVPs, when the sample has some. */
  readonly secret?: string;
  /** For control messages and ZLBs: what was encoded, so tests can compare against our values. */
  readonly control?: ControlSample;
}

/** The tunnel secret the samples use for authentication and hiding. */
export const SAMPLE_SECRET = "lnsd-test-secret";


/** Challenge the LAC sends in its SCCRQ, and the one the LNS sends in its SCCRP. */
export const LAC_CHALLENGE = hex("a1b2c3d4e5f60718293a4b5c6d7e8f90");
export const LNS_CHALLENGE = hex("0f1e2d3c4b5a69788796a5b4c3d2e1f0");

/** LCP Configure-Request options: MRU 1492, Magic-Number 0x12345678 (RFC 1661 6.1, 6.4). */
const LCP_OPTIONS_LAC = hex("010405d4 050612345678");
/** LCP Configure-Request options: MRU 1500, Auth-Protocol CHAP MD5, Magic-Number (RFC 1661, RFC 1994). */
const LCP_OPTIONS_LNS = hex("010405dc 0305c22305 05068badf00d");

/** A value for every known AVP, typed per attribute so the list cannot miss one. */
export const EXAMPLE_AVP_VALUES: { readonly [K in AvpType]: AvpValueMap[K] } = {
  [AvpType.MessageType]: L2tpMessageType.HELLO,
  [AvpType.ResultCode]: { resultCode: 2, errorCode: 7, errorMessage: "Try another LNS" },
  [AvpType.ProtocolVersion]: { version: 1, revision: 0 },
  [AvpType.FramingCapabilities]: FramingBits.Sync | FramingBits.Async,
  [AvpType.BearerCapabilities]: BearerBits.Digital | BearerBits.Analog,
  [AvpType.TieBreaker]: 0x0123456789abcdefn,
  [AvpType.FirmwareRevision]: 0x0680,
  [AvpType.HostName]: "lac1.example.net",
  [AvpType.VendorName]: "Example Networks",
  [AvpType.AssignedTunnelId]: 4711,
  [AvpType.ReceiveWindowSize]: 8,
  [AvpType.Challenge]: LAC_CHALLENGE,
  [AvpType.Q931CauseCode]: { causeCode: 16, causeMsg: 0x45, advisory: "normal call clearing" },
  [AvpType.ChallengeResponse]: tunnelChallengeResponse(L2tpMessageType.SCCRP, SAMPLE_SECRET, LAC_CHALLENGE),
  [AvpType.AssignedSessionId]: 0x1234,
  [AvpType.CallSerialNumber]: 42,
  [AvpType.MinimumBps]: 9600,
  [AvpType.MaximumBps]: 100_000_000,
  [AvpType.BearerType]: BearerBits.Digital,
  [AvpType.FramingType]: FramingBits.Sync,
  [AvpType.CalledNumber]: "0800123456",
  [AvpType.CallingNumber]: "02071234567",
  [AvpType.SubAddress]: "12",
  [AvpType.TxConnectSpeed]: 80_000_000,
  [AvpType.PhysicalChannelId]: 0x00010203,
  [AvpType.InitialReceivedLcpConfreq]: LCP_OPTIONS_LAC,
  [AvpType.LastSentLcpConfreq]: LCP_OPTIONS_LNS,
  [AvpType.LastReceivedLcpConfreq]: LCP_OPTIONS_LAC,
  [AvpType.ProxyAuthenType]: ProxyAuthenType.Chap,
  [AvpType.ProxyAuthenName]: "alice@isp.example",
  [AvpType.ProxyAuthenChallenge]: hex("00112233445566778899aabbccddeeff"),
  [AvpType.ProxyAuthenId]: 1,
  [AvpType.ProxyAuthenResponse]: hex("ffeeddccbbaa99887766554433221100"),
  [AvpType.CallErrors]: { crcErrors: 1, framingErrors: 2, hardwareOverruns: 3, bufferOverruns: 4, timeoutErrors: 5, alignmentErrors: 0xffffffff },
  [AvpType.Accm]: { sendAccm: 0, receiveAccm: 0xffffffff },
  [AvpType.RandomVector]: hex("5a5a5a5a000102030405060708090a0b"),
  [AvpType.PrivateGroupId]: Buffer.from("wholesale-7", "latin1"),
  [AvpType.RxConnectSpeed]: 20_000_000,
  [AvpType.SequencingRequired]: true,
  [AvpType.PppDisconnectCauseCode]: { disconnectCode: 3, controlProtocol: 0xc021, direction: 1, message: "LCP Terminate-Request sent" },
};

/** Puts the example value of one AVP into a value set; returns it. */
export function addExampleAvp<K extends AvpType>(avps: AvpValues, type: K): AvpValueMap[K] {
  const value = EXAMPLE_AVP_VALUES[type];
  avps[type] = value;
  return value;
}

export interface ControlSample {
  readonly name: string;
  readonly msg: L2tpControlMessageInit;
  readonly opts?: L2tpEncodeOptions;
  readonly secret?: string;
}

function controlSamples(): ControlSample[] {
  const lacTunnel = 4711;
  const lnsTunnel = 1;
  const lacSession = 0x1234;
  const lnsSession = 17;
  return [
    {
      name: "SCCRQ",
      msg: {
        messageType: L2tpMessageType.SCCRQ,
        tunnelId: 0,
        sessionId: 0,
        ns: 0,
        nr: 0,
        avps: {
          [AvpType.ProtocolVersion]: { version: 1, revision: 0 },
          [AvpType.FramingCapabilities]: FramingBits.Sync | FramingBits.Async,
          [AvpType.BearerCapabilities]: BearerBits.Digital | BearerBits.Analog,
          [AvpType.TieBreaker]: 0x0123456789abcdefn,
          [AvpType.FirmwareRevision]: 0x0680,
          [AvpType.HostName]: "lac1.example.net",
          [AvpType.VendorName]: "Example Networks",
          [AvpType.AssignedTunnelId]: lacTunnel,
          [AvpType.ReceiveWindowSize]: 8,
          [AvpType.Challenge]: LAC_CHALLENGE,
        },
      },
    },
    {
      name: "SCCRP",
      msg: {
        messageType: L2tpMessageType.SCCRP,
        tunnelId: lacTunnel,
        sessionId: 0,
        ns: 0,
        nr: 1,
        avps: {
          [AvpType.ProtocolVersion]: { version: 1, revision: 0 },
          [AvpType.FramingCapabilities]: FramingBits.Sync | FramingBits.Async,
          [AvpType.BearerCapabilities]: 0,
          [AvpType.FirmwareRevision]: 0x0001,
          [AvpType.HostName]: "lns1.example.net",
          [AvpType.VendorName]: "lnsd",
          [AvpType.AssignedTunnelId]: lnsTunnel,
          [AvpType.ReceiveWindowSize]: 64,
          [AvpType.Challenge]: LNS_CHALLENGE,
          [AvpType.ChallengeResponse]: tunnelChallengeResponse(L2tpMessageType.SCCRP, SAMPLE_SECRET, LAC_CHALLENGE),
        },
      },
    },
    {
      name: "SCCCN",
      msg: {
        messageType: L2tpMessageType.SCCCN,
        tunnelId: lnsTunnel,
        sessionId: 0,
        ns: 1,
        nr: 1,
        avps: { [AvpType.ChallengeResponse]: tunnelChallengeResponse(L2tpMessageType.SCCCN, SAMPLE_SECRET, LNS_CHALLENGE) },
      },
    },
    {
      name: "StopCCN",
      msg: {
        messageType: L2tpMessageType.StopCCN,
        tunnelId: lacTunnel,
        sessionId: 0,
        ns: 5,
        nr: 7,
        avps: {
          [AvpType.AssignedTunnelId]: lnsTunnel,
          [AvpType.ResultCode]: { resultCode: 6, errorCode: 0, errorMessage: "LNS shutting down" },
        },
      },
    },
    { name: "HELLO", msg: { messageType: L2tpMessageType.HELLO, tunnelId: lacTunnel, sessionId: 0, ns: 9, nr: 12, avps: {} } },
    {
      name: "OCRQ",
      msg: {
        messageType: L2tpMessageType.OCRQ,
        tunnelId: lacTunnel,
        sessionId: 0,
        ns: 2,
        nr: 2,
        avps: {
          [AvpType.AssignedSessionId]: lnsSession,
          [AvpType.CallSerialNumber]: 1001,
          [AvpType.MinimumBps]: 9600,
          [AvpType.MaximumBps]: 64000,
          [AvpType.BearerType]: BearerBits.Digital,
          [AvpType.FramingType]: FramingBits.Sync,
          [AvpType.CalledNumber]: "0800123456",
          [AvpType.SubAddress]: "12",
        },
      },
    },
    {
      name: "OCRP",
      msg: {
        messageType: L2tpMessageType.OCRP,
        tunnelId: lnsTunnel,
        sessionId: lnsSession,
        ns: 2,
        nr: 3,
        avps: { [AvpType.AssignedSessionId]: lacSession, [AvpType.PhysicalChannelId]: 7 },
      },
    },
    {
      name: "OCCN",
      msg: {
        messageType: L2tpMessageType.OCCN,
        tunnelId: lnsTunnel,
        sessionId: lnsSession,
        ns: 3,
        nr: 3,
        avps: {
          [AvpType.TxConnectSpeed]: 64000,
          [AvpType.FramingType]: FramingBits.Sync,
          [AvpType.RxConnectSpeed]: 64000,
          [AvpType.SequencingRequired]: true,
        },
      },
    },
    {
      name: "ICRQ",
      msg: {
        messageType: L2tpMessageType.ICRQ,
        tunnelId: lnsTunnel,
        sessionId: 0,
        ns: 2,
        nr: 1,
        avps: {
          [AvpType.AssignedSessionId]: lacSession,
          [AvpType.CallSerialNumber]: 42,
          [AvpType.BearerType]: BearerBits.Digital,
          [AvpType.PhysicalChannelId]: 0x00010203,
          [AvpType.CallingNumber]: "02071234567",
          [AvpType.CalledNumber]: "0800123456",
        },
      },
    },
    {
      name: "ICRP",
      msg: { messageType: L2tpMessageType.ICRP, tunnelId: lacTunnel, sessionId: lacSession, ns: 1, nr: 3, avps: { [AvpType.AssignedSessionId]: lnsSession } },
    },
    {
      name: "ICCN",
      msg: {
        messageType: L2tpMessageType.ICCN,
        tunnelId: lnsTunnel,
        sessionId: lnsSession,
        ns: 3,
        nr: 2,
        avps: {
          [AvpType.TxConnectSpeed]: 80_000_000,
          [AvpType.FramingType]: FramingBits.Sync,
          [AvpType.RxConnectSpeed]: 20_000_000,
          [AvpType.InitialReceivedLcpConfreq]: LCP_OPTIONS_LAC,
          [AvpType.LastSentLcpConfreq]: LCP_OPTIONS_LNS,
          [AvpType.LastReceivedLcpConfreq]: LCP_OPTIONS_LAC,
          [AvpType.ProxyAuthenType]: ProxyAuthenType.Chap,
          [AvpType.ProxyAuthenName]: "alice@isp.example",
          [AvpType.ProxyAuthenChallenge]: hex("00112233445566778899aabbccddeeff"),
          [AvpType.ProxyAuthenId]: 1,
          [AvpType.ProxyAuthenResponse]: hex("ffeeddccbbaa99887766554433221100"),
          [AvpType.PrivateGroupId]: Buffer.from("wholesale-7", "latin1"),
        },
      },
    },
    {
      name: "ICCN-hidden",
      secret: SAMPLE_SECRET,
      msg: {
        messageType: L2tpMessageType.ICCN,
        tunnelId: lnsTunnel,
        sessionId: lnsSession,
        ns: 4,
        nr: 2,
        avps: {
          [AvpType.TxConnectSpeed]: 80_000_000,
          [AvpType.FramingType]: FramingBits.Sync,
          [AvpType.ProxyAuthenType]: ProxyAuthenType.Pap,
          [AvpType.ProxyAuthenName]: "bob@isp.example",
          [AvpType.ProxyAuthenResponse]: Buffer.from("correct horse battery staple", "latin1"),
          [AvpType.ProxyAuthenId]: 7,
        },
      },
      opts: {
        hide: {
          secret: SAMPLE_SECRET,
          randomVector: hex("c0ffee00112233445566778899aabbcc"),
          types: [AvpType.ProxyAuthenName, AvpType.ProxyAuthenResponse, AvpType.ProxyAuthenId],
          padding: { [AvpType.ProxyAuthenName]: hex("9e3779b97f4a7c15"), [AvpType.ProxyAuthenResponse]: hex("01") },
        },
      },
    },
    {
      name: "CDN",
      msg: {
        messageType: L2tpMessageType.CDN,
        tunnelId: lacTunnel,
        sessionId: lacSession,
        ns: 2,
        nr: 4,
        avps: {
          [AvpType.ResultCode]: { resultCode: 3, errorCode: 0, errorMessage: "Administrative disconnect" },
          [AvpType.AssignedSessionId]: lnsSession,
          [AvpType.Q931CauseCode]: { causeCode: 16, causeMsg: 0x45, advisory: "normal call clearing" },
          [AvpType.PppDisconnectCauseCode]: { disconnectCode: 3, controlProtocol: 0xc021, direction: 2, message: "LCP Terminate-Request sent" },
        },
      },
    },
    {
      name: "CDN-try-another",
      msg: {
        messageType: L2tpMessageType.CDN,
        tunnelId: lacTunnel,
        sessionId: lacSession,
        ns: 2,
        nr: 3,
        avps: { [AvpType.ResultCode]: { resultCode: 2, errorCode: 7, errorMessage: "Try another LNS" }, [AvpType.AssignedSessionId]: lnsSession },
      },
    },
    {
      name: "WEN",
      msg: {
        messageType: L2tpMessageType.WEN,
        tunnelId: lnsTunnel,
        sessionId: lnsSession,
        ns: 5,
        nr: 3,
        avps: { [AvpType.CallErrors]: { crcErrors: 3, framingErrors: 1, hardwareOverruns: 0, bufferOverruns: 0, timeoutErrors: 2, alignmentErrors: 0 } },
      },
    },
    {
      name: "SLI",
      msg: { messageType: L2tpMessageType.SLI, tunnelId: lacTunnel, sessionId: lacSession, ns: 3, nr: 6, avps: { [AvpType.Accm]: { sendAccm: 0, receiveAccm: 0xffffffff } } },
    },
    { name: "ZLB", msg: { messageType: "ZLB", tunnelId: lacTunnel, sessionId: 0, ns: 1, nr: 2 } },
  ];
}

/** A PPP frame in HDLC-like framing (RFC 1662): FF 03, LCP (c021) Configure-Request, id 1. */
export const LCP_CONFREQ_FRAME = Buffer.concat([hex("ff03 c021 01 01"), Buffer.from([0, 4 + LCP_OPTIONS_LAC.length]), LCP_OPTIONS_LAC]);

/** Every sample: all 14 control message types, a ZLB, hidden AVPs, and a data message. */
export function l2tpSamples(): L2tpSample[] {
  const out: L2tpSample[] = controlSamples().map((s) => {
    const bytes = encodeControlMessage(s.msg, s.opts ?? {});
    const sample = { name: s.name, bytes, messageType: s.msg.messageType, control: s };
    return s.secret === undefined ? sample : { ...sample, secret: s.secret };
  });
  out.push({ name: "data-lcp-confreq", bytes: encodeL2tpDataMessage({ tunnelId: 4711, sessionId: 0x1234, withLength: true, priority: true }, LCP_CONFREQ_FRAME), messageType: "data" });
  out.push({ name: "data-lcp-confreq-seq", bytes: encodeL2tpDataMessage({ tunnelId: 4711, sessionId: 0x1234, ns: 0 }, LCP_CONFREQ_FRAME), messageType: "data" });
  return out;
}
