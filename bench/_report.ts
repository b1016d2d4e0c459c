/** What every benchmark prints with: rates, rounding, percentiles and the three-column table. */
export const rate = (n: number, ms: number) => (ms > 0 ? Math.round((n * 1000) / ms) : 0);
export const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
export const fmt = (x: number) => x.toLocaleString('en-US');

/** The p-th percentile of an ascending array (nearest rank). */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

/** metric · value (right-aligned) · notes */
export function table(rows: [string, string, string][]): string {
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  return rows.map(([a, b, c]) => `${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`.trimEnd()).join('\n') + '\n';
}
