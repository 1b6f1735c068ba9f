// Fresh weights for pretraining follow transformers' _init_weights; the family module names the residual
// projections scaled by 1/√(2·n_layer) (GPT-2's c_proj), and no other family scales anything.
import { describe, expect, it } from 'vitest';
import { tinyModelConfig } from '../../fixtures/tiny-models.ts';
import { specFromConfig } from '../../../src/main/formats/model/index.ts';
import { buildProgramFromSpec } from '../../../src/main/model/families/index.ts';
import { initProgramWeights } from '../../../src/main/engine/models/index.ts';

describe('initProgramWeights', () => {
  for (const family of ['gpt2', 'llama'] as const)
    it(`${family}: only the family's residual projections are scaled by 1/√(2·n_layer)`, () => {
      const spec = specFromConfig(tinyModelConfig(family, {}), `${family}/config.json`);
      const p = buildProgramFromSpec(spec);
      const plain = initProgramWeights(p, { seed: 3 });
      const scaled = initProgramWeights(p, { seed: 3, numLayers: spec.numLayers });
      const factor = 1 / Math.sqrt(2 * spec.numLayers);
      let n = 0;
      for (const [name, w] of plain) {
        const expected = family === 'gpt2' && name.endsWith('.c_proj.weight') ? w.map((x) => Math.fround(x * factor)) : w;
        if (expected !== w) n++;
        const got = scaled.get(name)!;
        for (let i = 0; i < w.length; i++) expect(Math.abs(got[i] - expected[i]), `${name}[${i}]`).toBeLessThanOrEqual(Math.abs(expected[i]) * 1e-6);
      }
      expect(n).toBe(family === 'gpt2' ? 2 * spec.numLayers : 0); // attn.c_proj and mlp.c_proj per layer
    });
});
