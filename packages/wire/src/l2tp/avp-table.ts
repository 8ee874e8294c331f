// The L2TPv2 AVP dictionary and per-message AVP rules as data (STYLE.md "Protocol facts are data"):
// for each attribute type its M-bit rule, whether it may be hidden, its value kind and its length;
// for each message type the AVPs RFC 2661 section 6 requires and allows. The TS value type of each
// AVP is derived from its kind, so the table and the types cannot drift apart.
import { AvpType, FramingBits, L2tpMessageType } from "./constants.js";

/** How an AVP value is laid out; one codec per kind (avp-values.ts). */
export type AvpValueKind =
  | "message-type"
  | "result-code"
  | "protocol-version"
  | "u16"
  | "u32"
  | "capabilities"
  | "u64"
  | "string"
  | "bytes"
  | "q931"
  | "call-errors"
  | "accm"
  | "ppp-disconnect-cause"
  | "empty";

/** RFC 2661 4.4.2: Result Code AVP value. */
export interface ResultCodeValue {
  readonly resultCode: number;
  readonly errorCode?: number;
  /** Octets as latin1 (RFC 2661 4.4.2 asks for UTF-8 text; latin1 keeps every byte). */
  readonly errorMessage?: string;
}

/** RFC 2661 4.4.3: Protocol Version AVP value (1.0 for RFC 2661). */
export interface ProtocolVersionValue {
  readonly version: number;
  readonly revision: number;
}

/** RFC 2661 4.4.3: Q.931 Cause Code AVP value. */
export interface Q931CauseValue {
  readonly causeCode: number;
  readonly causeMsg: number;
  readonly advisory?: string;
}

/** RFC 2661 4.4.6: Call Errors AVP value (the 2-byte reserved field is sent as 0, ignored). */
export interface CallErrorsValue {
  readonly crcErrors: number;
  readonly framingErrors: number;
  readonly hardwareOverruns: number;
  readonly bufferOverruns: number;
  readonly timeoutErrors: number;
  readonly alignmentErrors: number;
}

/** RFC 2661 4.4.6: ACCM AVP value (the 2-byte reserved field is sent as 0, ignored). */
export interface AccmValue {
  readonly sendAccm: number;
  readonly receiveAccm: number;
}

/** RFC 3145 3.1: PPP Disconnect Cause Code AVP value. */
export interface PppDisconnectCauseValue {
  readonly disconnectCode: number;
  /** PPP protocol number of the control protocol concerned (e.g. 0xc021 LCP), 0 if none. */
  readonly controlProtocol: number;
  readonly direction: number;
  readonly message?: string;
}

/** The TS type a value of each kind decodes to and is encoded from. */
export interface AvpKindValueMap {
  "message-type": number;
  "result-code": ResultCodeValue;
  "protocol-version": ProtocolVersionValue;
  u16: number;
  u32: number;
  /** RFC 2661 4.4.3: a 32-bit mask; 2 octets read as their value (l2tpns's test LAC sends that). */
  capabilities: number;
  u64: bigint;
  string: string;
  bytes: Uint8Array;
  q931: Q931CauseValue;
  "call-errors": CallErrorsValue;
  accm: AccmValue;
  "ppp-disconnect-cause": PppDisconnectCauseValue;
  /** Presence-only AVPs (Sequencing Required). */
  empty: true;
}

/** RFC 2661 4.1: the M bit an AVP is sent with. */
export type AvpMBitRule = "set" | "clear" | "either";

export interface AvpSpec {
  readonly name: string;
  readonly mBit: AvpMBitRule;
  /** RFC 2661 4.3: whether the H bit may be set. */
  readonly mayHide: boolean;
  readonly kind: AvpValueKind;
  /** Value octets (the AVP Length field is 6 more), after un-hiding. */
  readonly minLength: number;
  readonly maxLength: number;
  /** RFC 2661 5.3 / 4.4.3 / 4.4.4: 0 MUST NOT be used as an assigned ID. */
  readonly nonZero?: boolean;
  readonly rfc: string;
}

/** Largest AVP value: the AVP Length field is 10 bits and includes the 6-byte AVP header. */
export const AVP_MAX_VALUE_LENGTH = 1023 - 6;
const ANY = AVP_MAX_VALUE_LENGTH;

/** The AVP dictionary: every attribute of RFC 2661 4.4 and RFC 3145, vendor ID 0. */
export const AVP_TABLE = {
  [AvpType.MessageType]: { name: "Message Type", mBit: "set", mayHide: false, kind: "message-type", minLength: 2, maxLength: 2, rfc: "RFC 2661 4.4.1" },
  [AvpType.RandomVector]: { name: "Random Vector", mBit: "set", mayHide: false, kind: "bytes", minLength: 1, maxLength: ANY, rfc: "RFC 2661 4.4.1" },
  [AvpType.ResultCode]: { name: "Result Code", mBit: "set", mayHide: false, kind: "result-code", minLength: 2, maxLength: ANY, rfc: "RFC 2661 4.4.2" },
  [AvpType.ProtocolVersion]: { name: "Protocol Version", mBit: "set", mayHide: false, kind: "protocol-version", minLength: 2, maxLength: 2, rfc: "RFC 2661 4.4.3" },
  [AvpType.FramingCapabilities]: { name: "Framing Capabilities", mBit: "set", mayHide: true, kind: "capabilities", minLength: 2, maxLength: 4, rfc: "RFC 2661 4.4.3" },
  [AvpType.BearerCapabilities]: { name: "Bearer Capabilities", mBit: "set", mayHide: true, kind: "capabilities", minLength: 2, maxLength: 4, rfc: "RFC 2661 4.4.3" },
  [AvpType.TieBreaker]: { name: "Tie Breaker", mBit: "clear", mayHide: false, kind: "u64", minLength: 8, maxLength: 8, rfc: "RFC 2661 4.4.3" },
  [AvpType.FirmwareRevision]: { name: "Firmware Revision", mBit: "clear", mayHide: true, kind: "u16", minLength: 2, maxLength: 2, rfc: "RFC 2661 4.4.3" },
  [AvpType.HostName]: { name: "Host Name", mBit: "set", mayHide: false, kind: "string", minLength: 1, maxLength: ANY, rfc: "RFC 2661 4.4.3" },
  [AvpType.VendorName]: { name: "Vendor Name", mBit: "clear", mayHide: true, kind: "string", minLength: 0, maxLength: ANY, rfc: "RFC 2661 4.4.3" },
  [AvpType.AssignedTunnelId]: { name: "Assigned Tunnel ID", mBit: "set", mayHide: true, kind: "u16", minLength: 2, maxLength: 2, nonZero: true, rfc: "RFC 2661 4.4.3" },
  [AvpType.ReceiveWindowSize]: { name: "Receive Window Size", mBit: "set", mayHide: false, kind: "u16", minLength: 2, maxLength: 2, rfc: "RFC 2661 4.4.3" },
  [AvpType.Challenge]: { name: "Challenge", mBit: "set", mayHide: true, kind: "bytes", minLength: 1, maxLength: ANY, rfc: "RFC 2661 4.4.3" },
  [AvpType.Q931CauseCode]: { name: "Q.931 Cause Code", mBit: "set", mayHide: false, kind: "q931", minLength: 3, maxLength: ANY, rfc: "RFC 2661 4.4.3" },
  [AvpType.ChallengeResponse]: { name: "Challenge Response", mBit: "set", mayHide: true, kind: "bytes", minLength: 16, maxLength: 16, rfc: "RFC 2661 4.4.3" },
  [AvpType.AssignedSessionId]: { name: "Assigned Session ID", mBit: "set", mayHide: true, kind: "u16", minLength: 2, maxLength: 2, nonZero: true, rfc: "RFC 2661 4.4.4" },
  [AvpType.CallSerialNumber]: { name: "Call Serial Number", mBit: "set", mayHide: true, kind: "u32", minLength: 4, maxLength: 4, rfc: "RFC 2661 4.4.4" },
  [AvpType.MinimumBps]: { name: "Minimum BPS", mBit: "set", mayHide: true, kind: "u32", minLength: 4, maxLength: 4, rfc: "RFC 2661 4.4.4" },
  [AvpType.MaximumBps]: { name: "Maximum BPS", mBit: "set", mayHide: true, kind: "u32", minLength: 4, maxLength: 4, rfc: "RFC 2661 4.4.4" },
  [AvpType.BearerType]: { name: "Bearer Type", mBit: "set", mayHide: true, kind: "u32", minLength: 4, maxLength: 4, rfc: "RFC 2661 4.4.4" },
  [AvpType.FramingType]: { name: "Framing Type", mBit: "set", mayHide: true, kind: "u32", minLength: 4, maxLength: 4, rfc: "RFC 2661 4.4.4" },
  [AvpType.CalledNumber]: { name: "Called Number", mBit: "set", mayHide: true, kind: "string", minLength: 0, maxLength: ANY, rfc: "RFC 2661 4.4.4" },
  [AvpType.CallingNumber]: { name: "Calling Number", mBit: "set", mayHide: true, kind: "string", minLength: 0, maxLength: ANY, rfc: "RFC 2661 4.4.4" },
  [AvpType.SubAddress]: { name: "Sub-Address", mBit: "set", mayHide: true, kind: "string", minLength: 0, maxLength: ANY, rfc: "RFC 2661 4.4.4" },
  [AvpType.TxConnectSpeed]: { name: "(Tx) Connect Speed", mBit: "set", mayHide: true, kind: "u32", minLength: 4, maxLength: 4, rfc: "RFC 2661 4.4.4" },
  [AvpType.RxConnectSpeed]: { name: "Rx Connect Speed", mBit: "clear", mayHide: true, kind: "u32", minLength: 4, maxLength: 4, rfc: "RFC 2661 4.4.4" },
  [AvpType.PhysicalChannelId]: { name: "Physical Channel ID", mBit: "clear", mayHide: true, kind: "u32", minLength: 4, maxLength: 4, rfc: "RFC 2661 4.4.4" },
  [AvpType.PrivateGroupId]: { name: "Private Group ID", mBit: "clear", mayHide: true, kind: "bytes", minLength: 0, maxLength: ANY, rfc: "RFC 2661 4.4.4" },
  [AvpType.SequencingRequired]: { name: "Sequencing Required", mBit: "set", mayHide: false, kind: "empty", minLength: 0, maxLength: 0, rfc: "RFC 2661 4.4.4" },
  [AvpType.InitialReceivedLcpConfreq]: { name: "Initial Received LCP CONFREQ", mBit: "clear", mayHide: true, kind: "bytes", minLength: 0, maxLength: ANY, rfc: "RFC 2661 4.4.5" },
  [AvpType.LastSentLcpConfreq]: { name: "Last Sent LCP CONFREQ", mBit: "clear", mayHide: true, kind: "bytes", minLength: 0, maxLength: ANY, rfc: "RFC 2661 4.4.5" },
  [AvpType.LastReceivedLcpConfreq]: { name: "Last Received LCP CONFREQ", mBit: "clear", mayHide: true, kind: "bytes", minLength: 0, maxLength: ANY, rfc: "RFC 2661 4.4.5" },
  [AvpType.ProxyAuthenType]: { name: "Proxy Authen Type", mBit: "clear", mayHide: true, kind: "u16", minLength: 2, maxLength: 2, rfc: "RFC 2661 4.4.5" },
  [AvpType.ProxyAuthenName]: { name: "Proxy Authen Name", mBit: "clear", mayHide: true, kind: "string", minLength: 0, maxLength: ANY, rfc: "RFC 2661 4.4.5" },
  [AvpType.ProxyAuthenChallenge]: { name: "Proxy Authen Challenge", mBit: "clear", mayHide: true, kind: "bytes", minLength: 1, maxLength: ANY, rfc: "RFC 2661 4.4.5" },
  [AvpType.ProxyAuthenId]: { name: "Proxy Authen ID", mBit: "clear", mayHide: true, kind: "u16", minLength: 2, maxLength: 2, rfc: "RFC 2661 4.4.5" },
  [AvpType.ProxyAuthenResponse]: { name: "Proxy Authen Response", mBit: "clear", mayHide: true, kind: "bytes", minLength: 0, maxLength: ANY, rfc: "RFC 2661 4.4.5" },
  [AvpType.CallErrors]: { name: "Call Errors", mBit: "set", mayHide: true, kind: "call-errors", minLength: 26, maxLength: 26, rfc: "RFC 2661 4.4.6" },
  [AvpType.Accm]: { name: "ACCM", mBit: "set", mayHide: true, kind: "accm", minLength: 10, maxLength: 10, rfc: "RFC 2661 4.4.6" },
  [AvpType.PppDisconnectCauseCode]: { name: "PPP Disconnect Cause Code", mBit: "clear", mayHide: true, kind: "ppp-disconnect-cause", minLength: 5, maxLength: ANY, rfc: "RFC 3145 3.1" },
} as const satisfies { readonly [K in AvpType]: AvpSpec };

/** The TS value type of every known AVP, derived from its kind in AVP_TABLE. */
export type AvpValueMap = { [K in AvpType]: AvpKindValueMap[(typeof AVP_TABLE)[K]["kind"]] };

/** A set of known AVP values, at most one per type. */
export type AvpValues = { [K in AvpType]?: AvpValueMap[K] };

const AVP_SPECS: ReadonlyMap<number, AvpSpec> = new Map(Object.values(AvpType).map((t) => [t, AVP_TABLE[t]]));

export function isKnownAvpType(n: number): n is AvpType {
  return AVP_SPECS.has(n);
}

export function avpSpec(type: AvpType): AvpSpec {
  return AVP_TABLE[type];
}

/** "Host Name", or "AVP N" for an attribute type not in the table. */
export function avpName(type: number): string {
  return AVP_SPECS.get(type)?.name ?? `AVP ${type}`;
}

/** Every known type in ascending order: the order the encoder writes them in. */
export const AVP_TYPES_ASCENDING: readonly AvpType[] = Object.values(AvpType).sort((a, b) => a - b);

/** Whether an RFC 2661 4.1 failure in this message tears down the tunnel or one session. */
export type L2tpScope = "tunnel" | "session";

export interface L2tpMessageSpec {
  readonly name: string;
  readonly scope: L2tpScope;
  readonly required: readonly AvpType[];
  readonly optional: readonly AvpType[];
  /**
   * Required AVPs lnsd can do without, as l2tpns does (its own test LAC leaves them out): a message
   * missing one is accepted, with the value in `defaults` if there is one, and the control plane
   * logs it. Every other required AVP missing is an error.
   */
  readonly mayBeMissing?: readonly AvpType[];
  readonly defaults?: AvpValues;
  readonly rfc: string;
}

/** RFC 2661 4.4.1: Message Type (first) and Random Vector (before any hidden AVP) may be in any message. */
export const AVPS_IN_ANY_MESSAGE: readonly AvpType[] = [AvpType.MessageType, AvpType.RandomVector];

const A = AvpType;

/** RFC 2661 section 6: the AVPs each control message MUST carry and MAY carry. */
export const L2TP_MESSAGE_TABLE = {
  // RFC 2661 6.1 Start-Control-Connection-Request.
  [L2tpMessageType.SCCRQ]: {
    name: "SCCRQ",
    scope: "tunnel",
    required: [A.MessageType, A.ProtocolVersion, A.HostName, A.FramingCapabilities, A.AssignedTunnelId],
    optional: [A.BearerCapabilities, A.ReceiveWindowSize, A.Challenge, A.TieBreaker, A.FirmwareRevision, A.VendorName],
    rfc: "RFC 2661 6.1",
  },
  // RFC 2661 6.2 Start-Control-Connection-Reply.
  [L2tpMessageType.SCCRP]: {
    name: "SCCRP",
    scope: "tunnel",
    required: [A.MessageType, A.ProtocolVersion, A.FramingCapabilities, A.HostName, A.AssignedTunnelId],
    optional: [A.BearerCapabilities, A.FirmwareRevision, A.VendorName, A.ReceiveWindowSize, A.Challenge, A.ChallengeResponse],
    rfc: "RFC 2661 6.2",
  },
  // RFC 2661 6.3 Start-Control-Connection-Connected.
  [L2tpMessageType.SCCCN]: {
    name: "SCCCN",
    scope: "tunnel",
    required: [A.MessageType],
    optional: [A.ChallengeResponse],
    rfc: "RFC 2661 6.3",
  },
  // RFC 2661 6.4 Stop-Control-Connection-Notification.
  [L2tpMessageType.StopCCN]: {
    name: "StopCCN",
    scope: "tunnel",
    required: [A.MessageType, A.AssignedTunnelId, A.ResultCode],
    optional: [],
    // The header names the tunnel, and it closes whatever the reason (recorded as result 0).
    mayBeMissing: [A.AssignedTunnelId, A.ResultCode],
    rfc: "RFC 2661 6.4",
  },
  // RFC 2661 6.5 Hello (Session ID 0 in the header).
  [L2tpMessageType.HELLO]: {
    name: "HELLO",
    scope: "tunnel",
    required: [A.MessageType],
    optional: [],
    rfc: "RFC 2661 6.5",
  },
  // RFC 2661 6.9 Outgoing-Call-Request.
  [L2tpMessageType.OCRQ]: {
    name: "OCRQ",
    scope: "session",
    required: [A.MessageType, A.AssignedSessionId, A.CallSerialNumber, A.MinimumBps, A.MaximumBps, A.BearerType, A.FramingType, A.CalledNumber],
    optional: [A.SubAddress],
    rfc: "RFC 2661 6.9",
  },
  // RFC 2661 6.10 Outgoing-Call-Reply.
  [L2tpMessageType.OCRP]: {
    name: "OCRP",
    scope: "session",
    required: [A.MessageType, A.AssignedSessionId],
    optional: [A.PhysicalChannelId],
    rfc: "RFC 2661 6.10",
  },
  // RFC 2661 6.11 Outgoing-Call-Connected.
  [L2tpMessageType.OCCN]: {
    name: "OCCN",
    scope: "session",
    required: [A.MessageType, A.TxConnectSpeed, A.FramingType],
    optional: [A.RxConnectSpeed, A.SequencingRequired],
    rfc: "RFC 2661 6.11",
  },
  // RFC 2661 6.6 Incoming-Call-Request.
  [L2tpMessageType.ICRQ]: {
    name: "ICRQ",
    scope: "session",
    required: [A.MessageType, A.AssignedSessionId, A.CallSerialNumber],
    optional: [A.BearerType, A.PhysicalChannelId, A.CallingNumber, A.CalledNumber, A.SubAddress],
    // RFC 2661 4.4.4: the Call Serial Number only ties the two ends' logs together.
    mayBeMissing: [A.CallSerialNumber],
    rfc: "RFC 2661 6.6",
  },
  // RFC 2661 6.7 Incoming-Call-Reply.
  [L2tpMessageType.ICRP]: {
    name: "ICRP",
    scope: "session",
    required: [A.MessageType, A.AssignedSessionId],
    optional: [],
    rfc: "RFC 2661 6.7",
  },
  // RFC 2661 6.8 Incoming-Call-Connected (proxy LCP and proxy authentication, RFC 2661 4.4.5).
  [L2tpMessageType.ICCN]: {
    name: "ICCN",
    scope: "session",
    required: [A.MessageType, A.TxConnectSpeed, A.FramingType],
    optional: [
      A.InitialReceivedLcpConfreq,
      A.LastSentLcpConfreq,
      A.LastReceivedLcpConfreq,
      A.ProxyAuthenType,
      A.ProxyAuthenName,
      A.ProxyAuthenChallenge,
      A.ProxyAuthenId,
      A.ProxyAuthenResponse,
      A.PrivateGroupId,
      A.RxConnectSpeed,
      A.SequencingRequired,
    ],
    // The LAC's own link, which lnsd only reports. No speed is invented (no RADIUS Connect-Info,
    // as l2tpns); the framing is taken as synchronous (RFC 2661 4.4.4 bit 0), as l2tpns's ICCN says.
    mayBeMissing: [A.TxConnectSpeed, A.FramingType],
    defaults: { [A.FramingType]: FramingBits.Sync },
    rfc: "RFC 2661 6.8",
  },
  // RFC 2661 6.12 Call-Disconnect-Notify; PPP Disconnect Cause Code from RFC 3145 3.1.
  [L2tpMessageType.CDN]: {
    name: "CDN",
    scope: "session",
    required: [A.MessageType, A.ResultCode, A.AssignedSessionId],
    optional: [A.Q931CauseCode, A.PppDisconnectCauseCode],
    // The call ends whatever the reason; without one it is recorded as result 0.
    mayBeMissing: [A.ResultCode],
    rfc: "RFC 2661 6.12, RFC 3145 3.1",
  },
  // RFC 2661 6.13 WAN-Error-Notify.
  [L2tpMessageType.WEN]: {
    name: "WEN",
    scope: "session",
    required: [A.MessageType, A.CallErrors],
    optional: [],
    rfc: "RFC 2661 6.13",
  },
  // RFC 2661 6.14 Set-Link-Info.
  [L2tpMessageType.SLI]: {
    name: "SLI",
    scope: "session",
    required: [A.MessageType, A.Accm],
    optional: [],
    rfc: "RFC 2661 6.14",
  },
} as const satisfies { readonly [M in L2tpMessageType]: L2tpMessageSpec };

export function l2tpMessageSpec(type: L2tpMessageType): L2tpMessageSpec {
  return L2TP_MESSAGE_TABLE[type];
}

/** Whether RFC 2661 section 6 (or 4.4.1 for Message Type / Random Vector) allows this AVP in this message. */
export function isAvpAllowed(messageType: L2tpMessageType, type: AvpType): boolean {
  const spec: L2tpMessageSpec = L2TP_MESSAGE_TABLE[messageType];
  return AVPS_IN_ANY_MESSAGE.includes(type) || spec.required.includes(type) || spec.optional.includes(type);
}
