// Task heads' losses (ops/task-loss.ts) as graph values, forward and backward side by side; per-sequence targets
// are graph inputs the session feeds (taskLossFeeds). Regression: the first row's logit of each sequence against
// its target, Σ valid·(pred − t)². Span: logits (N, 2) viewed (B, 2, T), LogSoftmax over positions, half the NLL of
// each trained side; dlogits = ½·valid·(softmax − onehot(gold)), transposed back to (N, 2).
import { DataType } from '../proto.ts';
import type { Program } from '../../../../model/ir.ts';
import type { BatchInputs } from '../../../batch-inputs.ts';
import type { FeedTensor } from '../ort.ts';
import type { LowerCtx } from './context.ts';

export interface TaskLossValues {
  lossSum: string; // scalar
  nllSeq: string; // (B)
  dlogits(): string; // (N, width of the logits)
}

export function taskLossForward(c: LowerCtx, loss: NonNullable<Program['loss']>, logits: string): TaskLossValues {
  const { g } = c;
  if (loss === 'mse') {
    const l2 = g.reshape(logits, c.batch.shapeBT); // (B, T)
    const pred = g.op('Slice', [l2, g.i64([0]), g.i64([1]), g.i64([1])]); // (B, 1)
    const diff = g.mul(g.sub(pred, g.input('task_target', g.ft, ['B', 1])), g.input('task_valid', g.ft, ['B', 1]));
    const sq = g.mul(diff, diff);
    return {
      lossSum: g.op('ReduceSum', [sq], { keepdims: 0 }),
      nllSeq: g.reshape(sq, [-1]),
      dlogits() {
        const rest = g.mul(g.op('Slice', [l2, g.i64([1]), g.i64([2 ** 62]), g.i64([1])]), g.scalar(0)); // (B, T − 1) zeros
        return g.reshape(g.op('Concat', [g.mul(diff, g.scalar(2)), rest], { axis: 1 }), [-1, 1]);
      },
    };
  }
  const shape = g.op('Concat', [c.batch.shapeBT, g.i64([2])], { axis: 0 });
  const lp = g.op('LogSoftmax', [g.transpose(g.reshape(logits, shape), [0, 2, 1])], { axis: -1 }); // (B, 2, T)
  const gold = g.input('span_gold', DataType.INT64, ['B', 2, 1]);
  const half = g.mul(g.input('span_valid', g.ft, ['B', 2, 1]), g.scalar(0.5)); // ½ per trained side
  const nll = g.mul(g.op('Neg', [g.op('GatherElements', [lp, gold], { axis: 2 })]), half); // (B, 2, 1)
  return {
    lossSum: g.op('ReduceSum', [nll], { keepdims: 0 }),
    nllSeq: g.reduceSum(nll, [1, 2], 0),
    dlogits() {
      const d = g.op('ScatterElements', [g.mul(g.op('Exp', [lp]), half), gold, g.op('Neg', [half])], { axis: 2, reduction: 'add' });
      return g.reshape(g.transpose(d, [0, 2, 1]), [-1, 2]);
    },
  };
}

/** The per-sequence target inputs of a task loss, from the prepared batch (an untrained target is fed as 0, invalid). */
export function taskLossFeeds(loss: NonNullable<Program['loss']>, inp: BatchInputs, vec: (x: ArrayLike<number>) => FeedTensor['data']): Record<string, FeedTensor> {
  const { B, T } = inp;
  if (loss === 'mse') {
    const t = inp.regressionTargets!;
    return {
      task_target: { data: vec(Array.from(t, (x) => (Number.isNaN(x) ? 0 : x))), dims: [B, 1] },
      task_valid: { data: vec(Array.from(t, (x) => (Number.isNaN(x) ? 0 : 1))), dims: [B, 1] },
    };
  }
  const gold = new BigInt64Array(B * 2);
  const valid: number[] = [];
  for (let b = 0; b < B; b++)
    [inp.spanStarts![b], inp.spanEnds![b]].forEach((pos, side) => {
      const ok = pos >= 0 && pos < T;
      gold[b * 2 + side] = BigInt(ok ? pos : 0);
      valid.push(ok ? 1 : 0);
    });
  return { span_gold: { data: gold, dims: [B, 2, 1] }, span_valid: { data: vec(valid), dims: [B, 2, 1] } };
}
