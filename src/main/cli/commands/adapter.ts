// `lora-studio adapter info <dir> [--base <model>]`: a PEFT LoRA adapter's config, layers and the
// template it was trained with; with --base, checked against the model and its trainable count.
import type { Command } from 'commander';
import { readAdapter, layerScale, countTrainable, matchTargetModules } from '../../formats/peft/index.ts';
import { readModelSpec } from '../../formats/model/index.ts';
import { printJson } from '../context.ts';

export function registerAdapter(program: Command): void {
  const adapter = program.command('adapter').description('Inspect LoRA adapters (PEFT format)');
  adapter
    .command('info')
    .argument('<dir>', 'an adapter folder (adapter_config.json + adapter_model.safetensors)')
    .option('--base <dir>', 'the base model folder, to check the adapter fits it')
    .option('--json', 'print JSON')
    .description('Show an adapter’s rank, alpha, targets, layers and training template')
    .action(async (dir: string, opts: { base?: string; json?: boolean }) => {
      const spec = opts.base ? (await readModelSpec(opts.base)).spec : undefined;
      const a = await readAdapter(dir, spec);
      const c = a.config;
      const layers = [...a.layers.values()];
      const loraParams = layers.reduce((s, l) => s + l.r * (l.inFeatures + l.outFeatures), 0);
      let base: { architecture: string; trainable: number; all: number; warnings: string[] } | null = null;
      if (spec) {
        const match = matchTargetModules(spec, c);
        const count = countTrainable(spec, c, match);
        base = { architecture: spec.architecture, trainable: count.trainable, all: count.all, warnings: match.warnings };
      }
      const summary = {
        dir,
        r: c.r,
        loraAlpha: c.lora_alpha,
        useRslora: c.use_rslora,
        scale: layers.length ? layerScale(c, layers[0]) : null,
        targetModules: c.target_modules,
        bias: c.bias,
        fanInFanOut: c.fan_in_fan_out,
        baseModel: c.base_model_name_or_path,
        revision: c.revision,
        layers: layers.length,
        loraParameters: loraParams,
        extraTensors: [...a.extra.keys()],
        template: a.trainingTemplate?.template ?? null,
        chatTemplate: a.trainingTemplate?.chatTemplate ?? null,
        base,
      };
      if (opts.json) return printJson(summary);
      const rows: [string, string][] = [
        ['Base model', `${c.base_model_name_or_path ?? 'unknown'}${c.revision ? ` @ ${c.revision}` : ''}`],
        ['Rank / alpha', `r=${c.r}, alpha=${c.lora_alpha}${c.use_rslora ? ' (rsLoRA)' : ''}, scale ${summary.scale}`],
        ['Targets', Array.isArray(c.target_modules) ? c.target_modules.join(', ') : String(c.target_modules)],
        ['LoRA layers', `${layers.length} (${loraParams.toLocaleString('en-US')} parameters)`],
        ['Template', a.trainingTemplate ? JSON.stringify(a.trainingTemplate.template) : 'not recorded'],
      ];
      if (base) rows.push(['Fits', `${base.architecture}: ${base.trainable.toLocaleString('en-US')} trainable of ${base.all.toLocaleString('en-US')}`]);
      for (const [k, v] of rows) process.stdout.write(`${k.padEnd(13)} ${v}\n`);
      for (const w of base?.warnings ?? []) process.stderr.write(`warning: ${w}\n`);
    });
}
