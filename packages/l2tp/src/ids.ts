// Allocation of 16-bit identifiers (tunnel ids per node, session ids per tunnel: RFC 2661 3.1
// lets each end choose its own). 0 is never handed out: it means "no tunnel/session yet".
// Freed ids are reused last (FIFO), so a late packet for a just-closed id rarely hits a new owner.

export class IdAllocator {
  private next = 1;
  private readonly free: number[] = [];
  private freeHead = 0;
  private readonly used = new Set<number>();

  constructor(private readonly max = 0xffff) {}

  get inUse(): number {
    return this.used.size;
  }

  allocate(): number | undefined {
    let id: number | undefined;
    if (this.next <= this.max) id = this.next++;
    else if (this.freeHead < this.free.length) {
      id = this.free[this.freeHead++];
      if (this.freeHead > 1024 && this.freeHead * 2 > this.free.length) {
        this.free.splice(0, this.freeHead);
        this.freeHead = 0;
      }
    }
    if (id === undefined) return undefined;
    this.used.add(id);
    return id;
  }

  release(id: number): void {
    if (this.used.delete(id)) this.free.push(id);
  }
}
