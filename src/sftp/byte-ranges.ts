// The byte ranges of an upload that its writes have covered, merged as they come: a client writing in
// order keeps one range; parallel writes out of order leave a few open gaps that close as they land.
// An upload is whole only when one range covers it from byte 0 to its end.

/** Separate ranges one upload may have at once; past it the client is writing scattered blocks. */
export const MAX_RANGES = 1024;

export class ByteRanges {
  /** Sorted, disjoint and not touching: [start, end) pairs. */
  private readonly ranges: Array<[number, number]> = [];

  get count(): number {
    return this.ranges.length;
  }

  /** Adds [start, end); false (nothing added) when it would make more than MAX_RANGES ranges. */
  add(start: number, end: number): boolean {
    if (end <= start) return true;
    const r = this.ranges;
    const last = r[r.length - 1];
    if (last && start >= last[0] && start <= last[1]) {
      // Writing on at the end, the common case: no search.
      last[1] = Math.max(last[1], end);
      return true;
    }
    // The first range ending at or after `start`, and the first starting after `end`: those between merge.
    let lo = 0;
    while (lo < r.length && r[lo][1] < start) lo++;
    let hi = lo;
    while (hi < r.length && r[hi][0] <= end) hi++;
    if (hi === lo && r.length >= MAX_RANGES) return false;
    const merged: [number, number] =
      hi > lo ? [Math.min(start, r[lo][0]), Math.max(end, r[hi - 1][1])] : [start, end];
    r.splice(lo, hi - lo, merged);
    return true;
  }

  /** The first bytes [from, to) below `size` that no range covers; undefined when there are none. */
  firstGap(size: number): [number, number] | undefined {
    let at = 0;
    for (const [start, end] of this.ranges) {
      if (at >= size) return undefined;
      if (start > at) return [at, Math.min(start, size)];
      at = end;
    }
    return at < size ? [at, size] : undefined;
  }
}
