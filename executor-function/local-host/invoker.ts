/**
 * Drives one invocation of a queue-triggered function exactly as the Functions Node worker's
 * InvocationHandler does: `getInvocationModel(coreCtx)` → `getArguments()` → preInvocation hooks
 * → `invokeFunction(...)` → postInvocation hooks → `getResponse(...)`. The trigger input is the
 * message body as RpcTypedData `{ string }`, so the programming model JSON-parses it when it
 * parses and passes a string otherwise; trigger metadata is shaped as the host sends it.
 */
import { randomUUID } from 'node:crypto';
import type { QueueTriggeredFunction } from './app-loader.js';
import type { FunctionsCore } from './functions-core.js';

/** One delivery of a queue message, body already decoded per messageEncoding. */
export interface QueueDelivery {
  messageId: string;
  popReceipt: string;
  dequeueCount: number;
  insertedOn: Date | undefined;
  expiresOn: Date | undefined;
  nextVisibleOn: Date | undefined;
  /** The message text after base64 decoding (UTF-8). */
  body: string;
}

/** One line the app logged through an invocation's context (`context.log/warn/…` → the core's log). */
export interface InvocationLogEntry {
  /** The worker's level name: trace, debug, information, warning, error, critical. */
  level: string;
  /** `user` for the app's own lines, `system` for the library's. */
  category: string;
  message: string;
  invocationId: string;
  messageId: string;
}

/** How an invocation ended, as the host sees it. */
export type InvocationOutcome = { ok: true } | { ok: false; error: unknown };

type RpcTypedData = { string: string } | { json: string };

/** DateTimeOffset as the host serializes it into trigger metadata (`…T05:06:39+00:00`). */
function dateTimeOffset(date: Date | undefined): RpcTypedData | undefined {
  return date ? { json: JSON.stringify(date.toISOString().replace(/\.\d{3}Z$/, '+00:00')) } : undefined;
}

/**
 * The queue trigger's metadata as RpcTypedData, as the host sends it: QueueTrigger, DequeueCount,
 * Id, PopReceipt, InsertionTime, ExpirationTime, NextVisibleTime, plus the top-level properties
 * of a JSON object body (the host's binding data for POCO messages).
 */
export function queueTriggerMetadata(delivery: QueueDelivery): Record<string, RpcTypedData> {
  const metadata: Record<string, RpcTypedData> = {};
  try {
    const parsed: unknown = JSON.parse(delivery.body);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      for (const [key, value] of Object.entries(parsed)) {
        metadata[key] = typeof value === 'string' ? { string: value } : { json: JSON.stringify(value) };
      }
    }
  } catch {
    // not JSON: no binding data beyond the system properties
  }
  metadata.QueueTrigger = { string: delivery.body };
  metadata.DequeueCount = { json: String(delivery.dequeueCount) };
  metadata.Id = { string: delivery.messageId };
  metadata.PopReceipt = { string: delivery.popReceipt };
  for (const [key, date] of [
    ['InsertionTime', delivery.insertedOn],
    ['ExpirationTime', delivery.expiresOn],
    ['NextVisibleTime', delivery.nextVisibleOn],
  ] as const) {
    const value = dateTimeOffset(date);
    if (value) metadata[key] = value;
  }
  return metadata;
}

/** Invoke `fn` for one delivery. Never throws: failures come back as `{ ok: false }`. */
export async function invokeQueueFunction(
  core: FunctionsCore,
  fn: QueueTriggeredFunction,
  delivery: QueueDelivery,
  invocationLog: (entry: InvocationLogEntry) => void,
): Promise<InvocationOutcome> {
  const invocationId = randomUUID();
  const coreCtx = {
    invocationId,
    request: {
      invocationId,
      functionId: fn.functionId,
      inputData: [{ name: fn.triggerBindingName, data: { string: delivery.body } }],
      triggerMetadata: queueTriggerMetadata(delivery),
    },
    metadata: { ...fn.metadata, functionId: fn.functionId },
    state: undefined as string | undefined,
    // What the worker forwards to the host as an RpcLog tied to this invocation (Application
    // Insights on Azure); the local host prints it.
    log: (level: string, category: string, message: string) =>
      invocationLog({ level, category, message, invocationId, messageId: delivery.messageId }),
  };
  try {
    const model = core.programmingModel!;
    const invocation = await model.getInvocationModel(coreCtx);
    const { context, inputs: initialInputs } = await invocation.getArguments();
    const hookData: Record<string, unknown> = {};
    const pre = {
      hookData,
      appHookData: core.appHookData,
      invocationContext: context,
      functionCallback: fn.callback,
      inputs: initialInputs,
    };
    coreCtx.state = 'preInvocationHooks';
    try {
      await core.runHooks('preInvocation', pre);
    } finally {
      coreCtx.state = undefined;
    }
    const post = {
      hookData,
      appHookData: core.appHookData,
      invocationContext: context,
      inputs: pre.inputs,
      result: null as unknown,
      error: null as unknown,
    };
    coreCtx.state = 'invocation';
    try {
      post.result = await invocation.invokeFunction(context, pre.inputs, pre.functionCallback);
    } catch (error) {
      post.error = error;
    } finally {
      coreCtx.state = undefined;
    }
    coreCtx.state = 'postInvocationHooks';
    try {
      await core.runHooks('postInvocation', post);
    } finally {
      coreCtx.state = undefined;
    }
    // The worker fails an invocation only when the error is neither null nor undefined: a handler
    // that throws `undefined` is reported to the host as a success (and its message deleted).
    if (post.error !== null && post.error !== undefined) return { ok: false, error: post.error };
    await invocation.getResponse(context, post.result);
    return { ok: true };
  } catch (error) {
    return { ok: false, error: error ?? new Error('invocation failed') };
  }
}
