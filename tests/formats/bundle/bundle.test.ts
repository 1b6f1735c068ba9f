// The job bundle on the demo dataset and the bundled default model: the rows in the bundle are the studio's own
// training tokens (read back from disk and compared with what a `train` job renders), the readable chat rows
// render through the bundled chat template to exactly those tokens with the loss on exactly the assistant turns,
// every emitted config key is one of Axolotl's / TRL's / PEFT's / accelerate's own field names (upstream-keys.json,
// which cites the source files and commits the names were read from), the YAML parses (npm `yaml`, and PyYAML —
// what Axolotl and accelerate load it with — when python3 has it), the TRL script compiles with py_compile, and the
// bundle is never written into, over or above an input.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BUNDLE_RECORD_FILE } from '../../../src/common/api/bundles.ts';
import { RunConfig } from '../../../src/common/api/runs.ts';
import { loadRunExamples } from '../../../src/main/engine/data/run-examples.ts';
import { BUNDLE_PATHS } from '../../../src/main/formats/bundle/settings.ts';
import { bundleFiles, writeBundle, type BundleContent } from '../../../src/main/formats/bundle/write.ts';
import { HfTokenizer, renderChat } from '../../../src/main/formats/tokenizer/index.ts';
import { buildBundleContent } from '../../../src/main/worker/jobs/run-bundle.ts';
import upstream from './upstream-keys.json' with { type: 'json' };

const ROOT = join(import.meta.dirname, '../../..');
const MODEL = join(ROOT, 'resources/default-model');
const DEMO = join(ROOT, 'resources/demo-dataset/train.jsonl');

const python = spawnSync('python3', ['--version']).status === 0 ? 'python3' : null;
const pyyaml = python !== null && spawnSync(python, ['-c', 'import yaml']).status === 0;

let dir: string;
let content: BundleContent;
const config = RunConfig.parse({
  model: MODEL,
  dataset: { path: DEMO, eval_split: { kind: 'ratio', ratio: 0.1 } },
  max_seq_length: 48, // short enough that some demo rows are cut: truncation must travel too
  seed: 7,
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lora-bundle-'));
  content = await buildBundleContent({ config, run: null, appVersion: 'test', model: { hubId: null, revision: null } });
  await writeBundle(join(dir, 'bundle'), content, {
    overwrite: false,
    inputs: [
      { path: MODEL, role: 'base model' },
      { path: DEMO, role: 'dataset' },
    ],
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const readJsonl = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('bundled dataset = the studio’s training text', () => {
  it('holds exactly the tokens and trained positions a train job renders (split, template, masking, truncation)', async () => {
    const tokenizer = HfTokenizer.load(MODEL);
    const studio = await loadRunExamples({ config, tokenizer });
    for (const [file, rows] of [
      [BUNDLE_PATHS.trainTokenized, studio.train],
      [BUNDLE_PATHS.evalTokenized, studio.eval],
    ] as const) {
      const bundled = readJsonl(join(dir, 'bundle', file));
      expect(bundled.length).toBe(rows.length);
      bundled.forEach((row, i) => {
        expect(Object.keys(row).sort()).toEqual(['attention_mask', 'input_ids', 'labels']); // Axolotl: exactly these
        expect(row.input_ids).toEqual(Array.from(rows[i].ids));
        expect(row.labels).toEqual(Array.from(rows[i].ids, (id, t) => (rows[i].trained[t] ? id : -100)));
        expect(row.attention_mask).toEqual(Array.from(rows[i].ids, () => 1));
      });
    }
    expect(studio.train.length + studio.eval.length + studio.untrained).toBe(883); // every demo row, 10% held out by the seed
    expect(studio.truncated).toBeGreaterThan(0);
  });

  it('renders its readable chat rows through the bundled template to those same tokens, the loss on the assistant turns only', () => {
    const tokenizer = HfTokenizer.load(MODEL);
    const template = readFileSync(join(dir, 'bundle', BUNDLE_PATHS.chatTemplate), 'utf8');
    const readable = readJsonl(join(dir, 'bundle', BUNDLE_PATHS.trainReadable));
    const tokenized = readJsonl(join(dir, 'bundle', BUNDLE_PATHS.trainTokenized));
    let compared = 0;
    readable.forEach((row, i) => {
      const messages = row.messages as { role: string; content: string }[];
      const ids = tokenizer.encode(renderChat(tokenizer, messages, { template }));
      const bundled = tokenized[i].input_ids as number[];
      const labels = tokenized[i].labels as number[];
      // a row cut by max_seq_length is the head of the full rendering; the others are all of it
      expect(bundled).toEqual(ids.slice(0, bundled.length));
      if (bundled.length < ids.length) return;
      compared++;
      const trained = tokenizer.decode(bundled.filter((_, t) => labels[t] !== -100));
      expect(trained).toBe(
        messages
          .filter((m) => m.role === 'assistant')
          .map((m) => `${m.content}<|im_end|>`)
          .join(''),
      );
    });
    expect(compared).toBeGreaterThan(readable.length / 2);
  });

  it('records the data hash, template, model, settings, seed and app version', () => {
    const record = JSON.parse(readFileSync(join(dir, 'bundle', BUNDLE_RECORD_FILE), 'utf8'));
    expect(record.dataset.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(record.dataset.train_rows + record.dataset.eval_rows).toBe(content.train.length + content.eval.length);
    expect(record.dataset.eval_rows).toBeGreaterThan(80);
    expect(record.template.chat_template).toBe(readFileSync(join(dir, 'bundle', BUNDLE_PATHS.chatTemplate), 'utf8'));
    expect(record).toMatchObject({
      seed: 7,
      app_version: 'test',
      model: { path: MODEL, hub_id: null, architecture: 'LlamaForCausalLM' },
    });
    expect(RunConfig.parse(record.settings)).toEqual(config);
  });
});

/** One call recorded by python-stubs/_record.py. */
interface StubCall {
  call: string;
  kwargs: Record<string, unknown>;
  columns: Record<string, string[]>;
  train_rows: number;
  eval_rows: number | null;
  peft: boolean;
  chat_template: string | null;
}

/** Configs exercising every branch of the mapping: LoRA, QLoRA with all-linear and packing, full fine-tuning, no eval. */
function variants(): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  const withSettings = (name: string, patch: Partial<RunConfig>, o: { noEval?: boolean; hub?: boolean } = {}) => {
    const settings = RunConfig.parse({ ...config, ...patch });
    const model = o.hub
      ? { ...content.model, load: 'org/model', revision: 'abc123', copyLocalFolder: false }
      : content.model;
    out.set(
      name,
      bundleFiles({ ...content, model, record: { ...content.record, settings }, eval: o.noEval ? [] : content.eval }),
    );
  };
  withSettings('lora', {});
  withSettings(
    'qlora',
    {
      method: 'qlora',
      lora: { ...config.lora, target_modules: 'all-linear', use_rslora: true },
      packing: true,
      eval_steps: 5,
      save_steps: 10,
      warmup_steps: 3,
      max_steps: 30,
    },
    { hub: true },
  );
  withSettings(
    'full',
    { method: 'full', lora: config.lora, max_grad_norm: null, save_total_limit: null },
    { noEval: true },
  );
  return out;
}

function unknownKeys(keys: Iterable<string>, allowed: readonly string[]): string[] {
  const set = new Set(allowed);
  return [...keys].filter((k) => !set.has(k));
}

describe('every emitted key is the trainers’ own', () => {
  it('Axolotl YAML: top-level keys and dataset entries (AxolotlInputConfig, SFTDataset)', () => {
    for (const [name, files] of variants()) {
      const yaml = parse(files.get(BUNDLE_PATHS.axolotl)!) as Record<string, unknown>;
      expect(unknownKeys(Object.keys(yaml), upstream.axolotl.config), name).toEqual([]);
      for (const entry of [...((yaml.datasets as object[]) ?? []), ...((yaml.test_datasets as object[]) ?? [])]) {
        expect(unknownKeys(Object.keys(entry), upstream.axolotl.dataset), name).toEqual([]);
      }
      if (name === 'qlora')
        expect(yaml).toMatchObject({
          adapter: 'qlora',
          load_in_4bit: true,
          lora_target_linear: true,
          sample_packing: true,
          base_model: 'org/model',
          revision_of_model: 'abc123',
        });
      if (name === 'full') expect(yaml.adapter).toBeUndefined();
    }
  });

  it('accelerate configs: ClusterConfig fields, fsdp_config and deepspeed_config keys', () => {
    const files = variants().get('lora')!;
    const fsdp = parse(files.get(BUNDLE_PATHS.fsdp)!) as Record<string, Record<string, unknown>>;
    const ds = parse(files.get(BUNDLE_PATHS.deepspeed)!) as Record<string, Record<string, unknown>>;
    expect(unknownKeys(Object.keys(fsdp), upstream.accelerate.cluster_config)).toEqual([]);
    expect(unknownKeys(Object.keys(ds), upstream.accelerate.cluster_config)).toEqual([]);
    expect(unknownKeys(Object.keys(fsdp.fsdp_config), upstream.accelerate.fsdp_config)).toEqual([]);
    expect(unknownKeys(Object.keys(ds.deepspeed_config), upstream.accelerate.deepspeed_config)).toEqual([]);
    expect(fsdp).toMatchObject({
      distributed_type: 'FSDP',
      fsdp_config: { fsdp_version: 2, fsdp_transformer_layer_cls_to_wrap: 'LlamaDecoderLayer' },
    });
    expect(ds).toMatchObject({
      distributed_type: 'DEEPSPEED',
      deepspeed_config: { zero_stage: 3, gradient_accumulation_steps: config.gradient_accumulation_steps },
    });
  });

  it.skipIf(python === null)(
    'TRL script: SFTConfig, LoraConfig and BitsAndBytesConfig keyword arguments (read with Python’s ast); it compiles',
    () => {
      for (const [name, files] of variants()) {
        const script = join(dir, `train_trl_${name}.py`);
        writeFileSync(script, files.get(BUNDLE_PATHS.trlScript)!);
        execFileSync(python!, ['-m', 'py_compile', script]);
        const read = `import ast, json, sys
tree = ast.parse(open(sys.argv[1]).read())
out = {n.targets[0].id: ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name) and n.targets[0].id in ("TRAINING_ARGS", "LORA_CONFIG", "QUANTIZATION")}
print(json.dumps(out))`;
        const dicts = JSON.parse(execFileSync(python!, ['-c', read, script], { encoding: 'utf8' })) as Record<
          string,
          Record<string, unknown> | null
        >;
        expect(unknownKeys(Object.keys(dicts.TRAINING_ARGS!), upstream.trl.sft_config), name).toEqual([]);
        expect(unknownKeys(Object.keys(dicts.LORA_CONFIG ?? {}), upstream.peft.lora_config), name).toEqual([]);
        expect(
          unknownKeys(Object.keys(dicts.QUANTIZATION ?? {}), upstream.transformers_bitsandbytes.bitsandbytes_config),
          name,
        ).toEqual([]);
        expect(dicts.TRAINING_ARGS).toMatchObject({ seed: 7, max_length: 48, learning_rate: config.learning_rate });
        if (name === 'full') expect(dicts.LORA_CONFIG).toBeNull();
        if (name === 'qlora')
          expect(dicts.QUANTIZATION).toMatchObject({ load_in_4bit: true, bnb_4bit_quant_type: 'nf4' });
      }
    },
  );

  it.skipIf(python === null)(
    'TRL script runs end to end against recording doubles of torch / transformers / datasets / peft / trl (python-stubs/): files found, effective batch kept on 2 processes, record and training args saved',
    () => {
      for (const [name, files] of variants()) {
        const folder = join(dir, `run-${name}`);
        for (const [file, text] of files) {
          mkdirSync(join(folder, file, '..'), { recursive: true });
          writeFileSync(join(folder, file), text);
        }
        const calls = join(dir, `calls-${name}.jsonl`);
        execFileSync(python!, [join(folder, BUNDLE_PATHS.trlScript)], {
          env: {
            ...process.env,
            PYTHONPATH: join(import.meta.dirname, 'python-stubs'),
            STUB_CALLS: calls,
            UPSTREAM_KEYS: join(import.meta.dirname, 'upstream-keys.json'),
            WORLD_SIZE: '2',
          },
        });
        const log = readFileSync(calls, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as StubCall);
        const find = (call: string) => log.find((c) => c.call === call);
        expect(find('SFTConfig')!.kwargs.gradient_accumulation_steps, name).toBe(
          config.gradient_accumulation_steps / 2,
        );
        expect(find('load_dataset')!.columns.train).toEqual(['attention_mask', 'input_ids', 'labels']);
        expect(find('SFTTrainer')).toMatchObject({ train_rows: content.train.length, peft: name !== 'full' });
        expect(find('SFTTrainer')!.eval_rows).toBe(name === 'full' ? null : content.eval.length);
        expect(log.map((c) => c.call)).toEqual(
          expect.arrayContaining(['train', 'save_model', 'save_state', 'tokenizer.save_pretrained']),
        );
        expect(find('tokenizer.save_pretrained')!.chat_template).toBe(content.chatTemplate);
        // eval_steps unset: one evaluation at the end, as the studio does
        if (name === 'lora') expect(find('evaluate')).toBeDefined();
        if (name === 'qlora')
          expect(find('BitsAndBytesConfig')!.kwargs).toMatchObject({
            load_in_4bit: true,
            bnb_4bit_quant_type: 'nf4',
            bnb_4bit_compute_dtype: 'torch.bfloat16',
          });
        expect(JSON.parse(readFileSync(join(folder, 'output', BUNDLE_RECORD_FILE), 'utf8'))).toEqual(
          JSON.parse(files.get(BUNDLE_RECORD_FILE)!),
        );
        expect(JSON.parse(readFileSync(join(folder, 'output', 'training_args.json'), 'utf8'))).toMatchObject({
          seed: 7,
          max_length: 48,
        });
      }
    },
  );

  it.skipIf(!pyyaml)('PyYAML (what Axolotl and accelerate load configs with) reads every number as a number', () => {
    for (const [name, files] of variants()) {
      for (const file of [BUNDLE_PATHS.axolotl, BUNDLE_PATHS.fsdp, BUNDLE_PATHS.deepspeed]) {
        const path = join(dir, `${name}-${file.replace(/\//g, '_')}`);
        writeFileSync(path, files.get(file)!);
        const viaPython = JSON.parse(
          execFileSync(
            python!,
            ['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', path],
            { encoding: 'utf8' },
          ),
        );
        expect(viaPython, `${name} ${file}`).toEqual(parse(files.get(file)!));
      }
    }
  });
});

describe('writing a bundle never touches an input', () => {
  const hash = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

  it('refuses a folder that is, holds or sits inside an input, and a foreign non-empty folder; overwrite replaces only a bundle', async () => {
    const data = join(dir, 'inputs');
    mkdirSync(join(data, 'model'), { recursive: true });
    const dataset = join(data, 'rows.jsonl');
    writeFileSync(dataset, '{"text":"hi"}\n');
    const before = hash(dataset);
    const inputs = [
      { path: dataset, role: 'dataset' },
      { path: join(data, 'model'), role: 'base model' },
    ];
    await expect(writeBundle(join(data, 'model', 'bundle'), content, { overwrite: true, inputs })).rejects.toThrow(
      /is inside the base model .*choose a path outside it/,
    );
    await expect(writeBundle(dataset, content, { overwrite: true, inputs })).rejects.toThrow(
      /is the dataset .*an output never replaces an input/,
    );
    await expect(writeBundle(data, content, { overwrite: true, inputs })).rejects.toThrow(
      /contains the dataset .*replacing it would delete the input/,
    );
    const foreign = join(dir, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'notes.txt'), 'mine');
    await expect(writeBundle(foreign, content, { overwrite: true, inputs: [] })).rejects.toThrow(
      /not something LoRA Studio wrote \(it holds notes.txt\)/,
    );
    expect(readFileSync(join(foreign, 'notes.txt'), 'utf8')).toBe('mine');
    await expect(writeBundle(join(dir, 'bundle'), content, { overwrite: false, inputs: [] })).rejects.toThrow(
      /already exists \(a job bundle folder .*written earlier\)/,
    );
    await writeBundle(join(dir, 'bundle'), content, { overwrite: true, inputs: [] });
    expect(hash(dataset)).toBe(before);
  });
});
