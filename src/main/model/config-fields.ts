// Reading a Hugging Face config.json with errors that name the file and the field: typed field access, and the
// readings several families share (activations, rope θ and scaling, special token ids, dtype, head counts).
// Anything we cannot honour is an error naming the field — never a silent wrong model.

import type { Activation, RopeScaling, SpecBase } from './spec-base.ts';

export class ModelConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelConfigError';
  }
}

export type Json = Record<string, unknown>;

/** Typed access to config fields with errors naming the file and field. */
export class ConfigFields {
  constructor(
    readonly raw: Json,
    readonly file: string,
  ) {}
  private fail(field: string, expected: string, got: unknown): never {
    throw new ModelConfigError(`${this.file}: field "${field}" must be ${expected}, got ${JSON.stringify(got)}`);
  }
  has(field: string): boolean {
    return this.raw[field] !== undefined && this.raw[field] !== null;
  }
  int(field: string, fallback?: number): number {
    const v = this.raw[field];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw new ModelConfigError(`${this.file}: required field "${field}" is missing`);
    }
    if (!Number.isSafeInteger(v) || (v as number) < 0) this.fail(field, 'a non-negative integer', v);
    return v as number;
  }
  num(field: string, fallback?: number): number {
    const v = this.raw[field];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw new ModelConfigError(`${this.file}: required field "${field}" is missing`);
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(field, 'a number', v);
    return v;
  }
  bool(field: string, fallback: boolean): boolean {
    const v = this.raw[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') this.fail(field, 'true or false', v);
    return v;
  }
  str(field: string, fallback?: string): string {
    const v = this.raw[field];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw new ModelConfigError(`${this.file}: required field "${field}" is missing`);
    }
    if (typeof v !== 'string') this.fail(field, 'a string', v);
    return v;
  }
  optInt(field: string): number | null {
    return this.has(field) ? this.int(field) : null;
  }
  /** int or list of ints (eos_token_id may be either). */
  intList(field: string): number[] {
    const v = this.raw[field];
    if (v === undefined || v === null) return [];
    if (Number.isSafeInteger(v)) return [v as number];
    if (Array.isArray(v) && v.every((x) => Number.isSafeInteger(x))) return v as number[];
    this.fail(field, 'an integer or a list of integers', v);
  }
}

const ACTIVATIONS: Record<string, Activation> = {
  silu: 'silu',
  swish: 'silu',
  gelu_pytorch_tanh: 'gelu_tanh',
  gelu_new: 'gelu_tanh',
  gelu_fast: 'gelu_tanh',
  gelu: 'gelu',
};

export function activation(c: ConfigFields, field: string, fallback: string): Activation {
  const name = c.str(field, fallback);
  const act = ACTIVATIONS[name];
  if (!act) {
    throw new ModelConfigError(`${c.file}: ${field} "${name}" is not supported (supported: ${Object.keys(ACTIVATIONS).join(', ')})`);
  }
  return act;
}

/** Rope θ: `rope_theta`, or transformers v5's `rope_parameters.rope_theta`. */
export function ropeTheta(c: ConfigFields, fallback: number): number {
  const params = c.raw.rope_parameters as Json | undefined;
  if (params && typeof params === 'object' && typeof params.rope_theta === 'number') return params.rope_theta;
  return c.num('rope_theta', fallback);
}

export const SUPPORTED_ROPE_SCALING = ['linear', 'llama3'] as const;

export function ropeScaling(c: ConfigFields, field = 'rope_scaling'): RopeScaling | null {
  let rs = c.raw[field] as Json | null | undefined;
  if ((rs === undefined || rs === null) && c.raw.rope_parameters && typeof c.raw.rope_parameters === 'object') {
    rs = c.raw.rope_parameters as Json;
    field = 'rope_parameters';
  }
  if (rs === undefined || rs === null) return null;
  if (typeof rs !== 'object' || Array.isArray(rs)) throw new ModelConfigError(`${c.file}: "${field}" must be an object or null`);
  const type = (rs.rope_type ?? rs.type ?? 'default') as string;
  if (type === 'default') return null;
  const f = new ConfigFields(rs, `${c.file} (${field})`);
  if (type === 'linear') return { type: 'linear', factor: f.num('factor') };
  if (type === 'llama3') {
    return {
      type: 'llama3',
      factor: f.num('factor'),
      lowFreqFactor: f.num('low_freq_factor'),
      highFreqFactor: f.num('high_freq_factor'),
      originalMaxPositions: f.int('original_max_position_embeddings'),
    };
  }
  throw new ModelConfigError(
    `${c.file}: ${field}.rope_type "${type}" is not supported (supported: none/default, ${SUPPORTED_ROPE_SCALING.join(', ')})`,
  );
}

export function ids(c: ConfigFields): Pick<SpecBase, 'bosTokenId' | 'eosTokenIds' | 'padTokenId'> {
  return { bosTokenId: c.optInt('bos_token_id'), eosTokenIds: c.intList('eos_token_id'), padTokenId: c.optInt('pad_token_id') };
}

export function torchDtype(c: ConfigFields): string | null {
  const v = c.raw.torch_dtype ?? c.raw.dtype;
  return typeof v === 'string' ? v : null;
}

export function checkHeads(c: ConfigFields, heads: number, kvHeads: number): void {
  if (heads === 0 || kvHeads === 0 || heads % kvHeads !== 0) {
    throw new ModelConfigError(`${c.file}: num_attention_heads (${heads}) must be a positive multiple of num_key_value_heads (${kvHeads})`);
  }
}
