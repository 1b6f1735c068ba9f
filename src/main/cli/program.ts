// The `lora-studio` command line: global options, every command group, and error reporting.
import { Command } from 'commander';
import { appVersion } from '../core/app-version.ts';
import { DATA_DIR_ENV } from '../core/data-dir.ts';
import { commandGroups } from './commands/index.ts';

export function createProgram(): Command {
  const program = new Command('lora-studio')
    .description('LoRA Studio: fine-tune open LLMs with LoRA/QLoRA on your own machine')
    .version(appVersion())
    .option('--data-dir <dir>', `where projects, models and runs live (default: $${DATA_DIR_ENV}, else ~/.lora-studio)`)
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(add --help for usage)');
  for (const register of commandGroups) register(program);
  return program;
}
