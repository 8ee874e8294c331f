// RADIUS numbers, as the RFCs and IANA's radius-types registry assign them. Pure data.

/** Packet codes: RFC 2865 3, RFC 2866 3, RFC 5176 2.3. */
export const Code = {
  AccessRequest: 1,
  AccessAccept: 2,
  AccessReject: 3,
  AccountingRequest: 4,
  AccountingResponse: 5,
  AccessChallenge: 11,
  StatusServer: 12,
  DisconnectRequest: 40,
  DisconnectAck: 41,
  DisconnectNak: 42,
  CoaRequest: 43,
  CoaAck: 44,
  CoaNak: 45,
} as const;
export type Code = (typeof Code)[keyof typeof Code];

const CODE_NAMES = new Map<number, string>(Object.entries(Code).map(([k, v]) => [v, k]));

/** The RFC's name of a packet code, or "code N". */
export function codeName(code: number): string {
  const n = CODE_NAMES.get(code);
  return n === undefined ? `code ${code}` : n.replace(/([a-z])([A-Z])/g, "$1-$2").replace("Coa", "CoA");
}

export function isKnownCode(code: number): code is Code {
  return CODE_NAMES.has(code);
}

/** Attribute types: RFC 2865 5, RFC 2866 5, RFC 2869 5, RFC 3162 2, RFC 4818 3, RFC 5176 3. */
export const Attr = {
  UserName: 1,
  UserPassword: 2,
  ChapPassword: 3,
  NasIpAddress: 4,
  NasPort: 5,
  ServiceType: 6,
  FramedProtocol: 7,
  FramedIpAddress: 8,
  FramedIpNetmask: 9,
  FilterId: 11,
  FramedMtu: 12,
  ReplyMessage: 18,
  FramedRoute: 22,
  State: 24,
  Class: 25,
  VendorSpecific: 26,
  SessionTimeout: 27,
  IdleTimeout: 28,
  TerminationAction: 29,
  CalledStationId: 30,
  CallingStationId: 31,
  NasIdentifier: 32,
  ProxyState: 33,
  AcctStatusType: 40,
  AcctDelayTime: 41,
  AcctInputOctets: 42,
  AcctOutputOctets: 43,
  AcctSessionId: 44,
  AcctAuthentic: 45,
  AcctSessionTime: 46,
  AcctInputPackets: 47,
  AcctOutputPackets: 48,
  AcctTerminateCause: 49,
  AcctMultiSessionId: 50,
  AcctInputGigawords: 52,
  AcctOutputGigawords: 53,
  EventTimestamp: 55,
  ChapChallenge: 60,
  NasPortType: 61,
  ConnectInfo: 77,
  MessageAuthenticator: 80,
  AcctInterimInterval: 85,
  NasPortId: 87,
  NasIpv6Address: 95,
  FramedInterfaceId: 96,
  FramedIpv6Prefix: 97,
  FramedIpv6Route: 99,
  ErrorCause: 101,
  DelegatedIpv6Prefix: 123,
  /** Not IANA's: Ascend's DNS attributes as old Ascend servers sent them, outside a VSA. */
  LegacyAscendClientPrimaryDns: 135,
  LegacyAscendClientSecondaryDns: 136,
} as const;
export type Attr = (typeof Attr)[keyof typeof Attr];

/** SMI network management private enterprise codes of the vendors whose attributes lnsd reads. */
export const Vendor = {
  Cisco: 9,
  Microsoft: 311,
  Ascend: 529,
} as const;

/** Vendor attribute types (the vendors' own dictionaries; RFC 2548 2.7 for Microsoft's). */
export const VendorAttr = {
  CiscoAvPair: 1,
  MsPrimaryDnsServer: 28,
  MsSecondaryDnsServer: 29,
  AscendClientPrimaryDns: 135,
  AscendClientSecondaryDns: 136,
} as const;

/** Service-Type values, RFC 2865 5.6. */
export const ServiceType = { Framed: 2, AuthorizeOnly: 17 } as const;
/** Framed-Protocol values, RFC 2865 5.7. */
export const FramedProtocol = { PPP: 1 } as const;
/** NAS-Port-Type values, RFC 2865 5.41. */
export const NasPortType = { Virtual: 5 } as const;
/** Acct-Authentic values, RFC 2866 5.6. */
export const AcctAuthentic = { RADIUS: 1, Local: 2, Remote: 3 } as const;

/** Acct-Status-Type values, RFC 2866 5.1. */
export const AcctStatusType = {
  Start: 1,
  Stop: 2,
  InterimUpdate: 3,
  AccountingOn: 7,
  AccountingOff: 8,
} as const;
export type AcctStatusType = (typeof AcctStatusType)[keyof typeof AcctStatusType];

/** Error-Cause values, RFC 5176 3.5. */
export const ErrorCause = {
  ResidualSessionContextRemoved: 201,
  InvalidEapPacket: 202,
  UnsupportedAttribute: 401,
  MissingAttribute: 402,
  NasIdentificationMismatch: 403,
  InvalidRequest: 404,
  UnsupportedService: 405,
  UnsupportedExtension: 406,
  InvalidAttributeValue: 407,
  AdministrativelyProhibited: 501,
  RequestNotRoutable: 502,
  SessionContextNotFound: 503,
  SessionContextNotRemovable: 504,
  OtherProxyProcessingError: 505,
  ResourcesUnavailable: 506,
  RequestInitiated: 507,
  MultipleSessionSelectionUnsupported: 508,
} as const;
export type ErrorCause = (typeof ErrorCause)[keyof typeof ErrorCause];

/** RFC 2865 3: a packet is 20 to 4096 octets. */
export const HEADER_LENGTH = 20;
export const MAX_PACKET_LENGTH = 4096;
/** RFC 2865 5: an attribute's value is at most 253 octets. */
export const MAX_ATTRIBUTE_VALUE = 253;
/** RFC 2865 5.2: User-Password is at most 128 octets. */
export const MAX_PASSWORD_LENGTH = 128;
/**
 * More attributes than this in one packet is a flood, not a RADIUS server talking: FreeRADIUS's
 * own default (max_attributes) is 200. A 4096-octet packet could otherwise carry 2038 empty ones.
 */
export const MAX_ATTRIBUTES = 255;
