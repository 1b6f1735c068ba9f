// Model cards, loss curves, Modelfiles and GGUF naming, checked against readers outside our code: the card's
// header with the `yaml` parser (as the Hub reads it), the Modelfile with a parser of Ollama's grammar and the
// GGUF it names loaded by llama.cpp (node-llama-cpp), whose tokenizer must know each stop string as one
// special token. A GGUF publication is pushed to the local Hub and read back byte for byte.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { getLlama, LlamaLogLevel, type Llama } from 'node-llama-cpp';
import type { ModelCardFacts } from '../../../src/common/api/hub.ts';
import { ollamaCreateForGguf } from '../../../src/common/ollama.ts';
import {
  cardFrontMatter,
  chatStopTokens,
  ggufFileName,
  hubIdFromCachePath,
  niceTicks,
  publishFiles,
  readGgufFacts,
  renderLossCurveSvg,
  renderModelCard,
  writeExportCard,
  baseModelLicense,
  folderCardFacts,
} from '../../../src/main/formats/card/index.ts';
import { exportGguf, exportLoraGguf } from '../../../src/main/formats/gguf/index.ts';
import { makeChatFixture } from '../../engine/generate/fixtures.ts';
import { pushToHub } from '../../../src/main/formats/hub/push.ts';
import { makeTinyModel } from '../../fixtures/tiny-models.ts';
import { MockPushHub, WRITE_TOKEN, sha256 } from '../hub/mock-hub-push.ts';

let dir: string;
let modelDir: string;
let ggufPath: string;
let llama: Llama;

const facts = (over: Partial<ModelCardFacts> = {}): ModelCardFacts => ({
  baseModelHubId: 'HuggingFaceTB/SmolLM2-135M',
  baseModelName: 'HuggingFaceTB/SmolLM2-135M',
  license: 'apache-2.0',
  architecture: 'LlamaForCausalLM',
  method: 'lora',
  lora: { r: 16, alpha: 32, dropout: 0.05, targetModules: ['k_proj', 'q_proj'], rslora: false },
  training: {
    epochs: 2,
    maxSteps: null,
    steps: 40,
    learningRate: 2e-4,
    scheduler: 'cosine',
    warmupRatio: 0.03,
    warmupSteps: null,
    microBatchSize: 2,
    gradientAccumulationSteps: 4,
    maxSeqLength: 512,
    seed: 42,
    template: "the model's chat template",
    seconds: 754,
    tokens: 81234,
    trainLoss: 1.2345,
    evalLoss: 1.4567,
  },
  dataset: { name: 'support.jsonl', hash: 'ab'.repeat(32), hubId: null, examples: 321 },
  evaluation: { examples: 32, basePerplexity: 9.87, tunedPerplexity: 4.32 },
  lossCurve: [
    { step: 1, loss: 2.5 },
    { step: 2, loss: 2.1 },
    { step: 3, loss: 1.7 },
    { step: 4, loss: 1.3 },
  ],
  evalCurve: [{ step: 4, loss: 1.45 }],
  stopTokens: ['<|im_end|>'],
  sampling: { temperature: 0.7, topK: 50, topP: 0.9, repetitionPenalty: 1.1 },
  studioVersion: '0.1.0',
  ...over,
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'card-test-'));
  modelDir = join(dir, 'models--acme--tiny-chat', 'snapshots', 'c'.repeat(40));
  await makeTinyModel(modelDir, 'qwen2', { layers: 1 });
  await writeFile(join(modelDir, 'README.md'), '---\nlicense: mit\nlanguage: [en]\n---\n# tiny\n');
  ggufPath = join(dir, 'tiny-chat-gguf-q8_0.gguf');
  await exportGguf({ baseDir: modelDir, adapters: [], outFile: ggufPath, type: 'q8_0' });
  llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
}, 120_000);
afterAll(async () => {
  await llama?.dispose();
  await rm(dir, { recursive: true, force: true });
});

/** Ollama's Modelfile grammar: one INSTRUCTION per line, arguments bare, "quoted" (with \" escapes) or """multi-line""". */
function parseModelfile(text: string): { instruction: string; args: string[] }[] {
  const out: { instruction: string; args: string[] }[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`Modelfile line not understood: ${line}`);
    const instruction = m[1].toUpperCase();
    if (!['FROM', 'PARAMETER', 'TEMPLATE', 'SYSTEM', 'ADAPTER', 'LICENSE', 'MESSAGE'].includes(instruction))
      throw new Error(`unknown instruction ${instruction}`);
    const args: string[] = [];
    const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
    for (let t; (t = re.exec(m[2]));) args.push(t[1] !== undefined ? t[1].replace(/\\(.)/g, '$1') : t[2]);
    out.push({ instruction, args });
  }
  return out;
}

describe('model card', () => {
  it('has the YAML header the Hub reads, and the training facts in the body', () => {
    const card = renderModelCard(facts({ dataset: { name: 'x', hash: null, hubId: 'acme/support', examples: 10 } }), {
      kind: 'adapter',
      title: 'my-lora',
      location: 'alice/my-lora',
      onHub: true,
      lossCurveFile: 'loss_curve.svg',
    });
    const header = /^---\n([\s\S]*?)\n---\n/.exec(card)![1];
    const meta = parseYaml(header) as Record<string, unknown>;
    expect(meta).toEqual({
      base_model: 'HuggingFaceTB/SmolLM2-135M',
      library_name: 'peft',
      pipeline_tag: 'text-generation',
      tags: ['lora-studio', 'lora', 'peft', 'base_model:adapter:HuggingFaceTB/SmolLM2-135M'],
      license: 'apache-2.0',
      datasets: ['acme/support'],
    });
    expect(cardFrontMatter(card)).toEqual(meta);
    for (const text of [
      '| LoRA rank (r) / alpha | 16 / 32 |',
      '`k_proj`, `q_proj`',
      '| Learning rate | 2e-4, cosine schedule |',
      '| Batch | 2 × 4 gradient accumulation = 8 |',
      '| Training time | 12 min 34 s |',
      '| Tokens trained on | 81,234 |',
      '| base model | 9.870 |',
      '| fine-tuned | 4.320 |',
      '![Training loss by step](loss_curve.svg)',
      'PeftModel.from_pretrained(base, "alice/my-lora")',
      'AutoModelForCausalLM.from_pretrained("HuggingFaceTB/SmolLM2-135M")',
      '[acme/support](https://huggingface.co/datasets/acme/support)',
    ]) {
      expect(card).toContain(text);
    }
  });

  it('leaves out what the studio does not know', () => {
    const card = renderModelCard(
      facts({
        baseModelHubId: null,
        baseModelName: null,
        license: null,
        training: null,
        dataset: null,
        evaluation: null,
        lossCurve: [],
        evalCurve: [],
        lora: null,
        method: null,
        architecture: null,
      }),
      {
        kind: 'model',
        title: 'merged',
        location: '/tmp/merged',
        onHub: false,
      },
    );
    const meta = cardFrontMatter(card)!;
    // No architecture known: no task claimed either.
    expect(meta).toEqual({ library_name: 'transformers', tags: ['lora-studio'] });
    expect(card).not.toMatch(/## Training|## Evaluation|## Loss curve|license|base_model|undefined|null|NaN/);
    expect(card).toContain('AutoModelForCausalLM.from_pretrained("/tmp/merged")');
  });

  it('takes the task from the architecture’s head', () => {
    const card = renderModelCard(facts({ architecture: 'BertForSequenceClassification' }), {
      kind: 'adapter',
      title: 'cls',
      location: 'alice/cls',
      onHub: true,
    });
    expect(cardFrontMatter(card)!.pipeline_tag).toBe('text-classification');
    expect(card).toContain('base = AutoModelForSequenceClassification.from_pretrained("HuggingFaceTB/SmolLM2-135M")');
    const qa = renderModelCard(facts({ architecture: 'DistilBertForQuestionAnswering' }), {
      kind: 'model',
      title: 'qa',
      location: 'alice/qa',
      onHub: true,
    });
    expect(cardFrontMatter(qa)!.pipeline_tag).toBe('question-answering');
  });

  it('a GGUF card on the Hub names the file by quantization and says how Ollama and llama.cpp load it', () => {
    const card = renderModelCard(facts(), {
      kind: 'gguf',
      title: 'tiny',
      location: 'alice/tiny-GGUF',
      onHub: true,
      gguf: { file: 'tiny-Q8_0.gguf', quant: 'Q8_0', adapter: false },
    });
    expect(cardFrontMatter(card)!.tags).toEqual(['lora-studio', 'lora', 'gguf']);
    expect(cardFrontMatter(card)!.library_name).toBeUndefined();
    expect(card).toContain('ollama run hf.co/alice/tiny-GGUF:Q8_0');
    expect(card).toContain('llama-cli -hf alice/tiny-GGUF:Q8_0');
  });

  it('reads the base model facts from its own files: Hub id from the cache path, license from its card, stop strings from its template', async () => {
    expect(hubIdFromCachePath(modelDir)).toBe('acme/tiny-chat');
    expect(hubIdFromCachePath('/data/my-model')).toBeNull();
    expect(hubIdFromCachePath('/c/hub/datasets--acme--support/snapshots/abc/train.jsonl', 'dataset')).toBe(
      'acme/support',
    );
    expect(await baseModelLicense(modelDir)).toBe('mit');
    expect(await baseModelLicense(dir)).toBeNull();
    expect(await chatStopTokens(modelDir)).toEqual(['<|im_end|>']);
  });
});

describe('facts from folders alone', () => {
  it('an adapter config naming a Hub id gives base_model; a base folder in the Hub cache says it too; sampling is Chat’s', async () => {
    const adapterDir = join(dir, 'py-adapter');
    await mkdir(adapterDir);
    await writeFile(
      join(adapterDir, 'adapter_config.json'),
      JSON.stringify({
        peft_type: 'LORA',
        r: 8,
        lora_alpha: 16,
        lora_dropout: 0.1,
        target_modules: ['model.layers.0.self_attn.q_proj', 'v_proj'],
        base_model_name_or_path: 'HuggingFaceTB/SmolLM2-135M',
      }),
    );
    const alone = await folderCardFacts({ baseDir: null, adapterDir, studioVersion: '9.9.9' });
    expect(alone).toMatchObject({
      baseModelHubId: 'HuggingFaceTB/SmolLM2-135M',
      method: 'lora',
      lora: { r: 8, alpha: 16, dropout: 0.1, targetModules: ['q_proj', 'v_proj'], rslora: false },
      license: null,
      training: null,
      sampling: { temperature: 0.7, topK: 50, topP: 0.9, repetitionPenalty: 1.1 },
      studioVersion: '9.9.9',
    });
    const withBase = await folderCardFacts({ baseDir: modelDir, adapterDir, studioVersion: '9.9.9' });
    expect(withBase).toMatchObject({
      baseModelHubId: 'acme/tiny-chat',
      license: 'mit',
      architecture: 'Qwen2ForCausalLM',
      stopTokens: ['<|im_end|>'],
    });
  });
});

describe('loss curve', () => {
  it('draws one point per logged step, lower loss higher on the image, with round ticks', () => {
    const svg = renderLossCurveSvg(facts().lossCurve, facts().evalCurve)!;
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    const points = /<polyline id="train"[^>]* points="([^"]+)"/
      .exec(svg)![1]
      .split(' ')
      .map((p) => p.split(',').map(Number));
    expect(points).toHaveLength(4);
    for (let i = 1; i < points.length; i++) {
      expect(points[i][0]).toBeGreaterThan(points[i - 1][0]); // steps go right
      expect(points[i][1]).toBeGreaterThan(points[i - 1][1]); // falling loss goes down the page (y grows downward)
    }
    expect(svg).toContain('<polyline id="eval"');
    expect(niceTicks(1.2, 2.6)).toEqual([1.5, 2, 2.5]);
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(renderLossCurveSvg([])).toBeNull();
    expect(renderLossCurveSvg([{ step: 1, loss: Number.NaN }])).toBeNull();
  });
});

describe('GGUF for Ollama and LM Studio', () => {
  it('names files by quantization, read from the GGUF itself', async () => {
    expect(await readGgufFacts(ggufPath)).toMatchObject({ quant: 'Q8_0', type: 'model' });
    expect(ggufFileName('tiny-chat', 'Q8_0')).toBe('tiny-chat-Q8_0.gguf');
    expect(ggufFileName('tiny-chat-q8_0', 'Q8_0')).toBe('tiny-chat-Q8_0.gguf');
    expect(ggufFileName('my model!', 'BF16')).toBe('my-model-BF16.gguf');
    expect(ollamaCreateForGguf('/x/My Model-q8_0.gguf')).toBe(
      `ollama create my-model-q8_0 -f '/x/My Model-q8_0.Modelfile'`,
    );
    expect(ollamaCreateForGguf('C:\\exports\\tiny.v2.gguf')).toBe(
      `ollama create tiny.v2 -f 'C:\\exports\\tiny.v2.Modelfile'`,
    );
  });

  it('writes a Modelfile beside an export that Ollama’s grammar parses, whose GGUF llama.cpp loads and knows each stop string', async () => {
    const res = await writeExportCard('gguf', ggufPath, facts({ stopTokens: await chatStopTokens(modelDir) }));
    const modelfile = join(dir, 'tiny-chat-gguf-q8_0.Modelfile');
    expect(res.written).toEqual([modelfile]);
    expect(res.ollamaCreate).toBe(`ollama create tiny-chat-gguf-q8_0 -f ${modelfile}`);
    const parsed = parseModelfile(await readFile(modelfile, 'utf8'));
    const from = parsed.filter((l) => l.instruction === 'FROM');
    expect(from).toEqual([{ instruction: 'FROM', args: ['./tiny-chat-gguf-q8_0.gguf'] }]);
    const params = Object.fromEntries(
      parsed
        .filter((l) => l.instruction === 'PARAMETER' && l.args[0] !== 'stop')
        .map((l) => [l.args[0], Number(l.args[1])]),
    );
    expect(params).toEqual({ temperature: 0.7, top_k: 50, top_p: 0.9, repeat_penalty: 1.1 });
    const stops = parsed.filter((l) => l.instruction === 'PARAMETER' && l.args[0] === 'stop').map((l) => l.args[1]);
    expect(stops).toEqual(['<|im_end|>']);

    // FROM is relative to the Modelfile's folder, as Ollama resolves it.
    const model = await llama.loadModel({ modelPath: resolve(dirname(modelfile), from[0].args[0]) });
    try {
      for (const stop of stops) {
        const ids = model.tokenize(stop, true);
        expect(ids, stop).toHaveLength(1);
        expect(model.detokenize(ids, true)).toBe(stop);
      }
      expect(model.fileInfo.metadata.tokenizer?.chat_template ?? '').toContain('<|im_end|>');
    } finally {
      await model.dispose();
    }
  });

  it('publishes a GGUF repo the way ollama run hf.co/<repo>:<quant> expects, byte for byte', async () => {
    const hub = new MockPushHub();
    await hub.start();
    try {
      const set = await publishFiles('gguf', ggufPath, 'alice/tiny-chat-GGUF', facts());
      expect(set.files.map((f) => f.path).sort()).toEqual([
        'Modelfile',
        'README.md',
        'loss_curve.svg',
        'tiny-chat-GGUF-Q8_0.gguf',
      ]);
      await pushToHub({
        repo: 'alice/tiny-chat-GGUF',
        files: set.files,
        message: 'gguf',
        env: { HF_ENDPOINT: hub.endpoint, HF_TOKEN: WRITE_TOKEN },
      });
      const held = hub.filesOf('alice/tiny-chat-GGUF');
      expect(sha256(held.get('tiny-chat-GGUF-Q8_0.gguf')!)).toBe(sha256(await readFile(ggufPath)));
      expect(held.get('tiny-chat-GGUF-Q8_0.gguf')!.length).toBe((await stat(ggufPath)).size);
      const readme = held.get('README.md')!.toString();
      expect(readme).toContain('ollama run hf.co/alice/tiny-chat-GGUF:Q8_0');
      expect(parseModelfile(held.get('Modelfile')!.toString()).find((l) => l.instruction === 'FROM')!.args).toEqual([
        './tiny-chat-GGUF-Q8_0.gguf',
      ]);
      expect(held.get('loss_curve.svg')!.toString()).toContain('<polyline id="train"');
    } finally {
      await hub.stop();
    }
  });

  it('a LoRA GGUF is published as an adapter: no Modelfile, named as the LoRA it is', async () => {
    const fx = await makeChatFixture(join(dir, 'lora-fx'));
    const loraPath = join(dir, 'style-lora.gguf');
    await exportLoraGguf({ baseDir: fx.model.dir, adapter: fx.adapters[0], outFile: loraPath, type: 'f16' });
    expect(await readGgufFacts(loraPath)).toMatchObject({ type: 'adapter' });
    const set = await publishFiles('gguf', loraPath, 'alice/style', facts());
    const names = set.files.map((f) => f.path).sort();
    expect(names).not.toContain('Modelfile');
    expect(names.filter((n) => n.endsWith('.gguf'))).toEqual([set.ggufFile]);
    // A LoRA GGUF declares no general.file_type, so its name carries no quantization.
    expect(set.ggufFile).toBe('style-lora.gguf');
    const card = new TextDecoder().decode(
      (set.files.find((f) => f.path === 'README.md')!.content as { bytes: Uint8Array }).bytes,
    );
    expect(card).toContain(`llama-cli -m base.gguf --lora ${set.ggufFile}`);
    expect(card).not.toContain('ollama run');
    expect(await writeExportCard('gguf', loraPath, facts())).toEqual({ written: [], ollamaCreate: null });
  });

  it('writes README.md and loss_curve.svg into a folder export', async () => {
    const out = join(dir, 'merged');
    await makeTinyModel(out, 'qwen2', { layers: 1 });
    const res = await writeExportCard('model', out, facts());
    expect(res.written.sort()).toEqual([join(out, 'README.md'), join(out, 'loss_curve.svg')]);
    const card = await readFile(join(out, 'README.md'), 'utf8');
    expect(cardFrontMatter(card)).toMatchObject({
      base_model: 'HuggingFaceTB/SmolLM2-135M',
      library_name: 'transformers',
      license: 'apache-2.0',
    });
    expect(card).toContain(`from_pretrained(${JSON.stringify(out)})`);
  });
});
