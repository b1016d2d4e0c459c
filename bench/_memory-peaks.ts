/**
 * Peaks of process.memoryUsage() in a benchmark's gateway process, sampled every 100 ms: what of RSS is the
 * JS heap and what is outside it. `take()` returns the peaks in MB since the last take and starts over.
 */
export interface MemoryPeaks {
  rss: number;
  heap_total: number;
  heap_used: number;
  external: number;
  array_buffers: number;
}

export const noPeaks = (): MemoryPeaks => ({ rss: 0, heap_total: 0, heap_used: 0, external: 0, array_buffers: 0 });

export function memoryPeaks(): { take: () => MemoryPeaks } {
  const peak = noPeaks();
  const sample = () => {
    const mu = process.memoryUsage();
    peak.rss = Math.max(peak.rss, mu.rss);
    peak.heap_total = Math.max(peak.heap_total, mu.heapTotal);
    peak.heap_used = Math.max(peak.heap_used, mu.heapUsed);
    peak.external = Math.max(peak.external, mu.external);
    peak.array_buffers = Math.max(peak.array_buffers, mu.arrayBuffers);
  };
  setInterval(sample, 100).unref();
  return {
    take: () => {
      sample();
      const mb = Object.fromEntries(Object.entries(peak).map(([k, v]) => [k, Math.round(v / 1048576)])) as unknown as MemoryPeaks;
      for (const k of Object.keys(peak) as (keyof typeof peak)[]) peak[k] = 0;
      return mb;
    },
  };
}
