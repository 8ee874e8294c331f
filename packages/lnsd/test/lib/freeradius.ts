// The daemon tests' view of the shared FreeRADIUS harness (@lnsd/testkit): the server, its
// accounting records as attribute maps, radclient, free ports on the daemon's loopback address.
import { FreeRadius, freePortPair, freeradiusMissing, portFree, radclient } from "@lnsd/testkit";

export { radclient };

/** Why these tests cannot run here, or undefined when they can. */
export function whyNoFreeRadius(): string | undefined {
  return freeradiusMissing();
}

/** True when UDP `port` can be bound on `address` right now. */
export function udpPortFree(address: string, port: number): Promise<boolean> {
  return portFree(port, address);
}

/** A random free port on `address` whose next port is free too. */
export function freeUdpPorts(address: string): Promise<number> {
  return freePortPair(address);
}

/** One record of the detail file: attribute name to its values. */
export type AcctRecord = ReadonlyMap<string, readonly string[]>;

export class TestRadiusServer {
  private constructor(private readonly server: FreeRadius) {}

  /** Writes the raddb, checks it (-C) and starts the server; resolves once it is ready. */
  static async start(secret: string, users: string): Promise<TestRadiusServer> {
    return new TestRadiusServer(await FreeRadius.start({ secret, users, debug: false }));
  }

  get authPort(): number {
    return this.server.authPort;
  }

  get log(): string {
    return this.server.log;
  }

  /** The accounting records so far, oldest first. */
  records(): AcctRecord[] {
    return this.server.detail().map((r) => r.attrs);
  }

  /** The first record from the `from`-th on that satisfies `pred`, waiting for it up to timeoutMs. */
  async waitForRecord(pred: (r: AcctRecord) => boolean, timeoutMs = 5000, from = 0): Promise<AcctRecord | undefined> {
    for (let waited = 0; waited <= timeoutMs; waited += 50) {
      const r = this.records().slice(from).find(pred);
      if (r !== undefined) return r;
      await new Promise((res) => setTimeout(res, 50));
    }
    return undefined;
  }

  /** SIGTERM by PID (SIGKILL after 5 s), then the directory goes. */
  async stop(): Promise<void> {
    await this.server.dispose();
  }
}

/** First value of an attribute in a record. */
export function attr(r: AcctRecord | undefined, name: string): string | undefined {
  return r?.get(name)?.[0];
}
