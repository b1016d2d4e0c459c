import { XMLParser } from 'fast-xml-parser';

/**
 * XML helpers for what cameras send. Namespace prefixes are removed from
 * element and attribute names (vendors pick their own prefixes); topic text
 * keeps its prefixes and is normalised by the topic table. DTDs are refused
 * outright: SOAP forbids them and they are the door to entity expansion.
 */
export type XmlNode = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  htmlEntities: false,
});

export class XmlError extends Error {}

export function parseXml(text: string): XmlNode {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new XmlError('XML with a DOCTYPE or ENTITY declaration is refused');
  try {
    const doc = parser.parse(text, true) as unknown;
    if (!doc || typeof doc !== 'object') throw new XmlError('empty XML document');
    return doc as XmlNode;
  } catch (err) {
    if (err instanceof XmlError) throw err;
    throw new XmlError(`not well-formed XML: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** A child element (first one if repeated). */
export function child(node: unknown, name: string): XmlNode | undefined {
  if (!node || typeof node !== 'object') return undefined;
  const v = (node as XmlNode)[name];
  const first = Array.isArray(v) ? v[0] : v;
  if (first === undefined || first === null) return undefined;
  return typeof first === 'object' ? (first as XmlNode) : { '#text': String(first) };
}

/** Walk a path of child elements. */
export function path(node: unknown, ...names: string[]): XmlNode | undefined {
  let cur: unknown = node;
  for (const n of names) {
    cur = child(cur, n);
    if (cur === undefined) return undefined;
  }
  return cur as XmlNode;
}

/** Every child element of that name, as an array. */
export function children(node: unknown, name: string): XmlNode[] {
  if (!node || typeof node !== 'object') return [];
  const v = (node as XmlNode)[name];
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).map((x) => (x !== null && typeof x === 'object' ? (x as XmlNode) : { '#text': String(x ?? '') }));
}

/** The text content of an element (or of a path below it). */
export function text(node: unknown, ...names: string[]): string | undefined {
  const n = names.length ? path(node, ...names) : node;
  if (n === undefined || n === null) return undefined;
  if (typeof n !== 'object') return String(n);
  const t = (n as XmlNode)['#text'];
  if (t !== undefined) return String(t);
  // an element with attributes only, or empty
  return Object.keys(n).some((k) => !k.startsWith('@_')) ? undefined : '';
}

export function attr(node: unknown, name: string): string | undefined {
  if (!node || typeof node !== 'object') return undefined;
  const v = (node as XmlNode)[`@_${name}`];
  return v === undefined ? undefined : String(v);
}

/** Element names of a node's children, in document order of first appearance. */
export function childNames(node: unknown): string[] {
  if (!node || typeof node !== 'object') return [];
  return Object.keys(node).filter((k) => !k.startsWith('@_') && k !== '#text');
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESC[c]!);
}
