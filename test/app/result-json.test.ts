/**
 * What `stratus run` prints for results: tagged JSON that keeps Dates, bigints and Maps exact,
 * next to results that are class instances with a toJSON (stats()' StatCounter) — in one
 * printout, since named actions often mix them. Parsed back, it must equal the results.
 */
import { describe, expect, it } from 'vitest';
import { formatResults, resultJson } from '../../driver/observe/result-json.js';
import { StatCounter } from '../../engine/dataset/stat-counter.js';
import { fromTaggedJson, type JsonValue } from '../../engine/records/tagged-json.js';

describe('run results as JSON', () => {
  const numbers = [3, 1, 4, 1, 5, 9, 2, 6];
  const stats = numbers.reduce((s, n) => s.add(n), new StatCounter());
  const results = {
    stats,
    when: [[new Date(Date.UTC(2026, 11, 7)), 2n ** 70n]],
    bytes: Buffer.from([0, 1, 254, 255]),
    byKey: new Map<unknown, number>([
      [1n, 2],
      ['a', 3],
    ]),
  };

  it('keeps tagged values exact beside a StatCounter printed through its toJSON', () => {
    const text = resultJson(results);
    const back = fromTaggedJson(JSON.parse(text) as JsonValue) as typeof results & { stats: unknown };
    expect(back.when).toEqual(results.when);
    expect(back.byKey).toEqual(results.byKey);
    // A Buffer has a toJSON of its own; its bytes must keep their tag, not become {type, data}.
    expect(new Uint8Array(back.bytes)).toEqual(new Uint8Array(results.bytes));
    expect(text).not.toContain('"type":"Buffer"');
    const mean = numbers.reduce((a, b) => a + b, 0) / numbers.length;
    expect(back.stats).toMatchObject({ count: numbers.length, mean, max: 9, min: 1 });
  });

  it('prints one line per named action, each parseable alone', () => {
    const lines = formatResults(results).trimEnd().split('\n');
    expect(lines.map((l) => l.slice(0, l.indexOf(':')))).toEqual(['stats', 'when', 'bytes', 'byKey']);
    const when = lines[1]!.slice('when: '.length);
    expect(fromTaggedJson(JSON.parse(when) as JsonValue)).toEqual(results.when);
  });
});
