/**
 * Job modules. A job module default-exports `defineJob(builder)`; the builder is a
 * synchronous, deterministic `(ctx, params) => action | { name: action }` that the driver
 * and every executor run to get the same graph.
 */
import type { Action } from './actions.js';
import type { JobContext } from './context.js';
import { isParamsSchema, type ParamsInput, type ParamsOutput, type ParamsSchema } from './job-params.js';

/** What a builder returns: one action, or named actions (run as jobs in key order). */
export type JobActions = Action<unknown> | { readonly [name: string]: Action<unknown> };

/** The results a run returns for a builder's actions: the value, or an object of values by name. */
export type JobResults<R> =
  R extends Action<infer X> ? X : { [K in keyof R]: R[K] extends Action<infer X> ? X : never };

/**
 * A job module's default export. `P` is what a run is given; `B` what the builder receives —
 * the same unless the module declares a params schema, whose output the builder gets.
 */
export interface JobDefinition<P = unknown, R extends JobActions = JobActions, B = P> {
  /** Marks a job module's default export (the driver and executors check it when loading one). */
  readonly kind: 'stratus-job';
  /** Builds the graph; must be synchronous and deterministic (method syntax keeps definitions assignable). */
  builder(ctx: JobContext, params: B): R;
  /** The params schema the driver validates every run's params with (see job-params.ts). */
  readonly params?: ParamsSchema;
  /** file: URL of the module that called defineJob (best effort), so the driver can bundle it. */
  readonly moduleUrl?: string;
}

const FRAME_LOCATION = /(?:\(|\s|^)((?:file:\/\/)?(?:\/|[A-Za-z]:[\\/])[^()]*?):\d+:\d+\)?\s*$/;

function frameFile(line: string): string | undefined {
  const match = FRAME_LOCATION.exec(line.trim());
  return match?.[1];
}

function toFileUrl(file: string): string {
  if (file.startsWith('file://')) return file;
  const slashed = file.replace(/\\/g, '/');
  return `file://${slashed.startsWith('/') ? '' : '/'}${encodeURI(slashed).replace(/[?#]/g, encodeURIComponent)}`;
}

/** The file: URL of the first stack frame outside the engine's folder (frame 0 is defineJob), from `stack`; undefined when none is found. */
export function callerModuleUrl(stack: string | undefined): string | undefined {
  if (!stack) return undefined;
  const files = stack
    .split('\n')
    .slice(1)
    .map(frameFile)
    .filter((f): f is string => f !== undefined);
  const own = files[0];
  if (own === undefined) return undefined;
  const ownDir = own.replace(/[\\/][^\\/]*$/, '');
  const caller = files.find((f) => !f.startsWith(`${ownDir}/`) && !f.startsWith(`${ownDir}\\`));
  return caller === undefined ? undefined : toFileUrl(caller);
}

/**
 * Declare a job module: `export default defineJob((ctx, params) => …)`, or with a params schema
 * the driver checks before running, `defineJob({ params: z.object({ input: z.string() }) },
 * (ctx, p) => …)` (any Standard Schema library; see job-params.ts).
 */
export function defineJob<P = unknown, R extends JobActions = JobActions>(
  builder: (ctx: JobContext, params: P) => R,
): JobDefinition<P, R>;
/** Declare a job module whose params the driver validates with `options.params` (a Standard Schema). */
export function defineJob<S extends ParamsSchema, R extends JobActions = JobActions>(
  options: { params: S },
  builder: (ctx: JobContext, params: ParamsOutput<S>) => R,
): JobDefinition<ParamsInput<S>, R, ParamsOutput<S>>;
export function defineJob(
  first: ((ctx: JobContext, params: unknown) => JobActions) | { params: ParamsSchema },
  second?: (ctx: JobContext, params: unknown) => JobActions,
): JobDefinition {
  const builder = typeof first === 'function' ? first : second;
  if (typeof builder !== 'function') throw new TypeError('defineJob expects a builder function');
  const schema = typeof first === 'function' ? undefined : first.params;
  if (typeof first !== 'function' && !isParamsSchema(schema)) {
    throw new TypeError(
      'defineJob({ params }, builder): params must be a Standard Schema (a zod, valibot or arktype schema…)',
    );
  }
  // Made now, read only if asked: V8 formats a stack (and maps its frames through source maps)
  // when `.stack` is first read, and only the driver asks, to bundle the module. An executor
  // importing a job bundle never does, so it never decodes its own bundle's source map for it.
  const site = new Error();
  const definition: JobDefinition = {
    kind: 'stratus-job',
    builder,
    ...(schema !== undefined ? { params: schema } : {}),
  };
  let moduleUrl: string | undefined | null = null;
  Object.defineProperty(definition, 'moduleUrl', {
    enumerable: true,
    get: () => {
      if (moduleUrl === null) moduleUrl = callerModuleUrl(site.stack);
      return moduleUrl;
    },
  });
  return definition;
}
