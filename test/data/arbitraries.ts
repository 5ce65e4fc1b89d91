/** fast-check arbitraries and helpers shared by the data (input and format) tests. */
import fc from 'fast-check';

/** The text of one line: ASCII, multi-byte UTF-8 and emoji, commas and quotes; never '\n'. */
export const lineTextArb: fc.Arbitrary<string> = fc
  .oneof(
    { arbitrary: fc.string({ maxLength: 12 }), weight: 4 },
    { arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }), weight: 3 },
    { arbitrary: fc.constant(''), weight: 1 },
    {
      arbitrary: fc.string({ unit: fc.constantFrom('x', 'é', '😀', ' '), minLength: 40, maxLength: 90 }),
      weight: 1,
    },
  )
  .map((s) => s.replace(/\n/g, ' '));

/**
 * A file's text: lines ended by '\n' or '\r\n' (the last one possibly unterminated), empty
 * lines and lines longer than a split included.
 */
export const fileContentArb: fc.Arbitrary<string> = fc
  .tuple(fc.array(fc.tuple(lineTextArb, fc.constantFrom('\n', '\r\n')), { maxLength: 14 }), fc.boolean())
  .map(([lines, terminated]) => {
    const text = lines.map(([l, t]) => l + t).join('');
    return terminated || lines.length === 0 ? text : text.replace(/\r?\n$/, '');
  });

let counter = 0;
/** A blob or file name unique to this test process. */
export function uniqueName(label: string): string {
  counter += 1;
  return `${label}-${process.pid}-${counter}-${Date.now().toString(36)}`;
}
