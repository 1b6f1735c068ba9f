// A folder as a POSIX tar archive (ustar, with pax records for names over 100 bytes and files of 8 GiB or more),
// produced as a stream: headers are built one file at a time and each file's bytes are piped from disk, so a
// multi-gigabyte merged model never sits in memory. The total length is known before the first byte (headers
// and padding are fixed-size), which lets the browser show download progress.
// Only regular files and folders are archived; symbolic links and other special files are skipped, so nothing
// outside the folder can be reached through it.
import { createReadStream, type Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';

const BLOCK = 512;
const USTAR_NAME = 100;
const USTAR_MAX_SIZE = 8 ** 11 - 1; // 11 octal digits

export interface TarEntry {
  /** The name inside the archive (forward slashes; folders end without a slash). */
  name: string;
  /** The file on disk; null for a folder. */
  file: string | null;
  size: number;
  mode: number;
  mtime: number;
}

/** The folder's entries, the folder itself first under `rootName`, children sorted by name for a stable archive. */
export async function listTarEntries(folder: string, rootName: string): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  const visit = async (path: string, name: string, stats: Stats) => {
    if (stats.isDirectory()) {
      entries.push({ name, file: null, size: 0, mode: stats.mode & 0o777, mtime: Math.floor(stats.mtimeMs / 1000) });
      const children = (await readdir(path)).sort();
      for (const child of children) {
        const childPath = join(path, child);
        await visit(childPath, posix.join(name, child), await lstat(childPath));
      }
    } else if (stats.isFile()) {
      entries.push({
        name,
        file: path,
        size: stats.size,
        mode: stats.mode & 0o777,
        mtime: Math.floor(stats.mtimeMs / 1000),
      });
    }
  };
  await visit(folder, rootName, await lstat(folder));
  return entries;
}

const padded = (size: number) => Math.ceil(size / BLOCK) * BLOCK;

/** pax records ("<len> key=value\n") for what ustar cannot hold; empty when it can hold everything. */
function paxRecords(entry: TarEntry): Buffer {
  const name = entry.file === null ? `${entry.name}/` : entry.name;
  const records: string[] = [];
  const record = (key: string, value: string) => {
    const body = ` ${key}=${value}\n`;
    let length = Buffer.byteLength(body) + 1;
    while (String(length).length + Buffer.byteLength(body) !== length)
      length = String(length).length + Buffer.byteLength(body);
    records.push(`${length}${body}`);
  };
  if (Buffer.byteLength(name) > USTAR_NAME) record('path', name);
  if (entry.size > USTAR_MAX_SIZE) record('size', String(entry.size));
  return Buffer.from(records.join(''), 'utf8');
}

function header(name: string, size: number, mode: number, mtime: number, type: string): Buffer {
  const block = Buffer.alloc(BLOCK);
  const ascii = (text: string, offset: number, length: number) => block.write(text, offset, length, 'utf8');
  const octal = (value: number, offset: number, length: number) =>
    ascii(value.toString(8).padStart(length - 1, '0'), offset, length - 1);
  // a name ustar cannot hold is cut here; the pax record before it carries the whole one
  ascii(Buffer.from(name).subarray(0, USTAR_NAME).toString('utf8'), 0, USTAR_NAME);
  octal(mode, 100, 8);
  octal(0, 108, 8); // uid
  octal(0, 116, 8); // gid
  octal(Math.min(size, USTAR_MAX_SIZE), 124, 12);
  octal(mtime, 136, 12);
  block.fill(' ', 148, 156); // checksum counts as spaces while summing
  ascii(type, 156, 1);
  ascii('ustar', 257, 6);
  ascii('00', 263, 2);
  let sum = 0;
  for (const byte of block) sum += byte;
  ascii(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return block;
}

function headersFor(entry: TarEntry): Buffer {
  const name = entry.file === null ? `${entry.name}/` : entry.name;
  const type = entry.file === null ? '5' : '0';
  const pax = paxRecords(entry);
  const main = header(name, entry.file === null ? 0 : entry.size, entry.mode, entry.mtime, type);
  if (pax.length === 0) return main;
  const paxHeader = header(
    `PaxHeader/${posix.basename(entry.name)}`.slice(0, USTAR_NAME),
    pax.length,
    0o644,
    entry.mtime,
    'x',
  );
  return Buffer.concat([paxHeader, pax, Buffer.alloc(padded(pax.length) - pax.length), main]);
}

/** Bytes the archive of these entries will have, exactly (for Content-Length). */
export function tarLength(entries: TarEntry[]): number {
  let total = 2 * BLOCK; // two zero blocks end the archive
  for (const entry of entries) total += headersFor(entry).length + (entry.file === null ? 0 : padded(entry.size));
  return total;
}

/** The archive as a stream that reads each file only when the consumer wants more (backpressure). */
export function tarStream(entries: TarEntry[]): Readable {
  async function* generate() {
    for (const entry of entries) {
      yield headersFor(entry);
      if (entry.file === null) continue;
      let written = 0;
      for await (const chunk of createReadStream(entry.file)) {
        written += (chunk as Buffer).length;
        if (written > entry.size) throw new Error(`${entry.file} grew while it was being archived`);
        yield chunk as Buffer;
      }
      if (written !== entry.size) throw new Error(`${entry.file} changed size while it was being archived`);
      if (padded(entry.size) > entry.size) yield Buffer.alloc(padded(entry.size) - entry.size);
    }
    yield Buffer.alloc(2 * BLOCK);
  }
  return Readable.from(generate(), { objectMode: false });
}
