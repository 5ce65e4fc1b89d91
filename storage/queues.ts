/**
 * Queue access in stratus' vocabulary: the task queue the executor function is triggered
 * by, its poison queue, and a driver application's events queue. Bodies are the wire
 * text (base64 JSON) produced by contract/protocol.
 */
import type { QueueClient } from '@azure/storage-queue';
import { decodeWire, type ExecutorEvent, parseExecutorEvent } from '../contract/protocol.js';
import type { StorageConnection } from './connection.js';

/** One received message with what is needed to delete it. */
export interface ReceivedMessage {
  messageId: string;
  popReceipt: string;
  dequeueCount: number;
  insertedOn: Date | undefined;
  text: string;
  /** When the message expires from the queue. */
  expiresOn?: Date | undefined;
  /** When the message becomes visible again unless it is deleted or its lease renewed. */
  nextVisibleOn?: Date | undefined;
}

/** A thin wrapper over one storage queue. */
export class StorageQueue {
  readonly client: QueueClient;

  constructor(
    connection: StorageConnection,
    readonly name: string,
  ) {
    this.client = connection.queueService.getQueueClient(name);
  }

  /** Create the queue if it does not exist. */
  async ensure(): Promise<void> {
    await this.client.createIfNotExists();
  }

  /** Delete the queue if it exists. */
  async destroy(): Promise<void> {
    await this.client.deleteIfExists();
  }

  /** Send one message (wire text); `visibilityTimeoutSec` delays its first delivery. */
  async send(text: string, visibilityTimeoutSec?: number): Promise<void> {
    await this.client.sendMessage(
      text,
      visibilityTimeoutSec !== undefined ? { visibilityTimeout: visibilityTimeoutSec } : {},
    );
  }

  /** Receive up to `max` (1–32) messages, hidden for `visibilityTimeoutSec`. */
  async receive(max: number, visibilityTimeoutSec = 30): Promise<ReceivedMessage[]> {
    const response = await this.client.receiveMessages({
      numberOfMessages: Math.max(1, Math.min(32, max)),
      visibilityTimeout: visibilityTimeoutSec,
    });
    return response.receivedMessageItems.map((m) => ({
      messageId: m.messageId,
      popReceipt: m.popReceipt,
      dequeueCount: m.dequeueCount,
      insertedOn: m.insertedOn,
      text: m.messageText,
      expiresOn: m.expiresOn,
      nextVisibleOn: m.nextVisibleOn,
    }));
  }

  /** Look at up to `max` (1–32) messages at the front of the queue without changing their visibility. */
  async peek(max: number): Promise<{ messageId: string; dequeueCount: number; text: string }[]> {
    const response = await this.client.peekMessages({ numberOfMessages: Math.max(1, Math.min(32, max)) });
    return response.peekedMessageItems.map((m) => ({
      messageId: m.messageId,
      dequeueCount: m.dequeueCount,
      text: m.messageText,
    }));
  }

  /** Delete a received message. */
  async delete(message: Pick<ReceivedMessage, 'messageId' | 'popReceipt'>): Promise<void> {
    await this.client.deleteMessage(message.messageId, message.popReceipt);
  }

  /** True when the queue exists (a listener checks this rather than creating the queue). */
  async exists(): Promise<boolean> {
    return this.client.exists();
  }

  /**
   * Make a received message visible again after `visibilityTimeoutSec` (0 = now), keeping its text.
   * Returns the new pop receipt, which replaces the old one for delete and further updates.
   */
  async updateVisibility(
    message: Pick<ReceivedMessage, 'messageId' | 'popReceipt'>,
    visibilityTimeoutSec: number,
  ): Promise<{ popReceipt: string; nextVisibleOn: Date | undefined }> {
    const response = await this.client.updateMessage(
      message.messageId,
      message.popReceipt,
      undefined,
      visibilityTimeoutSec,
    );
    return { popReceipt: response.popReceipt ?? message.popReceipt, nextVisibleOn: response.nextVisibleOn };
  }

  /** Approximate number of messages in the queue (0 when the queue does not exist). */
  async approximateLength(): Promise<number> {
    try {
      const props = await this.client.getProperties();
      return props.approximateMessagesCount ?? 0;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return 0;
      throw error;
    }
  }
}

/** Decode and validate an events-queue message body; throws ProtocolError naming the field. */
export function decodeExecutorEvent(text: string): ExecutorEvent {
  return parseExecutorEvent(decodeWire(text));
}

/**
 * Names of the queues starting with `prefix`, in name order: at most `max`, in one request when
 * `max` ≤ 5,000. `more` says whether others follow.
 */
export async function listQueueNames(
  connection: StorageConnection,
  prefix: string,
  max = Number.POSITIVE_INFINITY,
): Promise<{ names: string[]; more: boolean }> {
  const names: string[] = [];
  const pages = connection.queueService.listQueues({ prefix }).byPage({ maxPageSize: Math.min(5000, max) });
  for await (const page of pages) {
    for (const queue of page.queueItems ?? []) {
      if (names.length === max) return { names, more: true };
      names.push(queue.name);
    }
    if (names.length === max) return { names, more: Boolean(page.continuationToken) };
  }
  return { names, more: false };
}
