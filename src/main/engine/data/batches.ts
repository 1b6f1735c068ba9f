// From tokenized examples to the padded Batches a TrainingSession consumes, and the epoch/position bookkeeping
// that makes a resumed run see exactly the data the uninterrupted one would.
//
// Shapes: B = sequences per micro-batch, T = padded length of this batch (≤ maxLength).
// Labels are shifted here, once: label[t] = ids[t+1] when token t+1 is a training target, else -100, so the
// executor's cross-entropy never shifts. Padding is on the right with the pad id, masked out and never trained.
//
// Packing (optional): several examples share one row, each tagged with its own segment id (1, 2, …) in
// `Batch.segmentIds`. We chose segment ids over "just concatenate with EOS" because the latter lets an example
// attend to the unrelated one before it (cross-contamination) and gives it shifted positions; with segment ids
// the executor keeps attention block-diagonal and restarts positions per example, so a packed example's loss
// equals its unpacked loss. The last token of every example has label -100 (its "next token" would belong to
// the following example). Examples are packed first-fit in the epoch's shuffled order, never split across rows.
import type { Batch } from '../session.ts';
import { epochPermutation } from './random.ts';

export const IGNORE_INDEX = -100;

/** What the tokenizer gives for one rendered dataset row. */
export interface TokenizedExample {
  ids: Int32Array; // (L) token ids
  trained: Uint8Array; // (L) 1 = this token is a training target (completion / assistant tokens, or all for plain text)
  truncated?: boolean;
}

/** Cut an example to `maxLength` tokens (keeping its start, like transformers' right truncation). */
export function truncateExample(example: TokenizedExample, maxLength: number): TokenizedExample {
  if (example.ids.length !== example.trained.length) {
    throw new Error(`tokenized example has ${example.ids.length} ids but ${example.trained.length} trained flags; they must match`);
  }
  if (example.ids.length <= maxLength) return example;
  return { ids: example.ids.subarray(0, maxLength), trained: example.trained.subarray(0, maxLength), truncated: true };
}

/** label[t] = ids[t+1] if trained[t+1], else IGNORE_INDEX; the last position has no next token. */
export function shiftLabels(example: TokenizedExample): Int32Array {
  const L = example.ids.length;
  const labels = new Int32Array(L).fill(IGNORE_INDEX);
  for (let t = 0; t + 1 < L; t++) if (example.trained[t + 1]) labels[t] = example.ids[t + 1];
  return labels;
}

/** Number of positions that carry a label (what a micro-step's token count will be). */
export function countTrainedTargets(example: TokenizedExample): number {
  let n = 0;
  for (let t = 1; t < example.trained.length; t++) n += example.trained[t] ? 1 : 0;
  return n;
}

export interface CollateOptions {
  padId: number;
  maxLength: number;
  /** 'longest' pads to the longest row of the batch; 'max_length' always to maxLength (fixed shapes). */
  padTo?: 'longest' | 'max_length';
}

/** One row per example: truncate, shift labels, right-pad. */
export function collate(examples: TokenizedExample[], options: CollateOptions): Batch {
  return collateRows(
    examples.map((example) => [truncateExample(example, options.maxLength)]),
    options,
    false,
  );
}

/** Rows made of one or more examples each (packing); `withSegments` adds `segmentIds`. */
export function collateRows(rows: TokenizedExample[][], options: CollateOptions, withSegments: boolean): Batch {
  if (rows.length === 0) throw new Error('cannot build a batch from no examples');
  const lengths = rows.map((row) => row.reduce((sum, example) => sum + example.ids.length, 0));
  const longest = Math.max(...lengths);
  if (longest > options.maxLength) throw new Error(`a row of ${longest} tokens exceeds max length ${options.maxLength}`);
  const B = rows.length;
  const T = options.padTo === 'max_length' ? options.maxLength : Math.max(1, longest);
  const inputIds = new Int32Array(B * T).fill(options.padId); // (B, T)
  const attentionMask = new Uint8Array(B * T); // (B, T)
  const labels = new Int32Array(B * T).fill(IGNORE_INDEX); // (B, T)
  const segmentIds = withSegments ? new Int32Array(B * T) : undefined; // (B, T)
  for (let b = 0; b < B; b++) {
    let offset = b * T;
    rows[b].forEach((example, k) => {
      const L = example.ids.length;
      inputIds.set(example.ids, offset);
      attentionMask.fill(1, offset, offset + L);
      labels.set(shiftLabels(example), offset);
      if (segmentIds) segmentIds.fill(k + 1, offset, offset + L);
      offset += L;
    });
  }
  return segmentIds ? { B, T, inputIds, attentionMask, labels, segmentIds } : { B, T, inputIds, attentionMask, labels };
}

/** Greedy first-fit packing in the given order: each row holds whole examples, total length ≤ maxLength. */
export function packInOrder(lengths: number[], order: ArrayLike<number>, maxLength: number): number[][] {
  const rows: number[][] = [];
  const room: number[] = [];
  for (let i = 0; i < order.length; i++) {
    const index = order[i];
    const length = Math.min(lengths[index], maxLength);
    let placed = false;
    for (let r = 0; r < rows.length; r++) {
      if (room[r] >= length) {
        rows[r].push(index);
        room[r] -= length;
        placed = true;
        break;
      }
    }
    if (!placed) {
      rows.push([index]);
      room.push(maxLength - length);
    }
  }
  return rows;
}

/** Where the trainer is in the data: the epoch and the index of the next micro-batch within it. Serialisable. */
export interface DataPosition {
  epoch: number;
  microBatch: number;
}

export interface BatchPlanOptions {
  seed: number;
  microBatchSize: number;
  maxLength: number;
  padId: number;
  packing?: boolean;
  shuffle?: boolean; // default true; evaluation keeps the file order
  padTo?: 'longest' | 'max_length';
}

/**
 * The micro-batches of each epoch over a fixed set of examples: a seeded permutation per epoch (so epochs
 * differ but are reproducible), cut into consecutive micro-batches (or packed rows, then micro-batches).
 */
export class BatchPlan {
  readonly examples: TokenizedExample[];
  private cachedEpoch = -1;
  private cachedUnits: number[][] = []; // each unit = the example indices of one row

  constructor(examples: TokenizedExample[], readonly options: BatchPlanOptions) {
    if (examples.length === 0) throw new Error('the dataset has no examples to train on');
    if (!Number.isInteger(options.microBatchSize) || options.microBatchSize < 1) throw new Error(`micro batch size must be a positive integer, got ${options.microBatchSize}`);
    this.examples = examples.map((example) => truncateExample(example, options.maxLength));
  }

  /** Rows of the epoch, in order; each row lists example indices (one each without packing). */
  rowsOfEpoch(epoch: number): number[][] {
    if (epoch !== this.cachedEpoch) {
      const n = this.examples.length;
      const order = this.options.shuffle === false ? Uint32Array.from({ length: n }, (_, i) => i) : epochPermutation(n, this.options.seed, epoch);
      this.cachedUnits = this.options.packing
        ? packInOrder(
            this.examples.map((example) => example.ids.length),
            order,
            this.options.maxLength,
          )
        : Array.from(order, (index) => [index]);
      this.cachedEpoch = epoch;
    }
    return this.cachedUnits;
  }

  microBatchesInEpoch(epoch: number): number {
    return Math.ceil(this.rowsOfEpoch(epoch).length / this.options.microBatchSize);
  }

  /** The micro-batch at a position, with the example indices it holds. */
  batchAt(position: DataPosition): { batch: Batch; exampleIndices: number[] } {
    const rows = this.rowsOfEpoch(position.epoch);
    const start = position.microBatch * this.options.microBatchSize;
    if (start >= rows.length) throw new Error(`data position ${position.epoch}:${position.microBatch} is past the end of the epoch (${rows.length} rows)`);
    const chosen = rows.slice(start, start + this.options.microBatchSize);
    const batch = collateRows(
      chosen.map((row) => row.map((index) => this.examples[index])),
      { padId: this.options.padId, maxLength: this.options.maxLength, padTo: this.options.padTo },
      this.options.packing === true,
    );
    return { batch, exampleIndices: chosen.flat() };
  }

  /** The position after `position`, rolling over to the next epoch. */
  advance(position: DataPosition): DataPosition {
    const next = position.microBatch + 1;
    return next >= this.microBatchesInEpoch(position.epoch) ? { epoch: position.epoch + 1, microBatch: 0 } : { epoch: position.epoch, microBatch: next };
  }
}
