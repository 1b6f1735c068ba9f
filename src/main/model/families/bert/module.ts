// The FamilyModule of an encoder family from its naming layout: architectures, the checkpoint table, the names a
// tensor may carry in other checkpoints of the same model (saved from the bare base class without its prefix; old
// TF-converted LayerNorm.gamma/beta), the head tensors that are created when a checkpoint lacks them, and the
// tensors of other heads a checkpoint may carry (ignored, as transformers ignores them).

import type { ArchitectureEntry, FamilyModule } from '../../family.ts';
import type { HfTensorEntry } from '../../tensor-table.ts';
import { ModelConfigError } from '../../config-fields.ts';
import { buildEncoderProgram, encoderTensorTable, type EncoderLayout } from './encoder.ts';
import type { EncoderSpec } from './spec.ts';

export interface EncoderModuleOptions<S extends EncoderSpec> {
  name: S['family'];
  architectures: Record<string, ArchitectureEntry<S>>;
  byModelType: Record<string, string>;
  /** Where the base model sits inside a task model's checkpoint ("bert."). */
  basePrefix: string;
  layout(spec: S): EncoderLayout;
  /** Tensors of heads or buffers a checkpoint may carry that the opened model does not use. */
  ignorable: RegExp;
}

/** The other names a checkpoint may give a tensor: with or without the base prefix, LayerNorm gamma/beta. */
export function checkpointNamesFor(hfName: string, basePrefix: string): string[] {
  const names = [hfName.startsWith(basePrefix) ? hfName.slice(basePrefix.length) : `${basePrefix}${hfName}`];
  const old = (n: string) =>
    /LayerNorm\.weight$/.test(n)
      ? n.replace(/weight$/, 'gamma')
      : /LayerNorm\.bias$/.test(n)
        ? n.replace(/bias$/, 'beta')
        : null;
  for (const n of [hfName, names[0]]) {
    const o = old(n);
    if (o) names.push(o);
  }
  return names;
}

export function encoderModule<S extends EncoderSpec>(o: EncoderModuleOptions<S>): FamilyModule<S> {
  return {
    names: [o.name],
    architectures: o.architectures,
    byModelType: o.byModelType,
    tensorTable: (spec) => encoderTensorTable(spec, o.layout(spec)),
    tiedHeadWeight: `${o.basePrefix}embeddings.word_embeddings.weight`,
    isBufferTensor: (name) => o.ignorable.test(name),
    checkpointNames: (hfName) => checkpointNamesFor(hfName, o.basePrefix),
    createdIfMissing: (entry: HfTensorEntry) => entry.params[0].name.startsWith('head.'),
    ggufArch: (spec) => {
      throw new ModelConfigError(
        `${spec.architecture}: GGUF export is for decoders; export an encoder as a Hugging Face folder or ONNX`,
      );
    },
    buildProgram: (spec) => buildEncoderProgram(spec, o.layout(spec)),
  };
}
