/**
 * Duplicate delivery injected where the driver sends: messages sent to one queue are sent a
 * second time, as an at-least-once queue may deliver them (Azure Queue Storage guarantees at
 * least once, not exactly once). Patches StorageQueue.prototype.send for the whole process.
 */
import { StorageQueue } from '../../storage/queues.js';

/**
 * Send each message to `queueName` twice — every one, or those `duplicate()` picks (asked once
 * per message to that queue, so a seeded random picks the same ones each run). Returns the undo,
 * which a test must call (in a `finally`).
 */
export function sendTwice(queueName: string, duplicate: () => boolean = () => true): () => void {
  const original = StorageQueue.prototype.send;
  StorageQueue.prototype.send = async function (this: StorageQueue, text: string, visibility?: number) {
    await original.call(this, text, visibility);
    if (this.name === queueName && duplicate()) await original.call(this, text, visibility);
  };
  return () => {
    StorageQueue.prototype.send = original;
  };
}
