// `lora-studio eval --run <fusion run> --singles [--task-eval <file>]…`: "fusion vs singles" (issue 15) — each
// adapter alone, their uniform average and the learned combination, on the run's eval split or on each eval file
// (one table per file), through the same `fusionEval.start` job the Evaluate page starts.
import { resolve } from 'node:path';
import type { FusionEvalResult } from '../../../common/api/fusion-eval.ts';
import type { Job } from '../../../common/api/jobs.ts';
import type { StudioCore } from '../../core/index.ts';
import { printJson } from '../context.ts';
import { followJob } from './train.ts';

export function printFusionEval(r: FusionEvalResult): void {
  const lines = [`fusion vs singles (run ${r.runId}, ${r.mode} mode): perplexity, lower is better`];
  for (const t of r.tables) {
    lines.push(`  ${t.path ?? 'the run’s eval split'} (${t.examples} examples, ${t.tokens.toLocaleString('en-US')} scored tokens):`);
    const rows: [string, number][] = [...t.single.map((s) => [`alone: ${s.name}`, s.perplexity] as [string, number]), ['uniform average', t.uniform], [`learned (${r.mode})`, t.learned]];
    const best = Math.min(...rows.map(([, p]) => p));
    const width = Math.max(...rows.map(([n]) => n.length));
    for (const [name, p] of rows) lines.push(`    ${name.padEnd(width)}  ${p.toFixed(3)}${p === best ? '  ← best' : ''}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

export async function evalFusionSingles(core: StudioCore, runId: string, files: readonly string[], json: boolean): Promise<void> {
  const { jobId } = (await core.invoke('fusionEval.start', { runId, datasets: files.map((f) => resolve(f)) })) as { jobId: string };
  const job: Job = await followJob(core, jobId, 'fusion vs singles', { cancel: () => core.invoke('jobs.cancel', { id: jobId }) });
  if (job.status !== 'succeeded') {
    if (job.error) process.stderr.write(`${job.error}\n`);
    process.exitCode = job.status === 'cancelled' ? 130 : 1;
    return;
  }
  const r = (await core.invoke('fusionEval.get', { runId })) as FusionEvalResult;
  if (json) printJson(r);
  else printFusionEval(r);
}
