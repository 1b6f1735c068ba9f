import type { Command } from 'commander';
import { printJson, printTable, shortTime, withCore } from '../context.ts';

export function registerJobs(program: Command): void {
  const jobs = program.command('jobs').description('Background jobs (training, evaluation, downloads, exports)');

  jobs
    .command('list')
    .description('List jobs, newest first')
    .option('-p, --project <id>', 'only the jobs of this project (id)')
    .option('--json', 'print JSON')
    .action(async (opts: { project?: string; json?: boolean }, command: Command) =>
      withCore(command, async (core) => {
        const list = await core.call('jobs.list', opts.project ? { projectId: opts.project } : {});
        if (opts.json) return printJson(list);
        if (list.length === 0) return void process.stdout.write('No jobs.\n');
        printTable(
          ['ID', 'KIND', 'STATUS', 'PROGRESS', 'CREATED', 'ERROR'],
          list.map((j) => [j.id, j.kind, j.status, j.progress === null ? '-' : `${Math.round(j.progress * 100)}%`, shortTime(j.createdAt), j.error ?? '']),
        );
      }),
    );

  jobs
    .command('show')
    .description('Show one job')
    .argument('<id>', 'job id')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }, command: Command) =>
      withCore(command, async (core) => {
        const j = await core.call('jobs.get', { id });
        if (opts.json) return printJson(j);
        for (const [k, v] of Object.entries(j)) process.stdout.write(`${k.padEnd(10)} ${v ?? '-'}\n`);
      }),
    );
}
