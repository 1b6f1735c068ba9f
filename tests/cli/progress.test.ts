import { describe, expect, it } from 'vitest';
import { ProgressBar, formatDuration, renderBar } from '../../src/main/cli/progress.ts';

class Sink {
  chunks: string[] = [];
  columns = 80;
  isTTY = false;
  write(s: string) {
    this.chunks.push(s);
    return true;
  }
}

describe('progress bar', () => {
  it('renders fractions, unknown progress and durations', () => {
    expect(renderBar(0.5, 10)).toBe('[#####-----]  50%');
    expect(renderBar(1.7, 4)).toBe('[####] 100%');
    expect(renderBar(null, 4)).toBe('[----]   ?%');
    expect(formatDuration(5)).toBe('5s');
    expect(formatDuration(125)).toBe('2m05s');
    expect(formatDuration(3 * 3600 + 7 * 60)).toBe('3h07m');
    expect(formatDuration(Number.NaN)).toBe('--');
  });

  it('redraws one line in place on a terminal', () => {
    const sink = new Sink();
    const bar = new ProgressBar('train', { stream: sink as unknown as NodeJS.WriteStream, width: 10, tty: true });
    bar.update(0.25, 'step 1', 90);
    bar.update(0.5, 'step 2', 60);
    bar.done('finished');
    expect(sink.chunks[0]).toBe('\rtrain [###-------]  25% eta 1m30s  step 1\x1b[K');
    expect(sink.chunks.at(-1)).toBe('train finished\n');
    expect(sink.chunks.join('')).not.toMatch(/%[^\n]*\n[^\n]*%/); // no bar ever ended with a newline
  });

  it('prints sparse plain lines when not a terminal', () => {
    const sink = new Sink();
    let t = 0;
    const bar = new ProgressBar('eval', { stream: sink as unknown as NodeJS.WriteStream, width: 4, tty: false, logEveryFraction: 0.5, logEveryMs: 1000, now: () => t });
    for (let i = 1; i <= 10; i++) bar.update(i / 10);
    t = 5000;
    bar.update(1);
    expect(sink.chunks).toEqual(['eval [----]  10%\n', 'eval [##--]  60%\n', 'eval [####] 100%\n', 'eval [####] 100%\n']);
  });
});
