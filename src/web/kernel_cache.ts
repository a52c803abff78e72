import { memoryCache, type KernelChoiceCache } from '../gpu/kernel_choice.ts';

// The matmul probe's per-adapter ranking, kept across page loads in IndexedDB: the engine runs in a Web
// Worker, which has IndexedDB but no localStorage. Where IndexedDB is missing or fails (private modes), the
// ranking lives as long as the worker, so a probe runs once per page load rather than once per start.

const DB = 'webgpu-char-rnn';
const STORE = 'kernel-choice';

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

async function open(): Promise<IDBDatabase> {
  const r = indexedDB.open(DB, 1);
  r.onupgradeneeded = () => r.result.createObjectStore(STORE);
  return request(r);
}

export function indexedDbCache(): KernelChoiceCache {
  const fallback = memoryCache();
  let db: Promise<IDBDatabase> | null = null;
  const store = async (mode: IDBTransactionMode) => (await (db ??= open())).transaction(STORE, mode).objectStore(STORE);
  return {
    async get(key) {
      try {
        const value = await request((await store('readonly')).get(key));
        return typeof value === 'string' ? value : await fallback.get(key);
      } catch {
        return fallback.get(key);
      }
    },
    async set(key, value) {
      await fallback.set(key, value);
      try {
        await request((await store('readwrite')).put(value, key));
      } catch {
        // The in-memory copy above serves this worker.
      }
    },
  };
}
