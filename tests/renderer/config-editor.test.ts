// The config editor's model: every RunConfig field is on the form with the contract's explanation, typed
// text becomes the value (or stays text so the schema reports it), issues land at their field, and presets
// keep the current model and dataset.
import { describe, expect, it } from 'vitest';
import { RunConfig, RunConfigObject } from '../../src/common/api/runs.ts';
import {
  applyPreset, defaultConfig, displayValue, FIELD_PATHS, getAt, issuesByField, parseTyped, presetOf, SECTIONS, setAt,
} from '../../src/renderer/src/pages/ConfigEditorModel.ts';

describe('config editor model', () => {
  it('covers every top-level field of RunConfig, each with its one-line explanation', () => {
    const topLevel = new Set(FIELD_PATHS.map((p) => p.split('.')[0]));
    expect([...topLevel].sort()).toEqual(Object.keys(RunConfigObject.shape).sort());
    for (const field of SECTIONS.flatMap((s) => s.fields)) expect(field.description, field.path.join('.')).not.toBe('');
  });

  it('reads and writes by path without touching the original', () => {
    const base = defaultConfig();
    const next = setAt(base, ['lora', 'r'], 64);
    expect(getAt(next, ['lora', 'r'])).toBe(64);
    expect(getAt(base, ['lora', 'r'])).toBe(16);
    expect(getAt(next, ['lora', 'lora_alpha'])).toBe(32);
  });

  it('parses typed text by kind and shows values back', () => {
    expect(parseTyped('number', '0.0002')).toBe(0.0002);
    expect(parseTyped('int', 'four')).toBe('four');
    expect(parseTyped('nullable-int', '  ')).toBeNull();
    expect(parseTyped('targets', 'q_proj, v_proj')).toEqual(['q_proj', 'v_proj']);
    expect(parseTyped('targets', 'all-linear')).toBe('all-linear');
    expect(displayValue('targets', ['q_proj', 'v_proj'])).toBe('q_proj, v_proj');
    expect(displayValue('nullable-int', null)).toBe('');
  });

  it('places the schema’s issues at their fields (nested ones at the nearest field)', () => {
    let value = setAt(setAt(defaultConfig(), ['model'], '/m'), ['dataset', 'path'], '/d.jsonl');
    expect(issuesByField(value).config).toEqual(RunConfig.parse(value));
    value = setAt(value, ['lora', 'r'], 'four');
    value = setAt(value, ['dataset', 'eval_split'], { kind: 'ratio', ratio: 2 });
    value = setAt(value, ['dataset', 'template'], { kind: 'prompt', template: '' });
    const { byField, config } = issuesByField(value);
    expect(config).toBeNull();
    expect(Object.keys(byField).sort()).toEqual(['dataset.eval_split', 'dataset.template', 'lora.r']);
    // A cross-field rule (checked once the fields are valid) lands at its field too.
    const valid = setAt(setAt(defaultConfig(), ['model'], '/m'), ['dataset', 'path'], '/d.jsonl');
    expect(issuesByField(setAt(valid, ['from_scratch'], true)).byField.from_scratch).toMatch(/needs method "full"/);
    expect(issuesByField(setAt(value, ['model'], '')).byField.model).toBeTruthy();
  });

  it('a preset leaves out the model and dataset file and keeps the current ones when applied', () => {
    const mine = setAt(setAt(setAt(defaultConfig(), ['model'], '/a'), ['dataset', 'path'], '/a.jsonl'), ['lora', 'r'], 64);
    const preset = presetOf(mine);
    expect(preset.model).toBeUndefined();
    expect(getAt(preset, ['dataset', 'path'])).toBeUndefined();
    const other = setAt(setAt(defaultConfig(), ['model'], '/b'), ['dataset', 'path'], '/b.jsonl');
    const applied = applyPreset(other, preset);
    expect(applied).toMatchObject({ model: '/b', dataset: { path: '/b.jsonl' }, lora: { r: 64 } });
    expect(RunConfig.safeParse(applied).success).toBe(true);
  });
});
