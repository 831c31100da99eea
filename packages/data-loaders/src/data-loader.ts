import { ConfigError, DataError, checkPositiveInt, disposeAll, type Rng } from '@ml/core';

import { defaultCollate, type Collated } from './collate.js';
import { type DatasetLike } from './dataset.js';
import { deriveRng } from './internal/derive-rng.js';

/** What a batch transform gets besides the batch: a generator for this batch only, and where it is. */
export interface BatchContext {
  /** Seeded from (seed, epoch, batch index): the same on every replay of this batch. */
  rng: Rng;
  epoch: number;
  batchIndex: number;
}

/** Options of {@link DataLoader}. */
export interface DataLoaderOptions<T, B> {
  /** Items per batch (default 32). */
  batchSize?: number;
  /** Draw a new permutation of the items every epoch (default false: dataset order). */
  shuffle?: boolean;
  /** Seed of the shuffle and of {@link BatchContext.rng} (default 0); epoch e's order depends only on (seed, e). */
  seed?: number;
  /** Drop the last batch when it is smaller than `batchSize` (default false: keep it). */
  dropLast?: boolean;
  /** Builds a batch from items (default {@link defaultCollate}, or the dataset's `getBatch` fast path). */
  collate?: (items: T[]) => B | Promise<B>;
  /**
   * Runs on each collated batch (e.g. augmentation). Tensors of the input batch that are not in the
   * returned batch are disposed by the loader.
   */
  transform?: (batch: B, context: BatchContext) => B | Promise<B>;
  /** Batches prepared ahead while the consumer works on the current one (default 1; 0 = none). */
  prefetch?: number;
}

/** Defaults of {@link DataLoaderOptions}. */
export const DEFAULT_DATA_LOADER_OPTIONS = {
  batchSize: 32,
  shuffle: false,
  seed: 0,
  dropLast: false,
  prefetch: 1,
} as const;

// Streams of deriveRng(seed, ·): one per epoch for the order, one per epoch for the batch rngs.
const ORDER_STREAM = 0;
const TRANSFORM_STREAM = 1;

/**
 * Batches a dataset for training, like `torch.utils.data.DataLoader`: `for await (const [x, y] of
 * loader)` runs one epoch; every pass is the next epoch (or call {@link DataLoader.epoch} with an
 * explicit epoch number, e.g. when resuming). With `shuffle`, epoch e visits the items in a
 * permutation that depends only on (seed, e); every item appears exactly once per epoch, and the last
 * smaller batch is kept unless `dropLast`. Batches are new tensors that the consumer owns and must
 * dispose (`tf.dispose(batch)`); batches prepared ahead and not consumed (a `break`) are disposed by
 * the loader.
 *
 * Prefetching starts building batch i+1 as soon as batch i is handed out, so any asynchronous part of
 * producing it (file reads, `await t.data()` in a transform, GPU downloads) overlaps with the
 * consumer's work; JavaScript runs the synchronous parts on the same thread either way.
 */
export class DataLoader<T, B = Collated<T>> implements AsyncIterable<B> {
  readonly dataset: DatasetLike<T>;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  readonly prefetch: number;
  private readonly collate: ((items: T[]) => B | Promise<B>) | undefined;
  private readonly transform: ((batch: B, context: BatchContext) => B | Promise<B>) | undefined;
  private nextEpochIndex = 0;

  constructor(dataset: DatasetLike<T>, options: DataLoaderOptions<T, B> = {}) {
    const o = { ...DEFAULT_DATA_LOADER_OPTIONS, ...options };
    checkPositiveInt('DataLoader', 'batchSize', o.batchSize);
    if (!Number.isInteger(o.prefetch) || o.prefetch < 0)
      throw new ConfigError(`DataLoader: prefetch must be an integer ≥ 0, got ${o.prefetch}`);
    if (!Number.isFinite(o.seed))
      throw new ConfigError(`DataLoader: seed must be a finite number, got ${o.seed}`);
    if (!Number.isInteger(dataset.length) || dataset.length < 0)
      throw new ConfigError(`DataLoader: dataset.length must be an integer ≥ 0, got ${dataset.length}`);
    this.dataset = dataset;
    this.batchSize = o.batchSize;
    this.shuffle = o.shuffle;
    this.seed = o.seed;
    this.dropLast = o.dropLast;
    this.prefetch = o.prefetch;
    this.collate = options.collate;
    this.transform = options.transform;
  }

  /** Batches per epoch: ⌈N / batchSize⌉, or ⌊N / batchSize⌋ with `dropLast`. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The epoch the next `for await` pass will run (starts at 0). */
  get epochIndex(): number {
    return this.nextEpochIndex;
  }

  /** Makes the next `for await` pass run epoch `epoch` (e.g. after resuming from a checkpoint). */
  setEpoch(epoch: number): void {
    if (!Number.isInteger(epoch) || epoch < 0)
      throw new ConfigError(`DataLoader.setEpoch: epoch must be an integer ≥ 0, got ${epoch}`);
    this.nextEpochIndex = epoch;
  }

  /** The item indices of epoch `epoch` in visiting order (before dropping a last partial batch). */
  order(epoch: number): number[] {
    if (!Number.isInteger(epoch) || epoch < 0)
      throw new ConfigError(`DataLoader.order: epoch must be an integer ≥ 0, got ${epoch}`);
    const n = this.dataset.length;
    if (!this.shuffle) return Array.from({ length: n }, (_, i) => i);
    return deriveRng(this.seed, 2 * epoch + ORDER_STREAM).permutation(n);
  }

  /** The item indices of each batch of epoch `epoch`. */
  batchIndices(epoch: number): number[][] {
    const order = this.order(epoch);
    const batches: number[][] = [];
    for (let b = 0; b < this.length; b++)
      batches.push(order.slice(b * this.batchSize, (b + 1) * this.batchSize));
    return batches;
  }

  /** Runs the next epoch (see {@link DataLoader.epoch}) and advances the epoch counter. */
  [Symbol.asyncIterator](): AsyncIterator<B> {
    return this.epoch(this.nextEpochIndex++);
  }

  /** The batches of epoch `epoch`, without touching the epoch counter. */
  async *epoch(epoch: number): AsyncGenerator<B, void, undefined> {
    const batches = this.batchIndices(epoch);
    const transformRng = deriveRng(this.seed, 2 * epoch + TRANSFORM_STREAM);
    const pending: Promise<B>[] = [];
    let next = 0;
    // Keeps `ahead` batches in flight: 1 before awaiting the one needed now, `prefetch` while it is used.
    const schedule = (ahead: number): void => {
      while (next < batches.length && pending.length < ahead) {
        const b = next++;
        // Forks are taken in batch order here, so batch b's rng does not depend on timing.
        const context: BatchContext = { rng: transformRng.fork(), epoch, batchIndex: b };
        const promise = this.makeBatch(batches[b] as number[], context);
        promise.catch(() => undefined); // rejections surface when the batch is awaited in order
        pending.push(promise);
      }
    };
    try {
      while (next < batches.length || pending.length > 0) {
        schedule(1);
        const batch = await (pending.shift() as Promise<B>);
        schedule(this.prefetch);
        yield batch;
      }
    } finally {
      // Reached on `break`/`return`/errors: free batches that were prepared but never handed out.
      for (const p of pending.splice(0)) {
        try {
          disposeAll(await p);
        } catch {
          // The batch failed to build; nothing of it is left to free.
        }
      }
    }
  }

  private async makeBatch(indices: number[], context: BatchContext): Promise<B> {
    await Promise.resolve(); // start after the caller regains control: this is what makes prefetch overlap
    let batch: B;
    if (this.collate === undefined && this.dataset.getBatch !== undefined) {
      batch = this.dataset.getBatch(indices) as B;
    } else {
      const items = indices.map((i) => this.dataset.get(i));
      let collated: B | undefined;
      try {
        collated = await (this.collate ?? (defaultCollate as unknown as (items: T[]) => B))(items);
      } finally {
        disposeAll(items, collated); // items were ours; keep only what the batch reuses
      }
      batch = collated;
    }
    if (this.transform !== undefined) {
      let out: B;
      try {
        out = await this.transform(batch, context);
      } catch (e) {
        disposeAll(batch);
        throw e;
      }
      disposeAll(batch, out);
      batch = out;
    }
    if (batch === undefined)
      throw new DataError(
        `DataLoader: collate/transform returned undefined for batch ${context.batchIndex} of epoch ${context.epoch}`,
      );
    return batch;
  }
}
