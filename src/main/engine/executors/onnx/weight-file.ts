// The frozen weights of a CPU session, written once into one file that every graph of the session (training step,
// evaluation, logits) names as ONNX external data. onnxruntime maps an external-data file instead of copying it when
// a tensor starts on an allocation-granularity boundary, so the base then sits in memory once — as the page cache
// of this file, shared by the graphs — and JavaScript keeps no copy: a graph built later finds its weights here by
// name, without the caller's arrays.

import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where a stored tensor is, as ONNX external data (location relative to the model file beside it). */
export interface ExternalRef {
  location: string;
  offset: number;
  length: number;
}

// onnxruntime maps external data only at offsets on the allocation granularity: 4 KiB pages on Linux and macOS,
// 64 KiB on Windows. Seeking past the gap leaves a hole, so the padding costs no disk.
const ALIGN = 64 * 1024;
const FILE = 'weights.bin';
const PREFIX = 'lora-studio-weights-';

/** Folders of weight files whose process is gone (killed before it could remove them), so they do not pile up. */
function removeOrphans(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(name.startsWith(PREFIX) ? /^(\d+)-/.exec(name.slice(PREFIX.length))?.[1] : undefined);
    if (!pid || pid === process.pid || alive(pid)) continue;
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, someone else's
  }
}

const open = new Set<WeightFile>();
let exitHook = false;

export class WeightFile {
  /** The folder holding weights.bin; graphs are loaded from model files written beside it. */
  readonly dir: string;
  private fd: number | null;
  private end = 0;
  private bytes = 0;
  private readonly refs = new Map<string, ExternalRef>();

  constructor() {
    removeOrphans();
    this.dir = mkdtempSync(join(tmpdir(), `${PREFIX}${process.pid}-`));
    this.fd = openSync(join(this.dir, FILE), 'w');
    open.add(this);
    if (!exitHook) {
      // a process that ends without dispose() (an error, a cancelled job) must not leave gigabytes in the temp
      // folder; one killed outright leaves its folder to the next WeightFile's removeOrphans()
      exitHook = true;
      process.on('exit', () => {
        for (const f of open) f.remove();
      });
    }
  }

  /** The stored tensor called `name`, if any. */
  get(name: string): ExternalRef | undefined {
    return this.refs.get(name);
  }

  /** Stores `data` under `name` (once: a name already stored keeps its first bytes). */
  put(name: string, data: Uint8Array): ExternalRef {
    const had = this.refs.get(name);
    if (had) return had;
    if (this.fd === null) throw new Error(`weight file ${this.dir}: closed, cannot store ${name}`);
    const offset = Math.ceil(this.end / ALIGN) * ALIGN;
    for (let done = 0; done < data.length;) done += writeSync(this.fd, data, done, data.length - done, offset + done);
    const ref = { location: FILE, offset, length: data.length };
    this.end = offset + data.length;
    this.bytes += data.length;
    this.refs.set(name, ref);
    return ref;
  }

  /** Bytes of tensor data stored (without alignment holes). */
  get storedBytes(): number {
    return this.bytes;
  }

  /** Deletes the file and its folder (graphs already created keep their mapping until released). */
  remove(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    rmSync(this.dir, { recursive: true, force: true });
    open.delete(this);
  }
}
