import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import type { Project } from '../../../common/api/projects.ts';
import type { StudioCore } from '../../core/index.ts';
import { StudioError } from '../../core/index.ts';
import { printJson, printTable, shortTime, withCore } from '../context.ts';

/** Finds a project by id, or else by name (ignoring case). */
async function findProject(core: StudioCore, ref: string): Promise<Project> {
  const all = await core.call('projects.list', {});
  const match = all.find((p) => p.id === ref) ?? all.find((p) => p.name.toLowerCase() === ref.toLowerCase());
  if (!match) throw new StudioError('not_found', `no project with id or name "${ref}" (see \`lora-studio projects list\`)`);
  return match;
}

function printProject(p: Project): void {
  process.stdout.write(`${p.name}\n  id:          ${p.id}\n  description: ${p.description || '-'}\n  created:     ${shortTime(p.createdAt)}\n  updated:     ${shortTime(p.updatedAt)}\n`);
}

export function registerProjects(program: Command): void {
  const projects = program.command('projects').description('List, create, show, rename and delete projects');

  projects
    .command('list')
    .description('List projects, newest first')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, command: Command) =>
      withCore(command, async (core) => {
        const list = await core.call('projects.list', {});
        if (opts.json) return printJson(list);
        if (list.length === 0) return void process.stdout.write('No projects yet. Create one: lora-studio projects create "<name>"\n');
        printTable(['NAME', 'ID', 'CREATED', 'DESCRIPTION'], list.map((p) => [p.name, p.id, shortTime(p.createdAt), p.description]));
      }),
    );

  projects
    .command('create')
    .description('Create a project (names are unique)')
    .argument('<name>', 'the project name')
    .option('-d, --description <text>', 'a description', '')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { description: string; json?: boolean }, command: Command) =>
      withCore(command, async (core) => {
        const p = await core.call('projects.create', { name, description: opts.description });
        if (opts.json) return printJson(p);
        process.stdout.write(`Created project "${p.name}" (${p.id})\n`);
      }),
    );

  projects
    .command('show')
    .description('Show one project')
    .argument('<project>', 'id or name')
    .option('--json', 'print JSON')
    .action(async (ref: string, opts: { json?: boolean }, command: Command) =>
      withCore(command, async (core) => {
        const p = await findProject(core, ref);
        if (opts.json) return printJson(p);
        printProject(p);
      }),
    );

  projects
    .command('rename')
    .description('Rename a project')
    .argument('<project>', 'id or current name')
    .argument('<new-name>', 'the new name')
    .option('--json', 'print JSON')
    .action(async (ref: string, newName: string, opts: { json?: boolean }, command: Command) =>
      withCore(command, async (core) => {
        const p = await findProject(core, ref);
        const renamed = await core.call('projects.rename', { id: p.id, name: newName });
        if (opts.json) return printJson(renamed);
        process.stdout.write(`Renamed "${p.name}" to "${renamed.name}"\n`);
      }),
    );

  projects
    .command('delete')
    .description('Delete a project and everything recorded under it (runs, datasets, adapters, chats)')
    .argument('<project>', 'id or name')
    .option('-y, --yes', 'do not ask for confirmation (required when not on a terminal)')
    .option('--json', 'print JSON')
    .action(async (ref: string, opts: { yes?: boolean; json?: boolean }, command: Command) =>
      withCore(command, async (core) => {
        const p = await findProject(core, ref);
        if (!opts.yes) {
          if (!process.stdin.isTTY) throw new StudioError('invalid_input', `refusing to delete "${p.name}" without confirmation: add --yes`);
          const rl = createInterface({ input: process.stdin, output: process.stderr });
          const answer = await rl.question(`Delete project "${p.name}" and everything recorded under it? Type its name to confirm: `);
          rl.close();
          if (answer.trim() !== p.name) {
            process.stderr.write('Not deleted.\n');
            return;
          }
        }
        const result = await core.call('projects.delete', { id: p.id });
        if (opts.json) return printJson({ ...result, id: p.id });
        process.stdout.write(`Deleted project "${p.name}"\n`);
      }),
    );
}
