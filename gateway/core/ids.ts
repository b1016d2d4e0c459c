import { randomBytes } from 'node:crypto';

/**
 * UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then a 12-bit counter in
 * rand_a so ids made in the same millisecond still sort in creation order,
 * then 62 random bits. Ids sort by creation time as strings.
 */
let lastMs = -1;
let counter = 0;
let pool = Buffer.alloc(0);
let poolAt = 0;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function randomByte(): number {
  if (poolAt >= pool.length) {
    pool = randomBytes(4096);
    poolAt = 0;
  }
  return pool[poolAt++]!;
}

/**
 * One id per stored event and outbox entry: built from a table of hex pairs, with no Buffer per id (a Buffer
 * and its backing store each time were a measurable part of the gateway's garbage at full ingest rate).
 */
export function uuidv7(nowMs: number = Date.now()): string {
  let ms = Math.max(nowMs, lastMs);
  if (ms === lastMs) {
    counter++;
    if (counter > 0xfff) {
      // 4,096 ids in one millisecond: borrow the next millisecond to stay ordered.
      ms = lastMs + 1;
      counter = 0;
    }
  } else {
    counter = ((randomByte() << 8) | randomByte()) & 0x3ff; // leave headroom for increments
  }
  lastMs = ms;
  const hi = Math.floor(ms / 0x1_0000_0000); // the top 16 of the 48 bits
  const lo = ms >>> 0;
  const r = randomByte;
  return (
    HEX[(hi >> 8) & 0xff]! +
    HEX[hi & 0xff]! +
    HEX[lo >>> 24]! +
    HEX[(lo >>> 16) & 0xff]! +
    '-' +
    HEX[(lo >>> 8) & 0xff]! +
    HEX[lo & 0xff]! +
    '-' +
    HEX[0x70 | (counter >> 8)]! +
    HEX[counter & 0xff]! +
    '-' +
    HEX[0x80 | (r() & 0x3f)]! +
    HEX[r()]! +
    '-' +
    HEX[r()]! +
    HEX[r()]! +
    HEX[r()]! +
    HEX[r()]! +
    HEX[r()]! +
    HEX[r()]!
  );
}

/** The millisecond timestamp inside a UUIDv7. */
export function uuidv7Time(id: string): number {
  return parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}
