// `lora-studio demo --task question-answering` end to end, unshortened (issue 14's proof): LoRA (QUESTION_ANS) and
// full fine-tuning of the bundled encoder on the bundled SQuAD-style data from the same pretrained base. LoRA
// reaches F1 ≥ 0.6 on the eval split (the official SQuAD normalisation), far above the base with its fresh
// qa_outputs head; the last line has the figures in its fixed format.
import { beforeAll, describe, expect, it } from 'vitest';
import { runTaskDemo, type TaskDemoOutput } from './demo-task-run.ts';

let out: TaskDemoOutput;
beforeAll(async () => {
  out = await runTaskDemo('question-answering');
}, 2_460_000);

describe('demo --task question-answering', () => {
  it('ends with "demo task=question-answering metric=f1 base=… lora=… full=…", LoRA F1 ≥ 0.6', () => {
    expect(out.code, out.stderr.slice(-2000)).toBe(0);
    expect(out.last, out.stdout.slice(-2000)).not.toBeNull();
    const { task, metric, base, lora, full } = out.last!;
    expect([task, metric]).toEqual(['question-answering', 'f1']);
    expect(lora).toBeGreaterThanOrEqual(0.6);
    expect(full).toBeGreaterThanOrEqual(0.6);
    expect(base).toBeLessThan(0.3); // a random span head finds almost no answer
    for (const v of [base, lora, full]) expect(v).toBeLessThanOrEqual(1);
  });

  it('prints LoRA and full side by side with F1, time, trainable parameters, memory and size', () => {
    expect(out.stdout).toMatch(/F1\s+TRAINING TIME\s+TRAINABLE PARAMS\s+PEAK MEMORY\s+OUTPUT SIZE/);
    for (const name of ['base \\(fresh head\\)', 'LoRA', 'full'])
      expect(out.stdout).toMatch(new RegExp(`^${name}\\s+\\d\\.\\d{4}\\s`, 'm'));
  });
});
