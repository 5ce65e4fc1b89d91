/**
 * Content hashes of builder data (the arrays given to `parallelize`), for the graph's
 * fingerprint: executors slice their own rebuild's array, so driver and executors must agree
 * on its contents, not only its length.
 *
 * The hash is sha256 over a canonical text of each element, one per line. The text is the
 * same for equal values wherever they were built: object keys are sorted, and values JSON
 * cannot write faithfully get a tagged form instead of being dropped or changed (`-0`, `NaN`,
 * `undefined`, bigint, Date, Map, Set, typed arrays, class instances, functions, cycles), so
 * it never throws and never makes two different values look alike where JSON would.
 */
import { createHash } from 'node:crypto';

/** Elements hashed per `update` call: keeps memory flat for large arrays. */
const CHUNK = 1024;

/** Hex sha256 (32 digits) of `values` in order, by their canonical text. */
export function hashValues(values: readonly unknown[]): string {
  const hash = createHash('sha256');
  hash.update(`${values.length}\n`);
  for (let start = 0; start < values.length; start += CHUNK) {
    const lines: string[] = [];
    const end = Math.min(values.length, start + CHUNK);
    for (let i = start; i < end; i++) {
      const v = values[i];
      // Strings (most parallelized data) take the short path; their canonical text is their JSON.
      lines.push(typeof v === 'string' ? JSON.stringify(v) : i in values ? canonicalText(v) : '<hole>');
    }
    // No canonical text contains a raw newline (strings are JSON-escaped), so lines cannot run together.
    hash.update(`${lines.join('\n')}\n`);
  }
  return hash.digest('hex').slice(0, 32);
}

/** The canonical text of one value (see the file comment). */
export function canonicalText(value: unknown): string {
  const out: string[] = [];
  append(out, value, new Set());
  return out.join('');
}

function append(out: string[], value: unknown, open: Set<object>): void {
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value));
      return;
    case 'number':
      out.push(Object.is(value, -0) ? '-0' : String(value)); // NaN, Infinity as themselves
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'undefined':
      out.push('undefined');
      return;
    case 'bigint':
      out.push(`${value}n`);
      return;
    case 'symbol':
      out.push(`Symbol(${JSON.stringify(value.description ?? '')})`);
      return;
    case 'function':
      // Same bundle on both sides, so the same source text.
      out.push(`function(${JSON.stringify(String(value))})`);
      return;
    case 'object':
      break;
  }
  if (value === null) {
    out.push('null');
    return;
  }
  const object = value as object;
  if (open.has(object)) {
    out.push('<cycle>');
    return;
  }
  open.add(object);
  try {
    appendObject(out, object, open);
  } finally {
    open.delete(object);
  }
}

function appendItems(out: string[], items: Iterable<unknown>, open: Set<object>): void {
  let first = true;
  for (const item of items) {
    if (!first) out.push(',');
    first = false;
    append(out, item, open);
  }
}

function appendObject(out: string[], object: object, open: Set<object>): void {
  if (Array.isArray(object)) {
    out.push('[');
    for (let i = 0; i < object.length; i++) {
      if (i > 0) out.push(',');
      if (i in object) append(out, object[i], open);
      else out.push('<hole>');
    }
    out.push(']');
    return;
  }
  if (object instanceof Date) {
    out.push(`Date(${object.getTime()})`);
    return;
  }
  if (object instanceof Map) {
    out.push('Map[');
    appendItems(out, object.entries(), open);
    out.push(']');
    return;
  }
  if (object instanceof Set) {
    out.push('Set[');
    appendItems(out, object.values(), open);
    out.push(']');
    return;
  }
  if (ArrayBuffer.isView(object)) {
    const bytes = Buffer.from(object.buffer, object.byteOffset, object.byteLength);
    out.push(`${object.constructor.name}(${bytes.toString('base64')})`);
    return;
  }
  const proto = Object.getPrototypeOf(object) as { constructor?: { name?: string } } | null;
  if (proto !== null && proto !== Object.prototype) out.push(proto.constructor?.name ?? '<class>');
  out.push('{');
  const keys = Object.keys(object).sort();
  for (let i = 0; i < keys.length; i++) {
    if (i > 0) out.push(',');
    out.push(JSON.stringify(keys[i]), ':');
    append(out, (object as Record<string, unknown>)[keys[i]!], open);
  }
  out.push('}');
}
