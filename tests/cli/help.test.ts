// Every command of the CLI, including ones added later, has a description and a --help.
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { createProgram } from '../../src/main/cli/program.ts';

function allCommands(root: Command, prefix: string[] = []): { path: string[]; command: Command }[] {
  return root.commands.flatMap((c) => [{ path: [...prefix, c.name()], command: c }, ...allCommands(c, [...prefix, c.name()])]);
}

describe('lora-studio --help', () => {
  const program = createProgram();
  const commands = allCommands(program);

  it('registers the foundation commands', () => {
    const names = commands.map((c) => c.path.join(' '));
    for (const n of ['serve', 'projects list', 'projects create', 'projects show', 'projects rename', 'projects delete', 'doctor', 'jobs list']) {
      expect(names).toContain(n);
    }
  });

  it.each(commands.map((c) => [c.path.join(' '), c.command] as const))('%s has a description and help', (path, command) => {
    expect(command.description(), path).not.toBe('');
    const help = command.helpInformation();
    expect(help).toMatch(new RegExp(`^Usage: lora-studio ${path}`));
    expect(help).toContain('-h, --help');
  });
});
