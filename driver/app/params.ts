/**
 * Job params travel as JSON to every executor (in the stage descriptor) and the builder runs
 * on both sides with them, so anything JSON would silently change is refused up front.
 */
import { StratusError } from '../../contract/errors.js';

/** Where a value stops being JSON (a path such as `params.ranks[3]`), or undefined when it is JSON. */
function nonJsonPath(value: unknown, where: string, seen: Set<object>): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${where} (${value})`;
  if (typeof value !== 'object') return `${where} (a ${typeof value})`;
  if (seen.has(value)) return `${where} (a cycle)`;
  seen.add(value);
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const bad = v === undefined ? `${where}[${i}] (undefined)` : nonJsonPath(v, `${where}[${i}]`, seen);
      if (bad) return bad;
    }
  } else {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null)
      return `${where} (a ${value.constructor?.name ?? 'class instance'})`;
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue; // dropped, as JSON.stringify does
      const bad = nonJsonPath(v, `${where}.${k}`, seen);
      if (bad) return bad;
    }
  }
  seen.delete(value);
  return undefined;
}

/** Throw PARAMS_INVALID naming the first value of `params` that is not JSON; `what` names the params in the message. */
export function checkJobParams(params: unknown, what = 'job params'): void {
  const bad = params === undefined ? undefined : nonJsonPath(params, 'params', new Set());
  if (bad) {
    throw new StratusError(
      'PARAMS_INVALID',
      `${what} must be JSON values (plain objects, arrays, strings, finite numbers, booleans, null): ${bad} is not`,
    );
  }
}
