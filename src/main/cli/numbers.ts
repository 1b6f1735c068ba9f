// Strict parsers for numeric command-line values: a value that is not entirely a number (or a size such as
// `500MB`) is refused with the flag's name and what it expects, never read as NaN and silently ignored.
import { InvalidArgumentError } from 'commander';

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Byte multipliers: decimal (kB, MB, GB, TB, as transformers' max_shard_size) and binary (KiB, MiB, GiB, TiB). */
const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** A whole number of bytes: `1000000`, `500MB`, `5GB`, `1.5GiB` (case-insensitive). */
export function parseByteSize(flag: string, value: string): number {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  const bytes = m && unit !== undefined ? Math.round(Number(m[1]) * unit) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new InvalidArgumentError(`${flag} expects a size in bytes such as 500MB, 5GB or 2GiB, got "${value}"`);
  }
  return bytes;
}

/** True when `value` is entirely one finite decimal number (no `12abc`, no `0x10`, no `Infinity`, no empty string). */
export function isStrictNumber(value: string): boolean {
  return NUMBER.test(value.trim()) && Number.isFinite(Number(value.trim()));
}

/** A finite decimal number, written entirely as one (no `12abc`, no `0x10`, no empty string). */
export function parseStrictNumber(flag: string, value: string): number {
  const n = Number(value.trim());
  if (!isStrictNumber(value)) throw new InvalidArgumentError(`${flag} expects a number, got "${value}"`);
  return n;
}

/** Commander option parsers built from the above, naming their flag. */
export const sizeOption = (flag: string) => (value: string) => parseByteSize(flag, value);
export const numberOption = (flag: string) => (value: string) => parseStrictNumber(flag, value);
