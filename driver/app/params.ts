/**
 * Job params travel to every executor (as tagged JSON in the stage descriptor, so Dates,
 * bigints, Maps… arrive exactly) and the builder runs on both sides with them, so anything the
 * record encoding cannot carry is refused up front, naming where it is.
 */
import { StratusError } from '../../contract/errors.js';
import { unsupportedValue } from '../../engine/records/record-values.js';

/** Throw PARAMS_INVALID naming the first value of `params` that is not a record value; `what` names the params in the message. */
export function checkJobParams(params: unknown, what = 'job params'): void {
  const bad = unsupportedValue(params, 'params');
  if (bad) {
    throw new StratusError(
      'PARAMS_INVALID',
      `${what} must be record values (docs/concepts.md, "Record values"): ${bad}`,
      { field: bad.slice(0, bad.indexOf(':')) },
    );
  }
}
