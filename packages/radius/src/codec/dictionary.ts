// The RADIUS dictionary lnsd knows: for each attribute its name and value kind, with one generic
// validator (STYLE.md: protocol facts are data). Kinds are the data types of RFC 2865 5 and
// RFC 8044; lengths are theirs.
import { isUtf8 } from "node:buffer";
import { Attr, Vendor, VendorAttr } from "./constants.js";
import { decodeIpv6Prefix } from "./ip.js";

export type ValueKind = "text" | "octets" | "ipv4" | "integer" | "time" | "ipv6" | "ipv6prefix" | "ifid" | "vsa";

export interface AttributeSpec {
  readonly name: string;
  readonly kind: ValueKind;
}

const d = (name: string, kind: ValueKind): AttributeSpec => ({ name, kind });

export const DICTIONARY: ReadonlyMap<number, AttributeSpec> = new Map<number, AttributeSpec>([
  [Attr.UserName, d("User-Name", "text")],
  [Attr.UserPassword, d("User-Password", "octets")],
  [Attr.ChapPassword, d("CHAP-Password", "octets")],
  [Attr.NasIpAddress, d("NAS-IP-Address", "ipv4")],
  [Attr.NasPort, d("NAS-Port", "integer")],
  [Attr.ServiceType, d("Service-Type", "integer")],
  [Attr.FramedProtocol, d("Framed-Protocol", "integer")],
  [Attr.FramedIpAddress, d("Framed-IP-Address", "ipv4")],
  [Attr.FramedIpNetmask, d("Framed-IP-Netmask", "ipv4")],
  [Attr.FilterId, d("Filter-Id", "text")],
  [Attr.FramedMtu, d("Framed-MTU", "integer")],
  [Attr.ReplyMessage, d("Reply-Message", "text")],
  [Attr.FramedRoute, d("Framed-Route", "text")],
  [Attr.State, d("State", "octets")],
  [Attr.Class, d("Class", "octets")],
  [Attr.VendorSpecific, d("Vendor-Specific", "vsa")],
  [Attr.SessionTimeout, d("Session-Timeout", "integer")],
  [Attr.IdleTimeout, d("Idle-Timeout", "integer")],
  [Attr.TerminationAction, d("Termination-Action", "integer")],
  [Attr.CalledStationId, d("Called-Station-Id", "text")],
  [Attr.CallingStationId, d("Calling-Station-Id", "text")],
  [Attr.NasIdentifier, d("NAS-Identifier", "text")],
  [Attr.ProxyState, d("Proxy-State", "octets")],
  [Attr.AcctStatusType, d("Acct-Status-Type", "integer")],
  [Attr.AcctDelayTime, d("Acct-Delay-Time", "integer")],
  [Attr.AcctInputOctets, d("Acct-Input-Octets", "integer")],
  [Attr.AcctOutputOctets, d("Acct-Output-Octets", "integer")],
  [Attr.AcctSessionId, d("Acct-Session-Id", "text")],
  [Attr.AcctAuthentic, d("Acct-Authentic", "integer")],
  [Attr.AcctSessionTime, d("Acct-Session-Time", "integer")],
  [Attr.AcctInputPackets, d("Acct-Input-Packets", "integer")],
  [Attr.AcctOutputPackets, d("Acct-Output-Packets", "integer")],
  [Attr.AcctTerminateCause, d("Acct-Terminate-Cause", "integer")],
  [Attr.AcctMultiSessionId, d("Acct-Multi-Session-Id", "text")],
  [Attr.AcctInputGigawords, d("Acct-Input-Gigawords", "integer")],
  [Attr.AcctOutputGigawords, d("Acct-Output-Gigawords", "integer")],
  [Attr.EventTimestamp, d("Event-Timestamp", "time")],
  [Attr.ChapChallenge, d("CHAP-Challenge", "octets")],
  [Attr.NasPortType, d("NAS-Port-Type", "integer")],
  [Attr.ConnectInfo, d("Connect-Info", "text")],
  [Attr.MessageAuthenticator, d("Message-Authenticator", "octets")],
  [Attr.AcctInterimInterval, d("Acct-Interim-Interval", "integer")],
  [Attr.NasPortId, d("NAS-Port-Id", "text")],
  [Attr.NasIpv6Address, d("NAS-IPv6-Address", "ipv6")],
  [Attr.FramedInterfaceId, d("Framed-Interface-Id", "ifid")],
  [Attr.FramedIpv6Prefix, d("Framed-IPv6-Prefix", "ipv6prefix")],
  [Attr.FramedIpv6Route, d("Framed-IPv6-Route", "text")],
  [Attr.ErrorCause, d("Error-Cause", "integer")],
  [Attr.DelegatedIpv6Prefix, d("Delegated-IPv6-Prefix", "ipv6prefix")],
  [Attr.LegacyAscendClientPrimaryDns, d("X-Ascend-Client-Primary-DNS", "ipv4")],
  [Attr.LegacyAscendClientSecondaryDns, d("X-Ascend-Client-Secondary-DNS", "ipv4")],
]);

const vkey = (vendorId: number, type: number): string => `${vendorId}:${type}`;

export const VENDOR_DICTIONARY: ReadonlyMap<string, AttributeSpec> = new Map<string, AttributeSpec>([
  [vkey(Vendor.Cisco, VendorAttr.CiscoAvPair), d("Cisco-AVPair", "text")],
  [vkey(Vendor.Microsoft, VendorAttr.MsPrimaryDnsServer), d("MS-Primary-DNS-Server", "ipv4")],
  [vkey(Vendor.Microsoft, VendorAttr.MsSecondaryDnsServer), d("MS-Secondary-DNS-Server", "ipv4")],
  [vkey(Vendor.Ascend, VendorAttr.AscendClientPrimaryDns), d("Ascend-Client-Primary-DNS", "ipv4")],
  [vkey(Vendor.Ascend, VendorAttr.AscendClientSecondaryDns), d("Ascend-Client-Secondary-DNS", "ipv4")],
]);

export function attributeSpec(type: number, vendorId?: number): AttributeSpec | undefined {
  return vendorId === undefined ? DICTIONARY.get(type) : VENDOR_DICTIONARY.get(vkey(vendorId, type));
}

export function attributeName(type: number, vendorId?: number): string {
  return attributeSpec(type, vendorId)?.name ?? (vendorId === undefined ? `Attr-${type}` : `Vendor-${vendorId}-Attr-${type}`);
}

/** Whether a value has the length and form its kind requires (RFC 2865 5, RFC 3162 2, RFC 8044). */
export function validValue(kind: ValueKind, v: Buffer): boolean {
  switch (kind) {
    case "text":
      // RFC 2865 5: UTF-8. Servers do send empty strings; they do no harm.
      return isUtf8(v);
    case "octets":
      return true;
    case "ipv4":
    case "integer":
    case "time":
      return v.length === 4;
    case "ipv6":
      return v.length === 16;
    case "ifid":
      return v.length === 8;
    case "ipv6prefix":
      return decodeIpv6Prefix(v) !== undefined;
    case "vsa":
      return v.length >= 4;
    default: {
      const never: never = kind;
      return never;
    }
  }
}
