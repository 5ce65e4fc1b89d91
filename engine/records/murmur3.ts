/**
 * MurmurHash3, x86 32-bit variant (Austin Appleby's public-domain algorithm), written here
 * from its specification. Used for key hashing, so its output must never change.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** murmur3_x86_32 of `bytes` with `seed`; returns an unsigned 32-bit integer. */
export function murmur3(bytes: Uint8Array, seed = 0): number {
  let h = seed >>> 0;
  const length = bytes.length;
  const blocks = length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = length & 3;
  if (tail > 0) {
    let k = 0;
    if (tail === 3) k ^= bytes[blocks + 2]! << 16;
    if (tail >= 2) k ^= bytes[blocks + 1]! << 8;
    k ^= bytes[blocks]!;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uint32 mixing of small integers (partition index, seed) for seeding per-partition generators. */
export function mixInts(a: number, b: number): number {
  const bytes = new Uint8Array(8);
  const view = new DataView(bytes.buffer);
  view.setInt32(0, a | 0, true);
  view.setInt32(4, b | 0, true);
  return murmur3(bytes, 0x5eed);
}
