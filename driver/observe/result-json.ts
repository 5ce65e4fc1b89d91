/**
 * How `stratus run` prints a job's results: tagged JSON (a Date, bigint or Map stays exact), one
 * line per named action for people, one document with `--json` for programs.
 */
import { stringifyTagged } from '../../engine/records/tagged-json.js';

/**
 * Results as JSON text in tagged form (engine/records/tagged-json.ts: a Date is
 * `{"$date": "…"}`, a bigint `{"$bigint": "…"}`, a Map `{"$map": [[k, v], …]}`), so nothing is
 * lost or silently changed; a result that is no record value (stats()' StatCounter, a driver
 * script's class instance) falls back to plain JSON, through its toJSON when it has one.
 */
export function resultJson(value: unknown): string {
  const plain = withToJson(value ?? null);
  try {
    return stringifyTagged(plain);
  } catch {
    // Not a record value at all (a driver script's own class, a cycle): the best JSON can do.
    return JSON.stringify(plain, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  }
}

/**
 * `value` with every class instance that has a `toJSON` (stats()' StatCounter…) replaced by
 * what it returns, at any depth, so the rest — Dates, bigints, Maps among the named results —
 * keeps its tagged form next to it.
 */
function withToJson(value: unknown, seen = new Set<object>()): unknown {
  if (value === null || typeof value !== 'object' || seen.has(value)) return value;
  const proto = Object.getPrototypeOf(value);
  const isRecordShape =
    Array.isArray(value) ||
    proto === Object.prototype ||
    proto === null ||
    value instanceof Map ||
    value instanceof Set;
  if (!isRecordShape) {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    // Dates and bytes (a Buffer has a toJSON too) are record values with tags of their own.
    if (value instanceof Date || ArrayBuffer.isView(value)) return value;
    return typeof toJSON === 'function' ? toJSON.call(value) : value;
  }
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => withToJson(v, seen));
  if (value instanceof Map)
    return new Map([...value].map(([k, v]) => [withToJson(k, seen), withToJson(v, seen)]));
  if (value instanceof Set) return new Set([...value].map((v) => withToJson(v, seen)));
  const out: Record<string, unknown> = proto === null ? Object.create(null) : {};
  for (const [k, v] of Object.entries(value)) out[k] = withToJson(v, seen);
  return out;
}

/** A multi-line text result (a DataFrame's show, printSchema or explain) is printed as text, not as JSON. */
function isText(value: unknown): value is string {
  return typeof value === 'string' && value.includes('\n');
}

function asText(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

/**
 * Human output: one `name: value` line per named action (compact tagged JSON), else the value;
 * a multi-line text result (a DataFrame's show table) is printed as it is, below its name.
 */
export function formatResults(results: unknown): string {
  if (isText(results)) return asText(results);
  // Named actions come back as a plain object; a single action's Map or StatCounter is a value.
  const proto = results !== null && typeof results === 'object' ? Object.getPrototypeOf(results) : undefined;
  const isNamed = proto === Object.prototype || proto === null;
  if (!isNamed) return `${resultJson(results)}\n`;
  return Object.entries(results as Record<string, unknown>)
    .map(([name, value]) =>
      isText(value) ? `${name}:\n${asText(value)}` : `${name}: ${resultJson(value)}\n`,
    )
    .join('');
}
