// The renderer's only door to the studio: `window.studio = { invoke, subscribe }`. Runs sandboxed, so it
// imports nothing but electron. Method and topic names outside the contract are refused here; inputs
// are validated by the core.
import { contextBridge, ipcRenderer } from 'electron';

interface WireError {
  code: string;
  message: string;
  details?: unknown;
}
type InvokeResult = { ok: true; result: unknown } | { ok: false; error: WireError };

const contract = ipcRenderer.sendSync('studio:contract') as { methods: string[]; topics: string[] };
const allowedMethods = new Set(contract.methods);
const allowedTopics = new Set(contract.topics);

const listeners = new Map<string, Set<(payload: unknown) => void>>();
ipcRenderer.on('studio:event', (_event, message: { topic: string; payload: unknown }) => {
  for (const listener of listeners.get(message.topic) ?? []) {
    try {
      listener(message.payload);
    } catch (err) {
      console.error('studio: an event listener threw', err);
    }
  }
});

const studio = {
  async invoke(method: string, input: unknown): Promise<unknown> {
    if (typeof method !== 'string' || !allowedMethods.has(method)) {
      // A plain object survives the context bridge with its fields; an Error would keep only its message.
      throw { code: 'unknown_method', message: `unknown method ${JSON.stringify(method)}` } satisfies WireError;
    }
    const outcome = (await ipcRenderer.invoke('studio:invoke', method, input)) as InvokeResult;
    if (outcome.ok) return outcome.result;
    throw outcome.error;
  },
  subscribe(topic: string, listener: (payload: unknown) => void): () => void {
    if (typeof topic !== 'string' || !allowedTopics.has(topic)) throw new Error(`unknown event topic ${JSON.stringify(topic)}`);
    if (typeof listener !== 'function') throw new Error('subscribe needs a listener function');
    let set = listeners.get(topic);
    if (!set) listeners.set(topic, (set = new Set()));
    set.add(listener);
    return () => void set.delete(listener);
  },
};

contextBridge.exposeInMainWorld('studio', studio);
