/**
 * libsvm's kernel cache: one column of Q per training index, each holding its first `len` entries as
 * float32 (libsvm's Qfloat — half the memory of float64, and the rounding scikit-learn's answers carry),
 * evicted least-recently-used first once the size limit is reached. Columns only grow: asking for more of
 * a column keeps what it has and returns where filling must start.
 *
 * One change from libsvm: when shrinking swaps two indices, libsvm swaps the two entries in every cached
 * column at once; here the swap is logged and replayed on a column the next time it is read, so columns
 * that are never read again cost nothing. A column that covers the lower index of a swap but not the
 * higher one is cut back to the lower index (libsvm drops it whole). The entries a caller sees are the same.
 */
export class KernelCache {
  private readonly columns: (Float32Array | null)[];
  /** Valid entries of each column. */
  private readonly lens: Int32Array;
  /** How much of the swap log each column has applied. */
  private readonly synced: Int32Array;
  // A circular doubly linked LRU list over indices 0..l-1 with the sentinel at index l.
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private readonly sentinel: number;
  /** Float32 entries still free (allocated capacity counts against the limit). */
  private free: number;
  private log = new Int32Array(64);
  private logLen = 0;
  /** Where the last `get` says filling must start. */
  start = 0;

  /** @param l number of columns; @param bytes size limit (at least two full columns are always allowed) */
  constructor(l: number, bytes: number) {
    this.columns = new Array<Float32Array | null>(l).fill(null);
    this.lens = new Int32Array(l);
    this.synced = new Int32Array(l);
    this.prev = new Int32Array(l + 1);
    this.next = new Int32Array(l + 1);
    this.sentinel = l;
    this.prev[l] = l;
    this.next[l] = l;
    // libsvm charges a 32-byte bookkeeping entry per column against the limit.
    this.free = Math.max(Math.floor(bytes / 4) - l * 8, 2 * l);
  }

  private unlink(h: number): void {
    const p = this.prev[h] as number;
    const n = this.next[h] as number;
    this.next[p] = n;
    this.prev[n] = p;
  }

  private append(h: number): void {
    const last = this.prev[this.sentinel] as number;
    this.next[h] = this.sentinel;
    this.prev[h] = last;
    this.next[last] = h;
    this.prev[this.sentinel] = h;
  }

  private evict(h: number): void {
    this.unlink(h);
    this.free += (this.columns[h] as Float32Array).length;
    this.columns[h] = null;
    this.lens[h] = 0;
  }

  /** Applies the swaps logged since column h was last read. */
  private replay(h: number, col: Float32Array): void {
    let len = this.lens[h] as number;
    const log = this.log;
    for (let s = this.synced[h] as number; s < this.logLen && len > 0; s += 2) {
      const lo = log[s] as number;
      const hi = log[s + 1] as number;
      if (len > hi) {
        const t = col[lo] as number;
        col[lo] = col[hi] as number;
        col[hi] = t;
      } else if (len > lo) {
        len = lo;
      }
    }
    this.lens[h] = len;
    this.synced[h] = this.logLen;
  }

  /**
   * Column `index` with room for `len` entries, marked most recently used; sets {@link start}: entries
   * [start, len) must be filled by the caller (start ≥ len when all are cached).
   */
  get(index: number, len: number): Float32Array {
    let data = this.columns[index] as Float32Array | null;
    if (data !== null) {
      this.unlink(index);
      this.replay(index, data);
    }
    const have = this.lens[index] as number;
    this.start = len;
    if (len > have) {
      const capacity = data === null ? 0 : data.length;
      if (len > capacity) {
        // Unlinked above, so this column itself is never the one evicted.
        const more = len - capacity;
        while (this.free < more) this.evict(this.next[this.sentinel] as number);
        const grown = new Float32Array(len);
        if (data !== null && have > 0) grown.set(data.subarray(0, have));
        data = grown;
        this.columns[index] = grown;
        this.free -= more;
      }
      this.lens[index] = len;
      this.synced[index] = this.logLen;
      this.start = have;
    }
    this.append(index);
    return data as Float32Array;
  }

  /** Swaps indices i and j (the solver's shrinking reorders the problem): the two columns now, their entries in every column lazily. */
  swapIndex(i: number, j: number): void {
    if (i === j) return;
    const ci = this.columns[i] as Float32Array | null;
    const cj = this.columns[j] as Float32Array | null;
    if (ci !== null) this.unlink(i);
    if (cj !== null) this.unlink(j);
    this.columns[i] = cj;
    this.columns[j] = ci;
    let t = this.lens[i] as number;
    this.lens[i] = this.lens[j] as number;
    this.lens[j] = t;
    t = this.synced[i] as number;
    this.synced[i] = this.synced[j] as number;
    this.synced[j] = t;
    if (cj !== null) this.append(i);
    if (ci !== null) this.append(j);
    if (this.logLen + 2 > this.log.length) {
      const grown = new Int32Array(this.log.length * 2);
      grown.set(this.log);
      this.log = grown;
    }
    this.log[this.logLen++] = Math.min(i, j);
    this.log[this.logLen++] = Math.max(i, j);
  }
}
