/**
 * A small seeded pseudo-random generator (mulberry32). The engine never uses Math.random:
 * sampling must give the same records on every attempt of a task.
 */
import { mixInts } from './murmur3.js';

/** A deterministic generator of doubles in [0, 1). */
export interface SeededRandom {
  next(): number;
}

/** A generator seeded by a user seed and a partition index, so every partition draws its own stream. */
export function seededRandom(seed: number, partition = 0): SeededRandom {
  let state = mixInts(seed, partition);
  return {
    next(): number {
      state = (state + 0x6d2b79f5) | 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** A Poisson-distributed count with mean `lambda` (Knuth's method; fine for the small means sampling uses). */
export function poisson(random: SeededRandom, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda > 30) {
    // Normal approximation keeps large means fast; sampling with replacement rarely goes here.
    const u1 = Math.max(random.next(), Number.MIN_VALUE);
    const u2 = random.next();
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * z));
  }
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = random.next();
  while (p > limit) {
    k++;
    p *= random.next();
  }
  return k;
}
