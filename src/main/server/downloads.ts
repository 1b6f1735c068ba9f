// GET /api/exports/<id>/download?token=…: a finished export handed to the browser. A GGUF (or any single file)
// is streamed as it is; a folder (a merged Hugging Face model, a PEFT copy) as a tar archive built on the fly
// (tar-stream.ts). Nothing is read whole into memory. Only what the store records as a finished export of this
// studio, lying inside the data dir's exports folder (checked on the real path, so a symbolic link cannot lead
// out of it), is ever served: the client names an export id, never a path.
import { createReadStream } from 'node:fs';
import { lstat, realpath } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { EXPORT_DOWNLOAD_PATH } from '../../common/api/exports.ts';
import type { StudioCore } from '../core/index.ts';
import { dataDirLayout } from '../core/data-dir.ts';
import { listTarEntries, tarLength, tarStream } from './tar-stream.ts';

/** The export id in /api/exports/<id>/download, or null when the path is not a download. */
export function downloadExportId(pathname: string): string | null {
  const m = new RegExp(`^${EXPORT_DOWNLOAD_PATH.replace('{id}', '([^/]+)')}$`).exec(pathname);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return null;
  }
}

export class DownloadRefused extends Error {
  constructor(
    readonly status: 403 | 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

/** RFC 6266 / 5987: an ASCII fallback name and the exact UTF-8 one. */
function contentDisposition(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** What to send for an export id: its name, length and a stream factory; or a DownloadRefused saying why not. */
export async function openExportDownload(
  core: StudioCore,
  id: string,
): Promise<{ name: string; length: number; open: () => Readable }> {
  const outcome = await core.invokeSafe('exports.get', { id });
  if (!outcome.ok) throw new DownloadRefused(404, outcome.error.message);
  const record = outcome.result as { path: string; status: string };
  if (record.status !== 'succeeded')
    throw new DownloadRefused(409, `export ${id} is ${record.status}; only a finished export can be downloaded`);
  let real: string;
  let exportsRoot: string;
  try {
    real = await realpath(record.path);
    exportsRoot = await realpath(dataDirLayout(core.dataDir).exports);
  } catch {
    throw new DownloadRefused(404, `export ${id}: ${record.path} is no longer there`);
  }
  if (!real.startsWith(exportsRoot + sep))
    throw new DownloadRefused(
      403,
      `export ${id} was written outside the studio's exports folder (${record.path}); it is not served to the browser — open it from that path`,
    );
  const stats = await lstat(real);
  if (stats.isFile()) return { name: basename(real), length: stats.size, open: () => createReadStream(real) };
  if (stats.isDirectory()) {
    const entries = await listTarEntries(real, basename(real));
    return { name: `${basename(real)}.tar`, length: tarLength(entries), open: () => tarStream(entries) };
  }
  throw new DownloadRefused(404, `export ${id}: ${record.path} is neither a file nor a folder`);
}

/** Streams the download; headers are the server's base ones. Errors before the first byte become a plain-text status. */
export async function sendExportDownload(
  core: StudioCore,
  id: string,
  req: IncomingMessage,
  res: ServerResponse,
  headers: Record<string, string>,
): Promise<void> {
  let download: Awaited<ReturnType<typeof openExportDownload>>;
  try {
    download = await openExportDownload(core, id);
  } catch (err) {
    const status = err instanceof DownloadRefused ? err.status : 500;
    const message =
      err instanceof DownloadRefused ? err.message : 'the download could not be prepared; see the serve log';
    if (!(err instanceof DownloadRefused)) console.error('serve: download failed:', err);
    res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(message);
    return;
  }
  res.writeHead(200, {
    ...headers,
    'Content-Type': download.name.endsWith('.tar') ? 'application/x-tar' : 'application/octet-stream',
    'Content-Length': String(download.length),
    'Content-Disposition': contentDisposition(download.name),
    'Cache-Control': 'no-store',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  try {
    await pipeline(download.open(), res);
  } catch (err) {
    // the browser went away, or a file changed under us: the response is cut short, which the browser reports
    if (!res.destroyed) res.destroy(err as Error);
  }
}
