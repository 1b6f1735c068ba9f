// `lora-studio demo --task classification` end to end, unshortened (issue 14's proof): LoRA (SEQ_CLS) and full
// fine-tuning of the bundled encoder on the bundled SST-2-style data from the same pretrained base. LoRA reaches
// accuracy ≥ 0.85 on the eval split, far above the base with its fresh head (a coin toss on two labels); the table
// has both runs' time, trainable parameters, memory and size; the last line has the figures in its fixed format.
import { beforeAll, describe, expect, it } from 'vitest';
import { runTaskDemo, type TaskDemoOutput } from './demo-task-run.ts';

let out: TaskDemoOutput;
beforeAll(async () => {
  out = await runTaskDemo('classification');
}, 2_460_000);

describe('demo --task classification', () => {
  it('ends with "demo task=classification metric=accuracy base=… lora=… full=…", LoRA ≥ 0.85', () => {
    expect(out.code, out.stderr.slice(-2000)).toBe(0);
    expect(out.last, out.stdout.slice(-2000)).not.toBeNull();
    const { task, metric, base, lora, full } = out.last!;
    expect([task, metric]).toEqual(['classification', 'accuracy']);
    expect(lora).toBeGreaterThanOrEqual(0.85);
    expect(full).toBeGreaterThanOrEqual(0.85);
    expect(base).toBeLessThan(0.75); // a fresh head on two balanced labels: about chance
    for (const v of [base, lora, full]) expect(v).toBeLessThanOrEqual(1);
  });

  it('prints LoRA and full side by side with time, trainable parameters, memory and size', () => {
    expect(out.stdout).toMatch(/ACCURACY\s+TRAINING TIME\s+TRAINABLE PARAMS\s+PEAK MEMORY\s+OUTPUT SIZE/);
    const row = (name: string) => new RegExp(`^${name}\\s+\\d\\.\\d{4}\\s+\\S+\\s+([\\d,]+)\\s+[\\d.]+ MiB\\s+[\\d.]+ MiB$`, 'm');
    const lora = row('LoRA').exec(out.stdout);
    const full = row('full').exec(out.stdout);
    expect(lora, out.stdout).not.toBeNull();
    expect(full, out.stdout).not.toBeNull();
    const trainable = (m: RegExpExecArray) => Number(m[1].replace(/,/g, ''));
    expect(trainable(lora!)).toBeLessThan(trainable(full!) / 10); // r=8 on query/value + the head vs every weight
  });
});
