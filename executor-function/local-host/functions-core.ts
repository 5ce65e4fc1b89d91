/**
 * The `@azure/functions-core` module as the Azure Functions Node worker provides it: not an npm
 * package but a built-in the worker injects by intercepting `require` for that one name.
 * `@azure/functions` requires it lazily at its first `app.*` call, then calls
 * `setProgrammingModel` and `registerFunction`; hooks go through `registerHook`.
 */
import Module from 'node:module';

/** Binding info as registered (`type`, `direction`, plus binding-specific keys such as queueName). */
export interface CoreBindingInfo {
  type?: string | null;
  direction?: 'in' | 'out' | 'inout' | null;
  [key: string]: unknown;
}

/** What `registerFunction` receives from the programming model. */
export interface CoreFunctionMetadata {
  name: string;
  functionId?: string;
  bindings: Record<string, CoreBindingInfo>;
  retryOptions?: unknown;
}

/** The user's function callback as registered. */
export type CoreFunctionCallback = (...args: unknown[]) => unknown;

/** The programming model's per-invocation driver (see the worker's InvocationHandler). */
export interface CoreInvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], callback: CoreFunctionCallback): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<unknown>;
}

/** The programming model `@azure/functions` registers. */
export interface CoreProgrammingModel {
  name: string;
  version: string;
  getInvocationModel(coreContext: unknown): CoreInvocationModel | Promise<CoreInvocationModel>;
  getCapabilities?(
    capabilities: Record<string, string>,
  ): Record<string, string> | Promise<Record<string, string>>;
}

/** A hook callback (`preInvocation`, `postInvocation`, `appStart`, `appTerminate`). */
export type CoreHookCallback = (context: Record<string, unknown>) => void | Promise<void>;

/** Releases a registration, as the worker's Disposable does. */
export class Disposable {
  #callOnDispose: (() => unknown) | undefined;

  /** Combine objects with a `dispose` method into one Disposable. */
  static from(...likes: { dispose: () => unknown }[]): Disposable {
    return new Disposable(() => {
      for (const like of likes) like.dispose();
    });
  }

  constructor(callOnDispose: () => unknown) {
    this.#callOnDispose = callOnDispose;
  }

  /** Run the release callback once. */
  dispose(): unknown {
    const call = this.#callOnDispose;
    this.#callOnDispose = undefined;
    return call?.();
  }
}

/** A function registered by the app: its metadata and callback. */
export interface RegisteredFunction {
  metadata: CoreFunctionMetadata;
  callback: CoreFunctionCallback;
}

/** The state behind the injected module: registered functions, the programming model, hooks. */
export class FunctionsCore {
  readonly functions = new Map<string, RegisteredFunction>();
  readonly hooks = new Map<string, CoreHookCallback[]>();
  readonly appHookData: Record<string, unknown> = {};
  programmingModel: CoreProgrammingModel | undefined;
  /** Once true, registering functions throws, as the worker does after app startup. */
  locked = false;

  constructor(private readonly writeLog: (level: string, category: string, message: string) => void) {}

  /** The object `require('@azure/functions-core')` returns. */
  readonly api = {
    version: '4.0.0-stratus-local',
    hostVersion: '4.0.0-stratus-local',
    Disposable,
    registerFunction: (metadata: CoreFunctionMetadata, callback: CoreFunctionCallback): Disposable => {
      if (this.locked) throw new Error('A function can only be registered during app startup.');
      const functionId = metadata.functionId || metadata.name;
      if (this.functions.has(functionId)) {
        throw new Error(`A function with id "${functionId}" has already been registered.`);
      }
      this.functions.set(functionId, { metadata, callback });
      return new Disposable(() => {
        if (this.locked) throw new Error('A function can only be disposed during app startup.');
        this.functions.delete(functionId);
      });
    },
    setProgrammingModel: (model: CoreProgrammingModel): void => {
      this.programmingModel = model;
    },
    getProgrammingModel: (): CoreProgrammingModel | undefined => this.programmingModel,
    registerHook: (hookName: string, callback: CoreHookCallback): Disposable => {
      const list = this.hooks.get(hookName) ?? [];
      list.push(callback);
      this.hooks.set(hookName, list);
      return new Disposable(() => {
        const at = list.indexOf(callback);
        if (at >= 0) list.splice(at, 1);
      });
    },
    log: (level: string, category: string, message: string): void => this.writeLog(level, category, message),
  };

  /** Run the hooks registered under `hookName` in order; a throwing hook fails the step, as in the worker. */
  async runHooks(hookName: string, context: Record<string, unknown>): Promise<void> {
    for (const hook of [...(this.hooks.get(hookName) ?? [])]) await hook(context);
  }

  /**
   * Make `require('@azure/functions-core')` return this module in every CommonJS module loaded
   * from now on, the way the worker does it (a proxy over Module.prototype.require).
   */
  install(): void {
    const api = this.api;
    const proto = Module.prototype as unknown as { require: (id: string) => unknown };
    proto.require = new Proxy(proto.require, {
      apply(target, thisArg, args: unknown[]) {
        if (args[0] === '@azure/functions-core') return api;
        return Reflect.apply(target, thisArg, args);
      },
    });
  }
}
