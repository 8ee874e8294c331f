// Allocation of 16-bit identifiers (tunnel ids per node, session ids per tunnel: RFC 2661 3.1
// lets each end choose its own). 0 is never handed out: it means "no tunnel/session yet".
// Freed ids are reused last (FIFO), so a late packet for a just-closed id rarely hits a new owner.

export class IdAllocator {
  private next = 1;
  private readonly free: number[] = [];
  private freeHead = 0;
  private readonly used = new Set<number>();

  constructor(private readonly max = 0xffff) {}

  /**
   * An allocator with these ids already in use (restoring from records): new ids continue above
   * the highest, then the gaps below it, so nothing in use is handed out again.
   */
  static withInUse(ids: Iterable<number>, max = 0xffff): IdAllocator {
    const a = new IdAllocator(max);
    for (const id of ids) if (id >= 1 && id <= max) a.used.add(id);
    const top = Math.max(0, ...a.used);
    a.next = top + 1;
    for (let id = 1; id < top; id++) if (!a.used.has(id)) a.free.push(id);
    return a;
  }

  /** Ids in use, ascending. */
  get inUseIds(): number[] {
    return [...this.used].sort((x, y) => x - y);
  }

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
