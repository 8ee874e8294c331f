// L2TPv2 protocol numbers: control message types (RFC 2661 3.2), AVP attribute types (RFC 2661 4.4,
// RFC 3145), Result Code and Error Code values (RFC 2661 4.4.2) and the bit fields AVP values carry.
// Pure data, shared by the codec and the control plane.

/** RFC 2661 3.2: control message types. 0, 5 and 13 are reserved. */
export const L2tpMessageType = {
  SCCRQ: 1,
  SCCRP: 2,
  SCCCN: 3,
  StopCCN: 4,
  HELLO: 6,
  OCRQ: 7,
  OCRP: 8,
  OCCN: 9,
  ICRQ: 10,
  ICRP: 11,
  ICCN: 12,
  CDN: 14,
  WEN: 15,
  SLI: 16,
} as const;
export type L2tpMessageType = (typeof L2tpMessageType)[keyof typeof L2tpMessageType];

const MESSAGE_TYPE_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(L2tpMessageType).map(([k, v]) => [v, k]));

export function isL2tpMessageType(n: number): n is L2tpMessageType {
  return MESSAGE_TYPE_NAMES.has(n);
}

/** "SCCRQ", "ICCN", ... or "type-N" for a value RFC 2661 3.2 does not define. */
export function l2tpMessageTypeName(n: number): string {
  return MESSAGE_TYPE_NAMES.get(n) ?? `type-${n}`;
}

/** RFC 2661 4.4 (and RFC 3145 for 46): AVP attribute types with Vendor ID 0. 20 is reserved. */
export const AvpType = {
  MessageType: 0,
  ResultCode: 1,
  ProtocolVersion: 2,
  FramingCapabilities: 3,
  BearerCapabilities: 4,
  TieBreaker: 5,
  FirmwareRevision: 6,
  HostName: 7,
  VendorName: 8,
  AssignedTunnelId: 9,
  ReceiveWindowSize: 10,
  Challenge: 11,
  Q931CauseCode: 12,
  ChallengeResponse: 13,
  AssignedSessionId: 14,
  CallSerialNumber: 15,
  MinimumBps: 16,
  MaximumBps: 17,
  BearerType: 18,
  FramingType: 19,
  CalledNumber: 21,
  CallingNumber: 22,
  SubAddress: 23,
  TxConnectSpeed: 24,
  PhysicalChannelId: 25,
  InitialReceivedLcpConfreq: 26,
  LastSentLcpConfreq: 27,
  LastReceivedLcpConfreq: 28,
  ProxyAuthenType: 29,
  ProxyAuthenName: 30,
  ProxyAuthenChallenge: 31,
  ProxyAuthenId: 32,
  ProxyAuthenResponse: 33,
  CallErrors: 34,
  Accm: 35,
  RandomVector: 36,
  PrivateGroupId: 37,
  RxConnectSpeed: 38,
  SequencingRequired: 39,
  PppDisconnectCauseCode: 46,
} as const;
export type AvpType = (typeof AvpType)[keyof typeof AvpType];

/** RFC 2661 4.4.2: Result Code values in a StopCCN. */
export const StopCcnResultCode = {
  Reserved: 0,
  GeneralRequestToClear: 1,
  GeneralError: 2,
  ChannelExists: 3,
  NotAuthorized: 4,
  UnsupportedProtocolVersion: 5,
  ShuttingDown: 6,
  FsmError: 7,
} as const;
export type StopCcnResultCode = (typeof StopCcnResultCode)[keyof typeof StopCcnResultCode];

/** RFC 2661 4.4.2: Result Code values in a CDN. */
export const CdnResultCode = {
  Reserved: 0,
  LossOfCarrier: 1,
  GeneralError: 2,
  Administrative: 3,
  NoFacilitiesTemporary: 4,
  NoFacilitiesPermanent: 5,
  InvalidDestination: 6,
  NoCarrier: 7,
  Busy: 8,
  NoDialTone: 9,
  NotEstablishedInTime: 10,
  NoFramingDetected: 11,
} as const;
export type CdnResultCode = (typeof CdnResultCode)[keyof typeof CdnResultCode];

/** RFC 2661 4.4.2: General Error Codes, carried with Result Code 2 (general error). */
export const L2tpErrorCode = {
  NoGeneralError: 0,
  NoControlConnection: 1,
  LengthWrong: 2,
  FieldOutOfRange: 3,
  InsufficientResources: 4,
  InvalidSessionId: 5,
  VendorSpecific: 6,
  TryAnother: 7,
  UnknownMandatoryAvp: 8,
} as const;
export type L2tpErrorCode = (typeof L2tpErrorCode)[keyof typeof L2tpErrorCode];

/** Short texts for logs and `show` output (paraphrasing RFC 2661 4.4.2). */
export const STOPCCN_RESULT_TEXT: Readonly<Record<StopCcnResultCode, string>> = {
  0: "reserved",
  1: "general request to clear control connection",
  2: "general error (see error code)",
  3: "control channel already exists",
  4: "requester not authorized to establish a control channel",
  5: "protocol version not supported (error code gives the highest supported)",
  6: "requester is being shut down",
  7: "finite state machine error",
};

export const CDN_RESULT_TEXT: Readonly<Record<CdnResultCode, string>> = {
  0: "reserved",
  1: "loss of carrier",
  2: "general error (see error code)",
  3: "administrative reasons",
  4: "no appropriate facilities (temporary)",
  5: "no appropriate facilities (permanent)",
  6: "invalid destination",
  7: "no carrier detected",
  8: "busy signal",
  9: "no dial tone",
  10: "not established within the time allotted by the LAC",
  11: "connected but no appropriate framing detected",
};

export const L2TP_ERROR_CODE_TEXT: Readonly<Record<L2tpErrorCode, string>> = {
  0: "no general error",
  1: "no control connection exists yet for this LAC-LNS pair",
  2: "length is wrong",
  3: "a field value was out of range or a reserved field was non-zero",
  4: "insufficient resources to handle this operation now",
  5: "session ID invalid in this context",
  6: "generic vendor-specific error",
  7: "try another LNS",
  8: "unknown AVP with the M bit set",
};

/** RFC 2661 4.4.3 / 4.4.4: Framing Capabilities and Framing Type bits. */
export const FramingBits = { Sync: 0x1, Async: 0x2 } as const;

/** RFC 2661 4.4.3 / 4.4.4: Bearer Capabilities and Bearer Type bits. */
export const BearerBits = { Digital: 0x1, Analog: 0x2 } as const;

/** RFC 2661 4.4.5: Proxy Authen Type values. */
export const ProxyAuthenType = {
  Reserved: 0,
  Textual: 1,
  Chap: 2,
  Pap: 3,
  None: 4,
  MsChapV1: 5,
} as const;
export type ProxyAuthenType = (typeof ProxyAuthenType)[keyof typeof ProxyAuthenType];
