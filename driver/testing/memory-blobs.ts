/**
 * An in-memory BlobPort for scheduler tests: a map from container and name to bytes. Reading a
 * blob that does not exist throws the real store's BlobNotFoundError, so code under test sees
 * the same failure it would against Azure Storage.
 */
import { BlobNotFoundError } from '../../storage/blob-store.js';
import type { BlobPort } from '../scheduler/ports.js';

/** Blobs held in memory, keyed by `container/name`. */
export class MemoryBlobs implements BlobPort {
  private readonly blobs = new Map<string, Buffer>();

  /** Store a copy of `body` (strings as UTF-8), replacing any previous content. */
  async put(container: string, name: string, body: Buffer | string): Promise<void> {
    this.blobs.set(`${container}/${name}`, Buffer.from(body));
  }

  /** The blob's bytes; throws BlobNotFoundError when it does not exist. */
  async get(container: string, name: string): Promise<Buffer> {
    const bytes = this.blobs.get(`${container}/${name}`);
    if (!bytes) throw new BlobNotFoundError(container, name);
    return Buffer.from(bytes);
  }

  /** True when the blob exists. */
  has(container: string, name: string): boolean {
    return this.blobs.has(`${container}/${name}`);
  }

  /** The blob's content as JSON; throws when it does not exist. */
  json(container: string, name: string): unknown {
    const bytes = this.blobs.get(`${container}/${name}`);
    if (!bytes) throw new BlobNotFoundError(container, name);
    return JSON.parse(bytes.toString('utf8'));
  }

  /** Delete every blob of `container` whose name starts with `prefix`; returns how many. */
  async deletePrefix(container: string, prefix: string): Promise<number> {
    let deleted = 0;
    for (const key of [...this.blobs.keys()]) {
      if (key.startsWith(`${container}/${prefix}`)) {
        this.blobs.delete(key);
        deleted++;
      }
    }
    return deleted;
  }

  /** Names (`container/name`) of every blob, in the order first written. */
  names(): string[] {
    return [...this.blobs.keys()];
  }
}
