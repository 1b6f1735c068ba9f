// The desktop shell: a window onto the same core `serve` and the CLI use. Deliberately thin — every
// decision that can be made without Electron lives in ./policy.ts or the core and is tested there.
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, net, protocol, session, shell, type IpcMainInvokeEvent, type OpenDialogOptions } from 'electron';
import { events, methods } from '../../common/api/contract.ts';
import { DIALOGS_PICK, DIALOGS_REVEAL, dialogMethods } from '../../common/api/dialogs.ts';
import { createStudioCore, resolveDataDir, type HubTokenStore, type StudioCore } from '../core/index.ts';
import { bundledWorkerLauncher } from '../core/jobs/launcher.ts';
import { deleteSecret, loadSecret, saveSecret } from './secrets.ts';
import { APP_ORIGIN, APP_SCHEME, appUrlToFile, desktopCsp, isAppUrl, isExternalWebUrl } from './policy.ts';

// electron-vite sets this while `electron-vite dev` serves the renderer with hot reload.
const devServerUrl = process.env.ELECTRON_RENDERER_URL ?? null;
const outMain = import.meta.dirname; // out/main: index.js, worker.js
const rendererDir = join(outMain, '../renderer');
const preloadFile = join(outMain, '../preload/index.cjs');

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

let core: StudioCore | null = null;

if (!app.requestSingleInstanceLock()) {
  app.quit(); // the running instance focuses its window (see 'second-instance')
} else {
  app.on('second-instance', () => {
    const win = BrowserWindow.getAllWindows()[0];
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });
  app.whenReady().then(start, (err) => {
    console.error('LoRA Studio could not start:', err);
    app.exit(1);
  });
}

async function start(): Promise<void> {
  core = createStudioCore({
    dataDir: resolveDataDir(app.getPath('userData')), // the same resolver as serve and the CLI; userData is explicit here
    jobs: { launcher: bundledWorkerLauncher(join(outMain, 'worker.js')) },
    hubToken: keychainHubTokenStore,
  });

  // Serve the built renderer from app://studio with the CSP as a response header.
  protocol.handle(APP_SCHEME, async (request) => {
    const file = appUrlToFile(request.url, rendererDir);
    if (!file) return new Response('not found', { status: 404 });
    const response = await net.fetch(pathToFileURL(file).href);
    const headers = new Headers(response.headers);
    headers.set('Content-Security-Policy', desktopCsp(null));
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(response.body, { status: response.status, headers });
  });
  if (devServerUrl) {
    session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
      callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [desktopCsp(devServerUrl)] } });
    });
  }
  // The studio needs no camera, microphone, notifications, geolocation...
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));

  wireIpc(core);
  Menu.setApplicationMenu(buildMenu());
  createWindow();
  app.on('activate', () => BrowserWindow.getAllWindows().length === 0 && createWindow());
}

function wireIpc(studio: StudioCore): void {
  const methodNames = Object.keys(methods);
  const topics = Object.keys(events);
  const fromApp = (event: { senderFrame: { url: string } | null }) => event.senderFrame !== null && isAppUrl(event.senderFrame.url, devServerUrl);

  // The preload asks once, synchronously, which methods and topics exist, to refuse anything else early.
  ipcMain.on('studio:contract', (event) => {
    event.returnValue = fromApp(event) ? { methods: methodNames, topics } : { methods: [], topics: [] };
  });
  // The core validates every input; this only checks the caller is our own page.
  ipcMain.handle('studio:invoke', (event: IpcMainInvokeEvent, method: unknown, input: unknown) => {
    if (!fromApp(event)) return { ok: false, error: { code: 'unauthorized', message: 'not the studio window' } };
    if (method === DIALOGS_PICK) return pickPath(BrowserWindow.fromWebContents(event.sender), input);
    if (method === DIALOGS_REVEAL) return revealPath(input);
    return studio.invokeSafe(String(method), input);
  });
  studio.subscribe((event) => {
    for (const win of BrowserWindow.getAllWindows()) if (!win.isDestroyed()) win.webContents.send('studio:event', event);
  });
}

/** The Hub token encrypted with the OS keychain (safeStorage), in the data dir's secrets folder. */
function keychainHubTokenStore(dataDir: string): HubTokenStore {
  return {
    kind: 'keychain',
    file: null,
    load: () => loadSecret(dataDir, 'hf_token'),
    save: (token) => saveSecret(dataDir, 'hf_token', token),
    clear: () => deleteSecret(dataDir, 'hf_token'),
  };
}

/** dialogs.pick: the system's folder or file picker (the core has no screen, so the shell answers this one). */
async function pickPath(win: BrowserWindow | null, input: unknown) {
  const parsed = dialogMethods[DIALOGS_PICK].input.safeParse(input);
  if (!parsed.success) return { ok: false, error: { code: 'invalid_input', message: `dialogs.pick: ${parsed.error.issues[0]?.message}` } };
  const { kind, title, extensions } = parsed.data;
  const options: OpenDialogOptions = {
    title,
    properties: [kind === 'folder' ? 'openDirectory' : 'openFile'],
    ...(kind === 'file' && extensions?.length ? { filters: [{ name: extensions.join(', '), extensions }, { name: 'All files', extensions: ['*'] }] } : {}),
  };
  const chosen = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
  return { ok: true, result: { path: chosen.canceled ? null : (chosen.filePaths[0] ?? null) } };
}

/** dialogs.reveal: the file manager with the item selected (only paths that exist; it opens nothing). */
function revealPath(input: unknown) {
  const parsed = dialogMethods[DIALOGS_REVEAL].input.safeParse(input);
  if (!parsed.success) return { ok: false, error: { code: 'invalid_input', message: `dialogs.reveal: ${parsed.error.issues[0]?.message}` } };
  const { path } = parsed.data;
  if (!isAbsolute(path) || !existsSync(path)) return { ok: false, error: { code: 'not_found', message: `${path} does not exist (any more): it may have been moved or deleted` } };
  shell.showItemInFolder(path);
  return { ok: true, result: { shown: true } };
}

function createWindow(): void {
  const win = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 960,
    minHeight: 600,
    show: false,
    title: 'LoRA Studio',
    webPreferences: {
      preload: preloadFile,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  void win.loadURL(devServerUrl ?? `${APP_ORIGIN}/index.html`);
}

// Every web contents (windows, and anything they might try to open): stay on the app, send web links to the browser.
app.on('web-contents-created', (_event, contents) => {
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url, devServerUrl)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isExternalWebUrl(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
});

function buildMenu(): Menu {
  return Menu.buildFromTemplate([
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    { role: 'fileMenu' },
    { role: 'editMenu' },
    { label: 'View', submenu: [{ role: 'reload' }, { role: 'toggleDevTools' }, { type: 'separator' }, { role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { type: 'separator' }, { role: 'togglefullscreen' }] },
    { role: 'windowMenu' },
  ]);
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

// Stop running jobs and close the store before exiting, so nothing is left half-written.
let quitting = false;
app.on('before-quit', (event) => {
  if (quitting || !core) return;
  event.preventDefault();
  quitting = true;
  core.close().finally(() => app.quit());
});
