import { createHash, timingSafeEqual } from 'node:crypto';
import type { SecretVerifier } from '../../gateway/core/county.ts';

export type Scope = 'read' | 'write_back';

export interface Consumer {
  name: string;
  scopes: readonly Scope[];
}

const CACHE_MS = 10 * 60_000;

/**
 * Who a bearer token belongs to. The site file holds tokens as scrypt
 * verifiers; checking one costs a scrypt (on the thread pool) per configured
 * token, every one checked, in constant time. A token that passed is
 * remembered for ten minutes by its SHA-256, compared in constant time
 * against every remembered digest, so a polling consumer does not pay a
 * scrypt per request. Failed attempts are never remembered (the caller
 * rate-limits them before they get here).
 */
export class TokenGate {
  private remembered: { digest: Buffer; name: string; until: number }[] = [];
  private readonly consumers: Map<string, Consumer>;

  constructor(
    private readonly verifier: SecretVerifier,
    consumers: readonly Consumer[],
    private readonly now: () => number,
  ) {
    this.consumers = new Map(consumers.map((c) => [c.name, c]));
  }

  async identify(token: string): Promise<Consumer | null> {
    if (token.length === 0 || token.length > 512) return null;
    const digest = createHash('sha256').update(token).digest();
    const now = this.now();
    let hit: string | null = null;
    for (const r of this.remembered) if (timingSafeEqual(r.digest, digest) && r.until > now) hit = r.name;
    if (hit !== null) return this.consumers.get(hit) ?? null;
    const names = this.verifier.names;
    const ok = await Promise.all(names.map((n) => this.verifier.verify(n, token)));
    const i = ok.indexOf(true);
    if (i < 0) return null;
    const name = names[i]!;
    this.remembered = [...this.remembered.filter((r) => r.until > now && r.name !== name), { digest, name, until: now + CACHE_MS }];
    return this.consumers.get(name) ?? null;
  }
}
