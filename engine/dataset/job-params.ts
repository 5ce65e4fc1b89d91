/**
 * Params schemas of job modules. A job module may declare the shape of its params with any
 * library implementing the Standard Schema interface (https://standardschema.dev: zod ≥ 3.24,
 * valibot, arktype…): `defineJob({ params: z.object({…}) }, (ctx, p) => …)`. The driver
 * validates a run's params with it before anything is planned or uploaded and refuses bad ones
 * naming each offending param; the builder then receives the schema's output, on the driver and
 * (through the stage descriptor, never validated twice) on every executor.
 */
import { StratusError } from '../../contract/errors.js';

/** One problem a schema found: its message and where in the params. */
export interface ParamsIssue {
  /** What is wrong, as the schema library says it. */
  readonly message: string;
  /** Where in the params (`['records']` for `params.records`); absent for the params as a whole. */
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}

/** What a schema's validate returns: the (possibly transformed) value, or the issues. */
export type ParamsValidation<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<ParamsIssue> };

/** A params schema: the part of the Standard Schema v1 interface stratus uses. */
export interface ParamsSchema<Input = unknown, Output = Input> {
  /** The Standard Schema v1 properties: a `validate` function and, for typing, its input and output types. */
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => ParamsValidation<Output> | Promise<ParamsValidation<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

/** What a run must be given for schema `S` (its input type). */
export type ParamsInput<S extends ParamsSchema> = NonNullable<S['~standard']['types']>['input'];
/** What the builder receives for schema `S` (its output type). */
export type ParamsOutput<S extends ParamsSchema> = NonNullable<S['~standard']['types']>['output'];

/** `params.a.b[2]` for an issue's path; `params` for the params as a whole. */
export function paramsPath(path: ParamsIssue['path']): string {
  let out = 'params';
  for (const segment of path ?? []) {
    const key = typeof segment === 'object' && segment !== null ? segment.key : segment;
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

/** Anything with a Standard Schema `~standard.validate`. */
export function isParamsSchema(value: unknown): value is ParamsSchema {
  const standard = (value as { '~standard'?: { validate?: unknown } } | null)?.['~standard'];
  return typeof standard?.validate === 'function';
}

/**
 * Validate `params` with the job module's schema, if it declares one; returns what the builder
 * gets (the schema's output, or `params` unchanged without a schema). Throws PARAMS_INVALID
 * naming every offending param (`params.records: expected number, received string`).
 */
export async function validateJobParams(
  schema: ParamsSchema | undefined,
  params: unknown,
  moduleName: string,
): Promise<unknown> {
  if (schema === undefined) return params;
  const result = await schema['~standard'].validate(params);
  if (result.issues === undefined) return result.value;
  const issues = result.issues.map((issue) => `${paramsPath(issue.path)}: ${issue.message}`);
  const first = result.issues[0];
  throw new StratusError(
    'PARAMS_INVALID',
    `job module ${moduleName} was given invalid params (nothing was run): ${issues.join('; ')}`,
    first ? { field: paramsPath(first.path) } : {},
  );
}
