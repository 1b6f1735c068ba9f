// LoRA configuration as PEFT's LoraConfig defines the fields the engine needs (adapter_config.json names in
// comments). Reading/writing adapter files lives in src/main/formats/peft; this is the engine's view.

export interface LoraConfig {
  r: number; // r
  alpha: number; // lora_alpha
  dropout: number; // lora_dropout
  /** target_modules: a list (exact name or `.`-suffix match), a regex string (full match), or "all-linear". */
  targetModules: string[] | string;
  bias: 'none' | 'all' | 'lora_only'; // bias
  useRslora: boolean; // use_rslora
  /** modules_to_save: modules trained in full and saved beside the adapter (an encoder's task head). PEFT matches a
   *  module whose name ends with an entry (a plain suffix: "classifier" also takes DistilBERT's pre_classifier). */
  modulesToSave?: string[];
}

export const DEFAULT_LORA: LoraConfig = {
  r: 16,
  alpha: 32,
  dropout: 0.05,
  targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'],
  bias: 'none',
  useRslora: false,
};

/** scaling = alpha / r, or alpha / √r with rsLoRA (PEFT's LoraLayer.update_layer). */
export function loraScaling(c: Pick<LoraConfig, 'r' | 'alpha' | 'useRslora'>): number {
  return c.useRslora ? c.alpha / Math.sqrt(c.r) : c.alpha / c.r;
}

export function validateLoraConfig(c: LoraConfig): void {
  if (!Number.isInteger(c.r) || c.r <= 0) throw new Error(`LoRA config: r must be a positive integer, got ${c.r}`);
  if (!(c.alpha > 0)) throw new Error(`LoRA config: lora_alpha must be > 0, got ${c.alpha}`);
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new Error(`LoRA config: lora_dropout must be in [0, 1), got ${c.dropout}`);
  if (!['none', 'all', 'lora_only'].includes(c.bias)) throw new Error(`LoRA config: bias must be none, all or lora_only, got ${c.bias}`);
}
