// A tiny RADIUS server for tests, over real or in-memory UDP: it decodes requests with the
// package's codec and answers as a script says, including the wrong ways (no
// Message-Authenticator, a bad authenticator, another identifier) that the client must refuse.
import type { PeerAddress, UdpEndpoint, UdpEndpointFactory } from "@lnsd/io";
import {
  Attr,
  Code,
  decodePacket,
  revealPassword,
  signResponse,
  type RadiusAttribute,
  type RadiusPacket,
} from "../../src/index.js";

export interface Answer {
  readonly code: number;
  readonly attributes?: readonly RadiusAttribute[];
  /** Leave Message-Authenticator out. */
  readonly noMessageAuthenticator?: boolean;
  /** Sign with this secret instead of the right one. */
  readonly secret?: string;
  /** Flip a bit of the Response Authenticator. */
  readonly corruptAuthenticator?: boolean;
  /** Flip a bit of the Message-Authenticator, then sign the packet properly. */
  readonly corruptMessageAuthenticator?: boolean;
  /** Answer with this identifier. */
  readonly identifier?: number;
  /** Send the answer twice (a replay). */
  readonly twice?: boolean;
}

export type Script = (req: RadiusPacket, from: PeerAddress, raw: Buffer) => Answer | undefined;

export class FakeRadiusServer {
  readonly received: RadiusPacket[] = [];
  readonly sent: Buffer[] = [];
  script: Script;

  private constructor(
    private readonly sock: UdpEndpoint,
    private readonly secret: string,
    script: Script,
  ) {
    this.script = script;
    sock.onMessage((raw, from) => {
      this.onMessage(raw, from);
    });
  }

  static async start(udp: UdpEndpointFactory, address: string, port: number, secret: string, script: Script): Promise<FakeRadiusServer> {
    return new FakeRadiusServer(await udp.bind(address, port), secret, script);
  }

  get local(): PeerAddress {
    return this.sock.local;
  }

  /** The clear password of an Access-Request this server received. */
  password(req: RadiusPacket): string | undefined {
    const hidden = req.attributes.find((a) => a.type === Attr.UserPassword);
    if (hidden === undefined) return undefined;
    return revealPassword(hidden.value, this.secret, req.authenticator)?.toString("utf8");
  }

  close(): void {
    this.sock.close();
  }

  private onMessage(raw: Buffer, from: PeerAddress): void {
    const d = decodePacket(raw);
    if (!d.ok) return;
    this.received.push(d.value);
    const a = this.script(d.value, from, raw);
    if (a === undefined) return;
    const out = this.build(d.value, a);
    this.sent.push(out);
    this.sock.send(out, from);
    if (a.twice === true) this.sock.send(out, from);
  }

  build(req: RadiusPacket, a: Answer): Buffer {
    const identifier = a.identifier ?? req.identifier;
    const secret = a.secret ?? this.secret;
    const attributes = a.attributes ?? [];
    let out = signResponse({ code: a.code, identifier, attributes, secret, requestAuthenticator: req.authenticator, messageAuthenticator: a.noMessageAuthenticator !== true });
    if (a.corruptMessageAuthenticator === true) {
      // Damage the Message-Authenticator, then sign the rest properly around it.
      const d = decodePacket(out);
      if (!d.ok) throw new Error("cannot re-decode");
      const attrs = d.value.attributes.map((x) => (x.type === Attr.MessageAuthenticator ? { type: x.type, value: Buffer.from(x.value.map((b) => b ^ 0x55)) } : x));
      out = signResponse({ code: a.code, identifier, attributes: attrs, secret, requestAuthenticator: req.authenticator, messageAuthenticator: false });
    }
    if (a.corruptAuthenticator === true) out[4] = (out[4] ?? 0) ^ 1;
    return out;
  }
}

/** A script that accepts everyone, with these attributes. */
export function acceptAll(attributes: readonly RadiusAttribute[] = []): Script {
  return (req) => {
    if (req.code === Code.AccessRequest) return { code: Code.AccessAccept, attributes };
    if (req.code === Code.AccountingRequest) return { code: Code.AccountingResponse };
    return undefined;
  };
}
