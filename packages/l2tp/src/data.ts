// A session's data channel as the control thread sends on it: whether a data message carries Ns
// (RFC 2661 5.4) and which Ns; the node frames it (RFC 2661 3.1). The data workers frame in place
// on their hot path with wire's header layout and share the counter below. Control thread.

/**
 * Where a session's data-channel Ns lives while it is shared with someone else that sends on the
 * session (the data plane's workers): the control thread's frames continue the same sequence.
 */
export interface DataSequenceCounter {
  /** RFC 2661 5.4: the peer has sent a data message with the S bit set on this session. */
  peerSequences(): boolean;
  /** Takes the next Ns to send (modulo 2^16). */
  takeNs(): number;
}

/**
 * A session's data-channel sequencing. RFC 2661 5.4: when the LAC sent Sequencing Required
 * (RFC 2661 4.4.4) Ns must be present on the data channel; otherwise the LNS controls it by sending
 * with or without Ns. lnsd's choice: sequence when the LAC asked for it or sends sequenced itself.
 * Frames go out without Ns while no counter is attached (before the data plane forwards the session).
 */
export class DataSequence {
  private counter: DataSequenceCounter | undefined;

  constructor(private readonly call: { readonly sequencingRequired?: boolean }) {}

  /** From now on Ns comes from this counter (the data plane forwards the session). */
  attach(counter: DataSequenceCounter): void {
    this.counter = counter;
  }

  /** The counter is gone (the data plane stopped forwarding the session). */
  detach(): void {
    this.counter = undefined;
  }

  /** The Ns for the next data message, or undefined when it goes without one (S bit clear). */
  nextNs(): number | undefined {
    const c = this.counter;
    if (c === undefined) return undefined;
    if (this.call.sequencingRequired !== true && !c.peerSequences()) return undefined;
    return c.takeNs();
  }
}
