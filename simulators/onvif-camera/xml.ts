import { XMLParser } from 'fast-xml-parser';

/** The simulator's own SOAP reading (prefixes removed, like a camera's gSOAP stack would accept any prefix). */
export type Node = Record<string, unknown>;

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', removeNSPrefix: true, parseTagValue: false, trimValues: true });

export function parse(xml: string): Node | null {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) return null;
  try {
    const d = parser.parse(xml, true) as unknown;
    return d && typeof d === 'object' ? (d as Node) : null;
  } catch {
    return null;
  }
}

export function get(node: unknown, ...names: string[]): Node | undefined {
  let cur: unknown = node;
  for (const n of names) {
    if (!cur || typeof cur !== 'object') return undefined;
    let v = (cur as Node)[n];
    if (Array.isArray(v)) v = v[0];
    if (v === undefined || v === null) return undefined;
    cur = typeof v === 'object' ? v : { '#text': String(v) };
  }
  return cur as Node;
}

export function str(node: unknown, ...names: string[]): string | undefined {
  const n = get(node, ...names);
  if (!n) return undefined;
  const t = n['#text'];
  return t === undefined ? '' : String(t);
}

export function firstChildName(node: unknown): string | undefined {
  if (!node || typeof node !== 'object') return undefined;
  return Object.keys(node).find((k) => !k.startsWith('@_') && k !== '#text');
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
export const x = (s: string | number | boolean): string => String(s).replace(/[&<>"']/g, (c) => ESC[c]!);

/** ISO 8601 duration or absolute time → ms from `now`; null when unreadable. */
export function readTerminationTime(v: string | undefined, cameraNow: number): number | null {
  if (!v) return null;
  const d = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(v.trim());
  if (d && v.trim() !== 'P' && v.trim() !== 'PT')
    return ((Number(d[1] ?? 0) * 24 + Number(d[2] ?? 0)) * 3600 + Number(d[3] ?? 0) * 60 + Number(d[4] ?? 0)) * 1000;
  const t = Date.parse(v);
  return Number.isFinite(t) ? t - cameraNow : null;
}

export function isoTime(ms: number, withMs = false): string {
  const s = new Date(ms).toISOString();
  return withMs ? s : s.replace(/\.\d{3}Z$/, 'Z');
}
