// The whole QA path on the bundled SQuAD-layout dev set: read → windows (forced small, so answers fall across
// window boundaries) → "oracle" logits that peak at each window's gold start/end (CLS where the window lacks the
// answer) → post-processing → SQuAD scores. Every answer must come back as its gold text: this checks that windows,
// answer positions, offsets and the cut from the context agree on real data, for each tokenizer family.
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QuestionAnsweringSection } from '../../../src/common/api/runs.ts';
import { readQaDataset, type QaDataset } from '../../../src/main/formats/dataset/tasks/squad.ts';
import { EncoderTokenizer } from '../../../src/main/formats/tokenizer/encoder/index.ts';
import { postprocessQa, qaFeatures, squadScores } from '../../../src/main/engine/tasks/index.ts';
import {
  writeBertTokenizer,
  writeRobertaTokenizer,
  writeXlmrTokenizer,
} from '../../formats/tokenizer/encoder/fixtures.ts';

const devSet = join(import.meta.dirname, '..', '..', '..', 'resources', 'encoder-data', 'squad', 'dev-v1.1.json');
let data: QaDataset;
let root: string;
beforeAll(async () => {
  data = await readQaDataset(devSet, QuestionAnsweringSection.parse({}));
  root = mkdtempSync(join(tmpdir(), 'qa-roundtrip-'));
});

describe('QA round trip on the bundled dev set', () => {
  // The fixture BPE and Unigram vocabularies are tiny, so words take many tokens there: their windows are longer,
  // with the overlap (doc stride) still longer than any answer, or an answer could fall across every boundary.
  for (const [name, write, windows] of [
    ['bert', writeBertTokenizer, { maxLength: 32, docStride: 10 }],
    ['roberta', writeRobertaTokenizer, { maxLength: 96, docStride: 32 }],
    ['xlmr', writeXlmrTokenizer, { maxLength: 96, docStride: 32 }],
  ] as const) {
    it(`${name}: oracle logits give back every gold answer`, () => {
      const tok = EncoderTokenizer.load(write(join(root, name)));
      const examples = data.examples;
      const features = qaFeatures(tok, examples, windows);
      expect(features.length).toBeGreaterThan(examples.length); // contexts were windowed
      const logits = features.map((f) => {
        const startLogits = new Array<number>(f.inputIds.length).fill(0);
        const endLogits = new Array<number>(f.inputIds.length).fill(0);
        startLogits[f.startPosition] = 10;
        endLogits[f.endPosition] = 10;
        return { startLogits, endLogits };
      });
      const predictions = postprocessQa(examples, features, logits, { nBestSize: 5, maxAnswerLength: 30 });
      const scores = squadScores(
        examples.map((e) => ({ id: e.id, answers: e.answers.text })),
        predictions,
      );
      // XLM-R's "▁word" tokens include the space before the word in their offsets (as in the Rust library), so its
      // answers can start with a space, as transformers' post-processing gives them; SQuAD's normalisation drops it.
      const wrong = predictions
        .map((p, i) => [p.text.trim(), examples[i].answers.text[0], examples[i].id])
        .filter(([got, gold]) => got !== gold);
      expect(wrong).toEqual([]);
      expect(scores.exact).toBe(100);
    });
  }
});
