/** fast-check arbitraries shared by the engine tests. */
import fc from 'fast-check';
import type { Key } from '../../engine/records/keys.js';

/** Arbitrary valid keys, nested up to depth 3. */
export const keyArb: fc.Arbitrary<Key> = fc.letrec<{ key: Key }>((tie) => ({
  key: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer({ min: -5, max: 5 }),
    fc.string({ unit: 'binary', maxLength: 6 }),
    fc.array(tie('key'), { maxLength: 3 }),
  ),
})).key;
