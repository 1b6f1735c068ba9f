import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { RunConfig, TASK_METRIC, classificationSettings, describeRunConfigFields, questionAnsweringSettings, runMethods } from '../../../src/common/api/runs.ts';
import { methods } from '../../../src/common/api/contract.ts';

describe('RunConfig', () => {
  it('fills safe defaults from just a model and a dataset path', () => {
    const config = RunConfig.parse({ model: '/models/tiny', dataset: { path: '/data/train.jsonl' } });
    expect(config.method).toBe('lora');
    expect(config.lora).toEqual({ r: 16, lora_alpha: 32, lora_dropout: 0.05, target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], bias: 'none', use_rslora: false });
    expect(config.learning_rate).toBe(1e-4);
    expect(config.max_grad_norm).toBe(1.0);
    expect(config.train_on).toBe('completion');
    expect(config.lr_scheduler_type).toBe('cosine');
    expect(config.dataset.template).toEqual({ kind: 'auto' });
    expect(config.dataset.eval_split).toEqual({ kind: 'ratio', ratio: 0.1 });
    expect(config.max_steps).toBeNull();
  });

  it('names the field and the expectation when a value is wrong', () => {
    const result = RunConfig.safeParse({ model: 'm', dataset: { path: 'd' }, lora: { r: 0 }, lr_scheduler_type: 'polynomial' });
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((issue) => issue.path.join('.'));
    expect(paths).toContain('lora.r');
    expect(paths).toContain('lr_scheduler_type');
  });

  it('rejects a module listed twice', () => {
    const result = RunConfig.safeParse({ model: 'm', dataset: { path: 'd' }, lora: { target_modules: ['q_proj', 'q_proj'] } });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0].path).toEqual(['lora', 'target_modules']);
  });

  it('round-trips through JSON unchanged', () => {
    const config = RunConfig.parse({ model: 'm', dataset: { path: 'd', template: { kind: 'prompt', template: 'Q: {prompt}\nA: ' } }, max_steps: 20 });
    expect(RunConfig.parse(JSON.parse(JSON.stringify(config)))).toEqual(config);
  });

  it('explains every top-level field in one line', () => {
    const help = describeRunConfigFields();
    for (const key of ['model', 'learning_rate', 'lora', 'packing', 'train_on', 'seed', 'save_steps', 'dataset']) {
      expect(help[key], key).toBeTruthy();
      expect(help[key]).not.toContain('\n');
    }
  });

  it('is part of the API contract', () => {
    for (const name of Object.keys(runMethods)) expect(Object.keys(methods)).toContain(name);
  });

  it('exports a JSON Schema with the explanations, for the config editor', () => {
    const schema = z.toJSONSchema(RunConfig, { io: 'input' }) as { required: string[]; properties: Record<string, { description?: string; default?: unknown }> };
    expect(schema.required.sort()).toEqual(['dataset', 'model']);
    expect(schema.properties.learning_rate).toMatchObject({ default: 1e-4, description: expect.stringContaining('Step size') });
    expect(schema.properties.lora.description).toContain('PEFT');
  });
});


describe('RunConfig tasks', () => {
  const base = { model: 'm', dataset: { path: 'd' } };

  it('is causal language modelling unless told otherwise, with no task section', () => {
    const config = RunConfig.parse(base);
    expect(config.task).toBe('causal-lm');
    expect(config.classification).toBeUndefined();
    expect(config.question_answering).toBeUndefined();
  });

  it('fills the task section’s defaults when the task is given without one', () => {
    const config = RunConfig.parse({ ...base, task: 'question-answering', max_seq_length: 384 });
    expect(questionAnsweringSettings(config)).toMatchObject({ question_column: 'question', context_column: 'context', answers_column: 'answers', doc_stride: 128, max_answer_length: 30 });
    expect(classificationSettings(RunConfig.parse({ ...base, task: 'classification' }))).toEqual({ text_column: null, text_pair_column: null, label_column: 'label', labels: null });
  });

  it('refuses a section given with another task, naming both', () => {
    const result = RunConfig.safeParse({ ...base, classification: { label_column: 'sentiment' } });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0].path).toEqual(['classification']);
    expect(result.error!.issues[0].message).toMatch(/task "classification".*"causal-lm"/);
  });

  it('refuses unknown fields inside a task section', () => {
    const result = RunConfig.safeParse({ ...base, task: 'classification', classification: { label_colum: 'x' } });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0].path).toEqual(['classification']);
    expect(result.error!.issues[0].message).toContain('label_colum');
  });

  it('refuses packing for an encoder task and a doc stride as long as the window', () => {
    const packed = RunConfig.safeParse({ ...base, task: 'classification', packing: true });
    expect(packed.error!.issues.map((i) => i.path.join('.'))).toEqual(['packing']);
    const stride = RunConfig.safeParse({ ...base, task: 'question-answering', max_seq_length: 128, question_answering: { doc_stride: 128 } });
    expect(stride.error!.issues.map((i) => i.path.join('.'))).toEqual(['question_answering.doc_stride']);
  });

  it('refuses a label list of one name, and an unknown task', () => {
    expect(RunConfig.safeParse({ ...base, task: 'classification', classification: { labels: ['only'] } }).success).toBe(false);
    expect(RunConfig.safeParse({ ...base, task: 'summarization' }).error!.issues[0].path).toEqual(['task']);
  });

  it('names the figure each task is judged by', () => {
    expect(TASK_METRIC.classification.key).toBe('eval_accuracy');
    expect(TASK_METRIC['question-answering']).toMatchObject({ key: 'eval_f1', higherIsBetter: true });
    expect(TASK_METRIC['causal-lm'].higherIsBetter).toBe(false);
  });
});
