import { afterEach, describe, expect, it } from 'vitest';
import { startApp } from '../helpers/app.ts';
import { openStore, tempDir } from '../helpers/store.ts';

let t: ReturnType<typeof tempDir> | null = null;
afterEach(() => {
  t?.cleanup();
  t = null;
});

describe('the gateway’s lifecycle', () => {
  it('stops once when asked twice (a second signal, a test’s cleanup): no error, and the next start finds a clean shutdown', async () => {
    t = tempDir('shouwang-lifecycle-');
    const app = await startApp(t.dir);
    await Promise.all([app.stop(), app.stop()]);
    await expect(app.stop()).resolves.toBeUndefined();
    const store = await openStore(t.dir);
    try {
      expect(store.events.lastSeq()).toBeGreaterThan(0); // the app's own database (its box_started event)
      expect(store.uncleanShutdown).toBe(false);
    } finally {
      await store.close();
    }
  });
});
