/**
 * BlobStore: the only way stratus code reads and writes blobs. It speaks in containers
 * and blob names, hides the SDK's client objects, and turns "not found" into a typed
 * error that names the blob.
 */
import type { ContainerClient } from '@azure/storage-blob';
import { StratusError } from '../engine/errors.js';
import type { StorageConnection } from './connection.js';

/** A blob that was expected and is missing; `context.blob` names it. */
export class BlobNotFoundError extends StratusError {
  constructor(container: string, name: string) {
    super('BLOB_NOT_FOUND', `blob not found: ${container}/${name}`, { blob: `${container}/${name}` });
    this.name = 'BlobNotFoundError';
  }
}

function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { statusCode?: number }).statusCode === 404;
}

/** Blob access in stratus' vocabulary; one instance per process is enough. */
export class BlobStore {
  private readonly containers = new Map<string, ContainerClient>();

  constructor(private readonly connection: StorageConnection) {}

  private container(name: string): ContainerClient {
    let client = this.containers.get(name);
    if (!client) {
      client = this.connection.blobService.getContainerClient(name);
      this.containers.set(name, client);
    }
    return client;
  }

  /** Create the containers if they do not exist (driver and deployment do this, never executors). */
  async ensureContainers(names: readonly string[]): Promise<void> {
    await Promise.all(names.map((n) => this.container(n).createIfNotExists()));
  }

  /** Write a whole blob, replacing any previous content. One request for up to 256 MiB. */
  async put(container: string, name: string, body: Buffer | string): Promise<void> {
    const data = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    await this.container(container)
      .getBlockBlobClient(name)
      .uploadData(data, {
        maxSingleShotSize: 256 * 1024 * 1024,
      });
  }

  /** Read a whole blob; throws BlobNotFoundError when it does not exist. */
  async get(container: string, name: string): Promise<Buffer> {
    return this.getRange(container, name, 0);
  }

  /** Read `count` bytes from `offset` (to the end when count is omitted); throws BlobNotFoundError. */
  async getRange(container: string, name: string, offset: number, count?: number): Promise<Buffer> {
    if (count === 0) return Buffer.alloc(0);
    try {
      return await this.container(container).getBlobClient(name).downloadToBuffer(offset, count, {
        concurrency: 1,
      });
    } catch (error) {
      if (isNotFound(error)) throw new BlobNotFoundError(container, name);
      throw error;
    }
  }

  /** The blob's size in bytes, or undefined when it does not exist. */
  async size(container: string, name: string): Promise<number | undefined> {
    try {
      const props = await this.container(container).getBlobClient(name).getProperties();
      return props.contentLength ?? 0;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** True when the blob exists. */
  async exists(container: string, name: string): Promise<boolean> {
    return (await this.size(container, name)) !== undefined;
  }

  /** Server-side copy of a blob inside the account (used to commit a winning attempt to its final name). */
  async copy(container: string, from: string, to: string): Promise<void> {
    const source = this.container(container).getBlobClient(from);
    const poller = await this.container(container).getBlobClient(to).beginCopyFromURL(source.url);
    await poller.pollUntilDone();
  }

  /**
   * Stage one uncommitted block of a block blob (Put Block). Staged blocks are invisible to
   * readers until a block list naming them is committed; every id of one blob must have the
   * same length (see blockId in block-writer.ts).
   */
  async stageBlock(container: string, name: string, blockId: string, body: Buffer): Promise<void> {
    await this.container(container).getBlockBlobClient(name).stageBlock(blockId, body, body.length);
  }

  /**
   * Make `blockIds` (staged earlier, in this order) the blob's content (Put Block List): one
   * atomic request that replaces any previous content and discards the blob's other
   * uncommitted blocks. An empty list makes an empty blob.
   */
  async commitBlocks(container: string, name: string, blockIds: readonly string[]): Promise<void> {
    await this.container(container)
      .getBlockBlobClient(name)
      .commitBlockList([...blockIds]);
  }

  /** Names and sizes of the blobs under a prefix, in name order. */
  async list(container: string, prefix: string): Promise<{ name: string; size: number }[]> {
    const out: { name: string; size: number }[] = [];
    for await (const item of this.container(container).listBlobsFlat({ prefix })) {
      out.push({ name: item.name, size: item.properties.contentLength ?? 0 });
    }
    return out;
  }

  /** Delete one blob; a blob that is already gone is not an error. */
  async delete(container: string, name: string): Promise<void> {
    await this.container(container).getBlobClient(name).deleteIfExists();
  }

  /** Delete every blob under a prefix; returns how many were deleted. */
  async deletePrefix(container: string, prefix: string): Promise<number> {
    const blobs = await this.list(container, prefix);
    const client = this.container(container);
    for (let i = 0; i < blobs.length; i += 16) {
      await Promise.all(blobs.slice(i, i + 16).map((b) => client.getBlobClient(b.name).deleteIfExists()));
    }
    return blobs.length;
  }

  /**
   * The virtual folders directly under `prefix` (`apps/<id>/`, with the trailing `/`), in name
   * order: at most `max`, listed in one request when `max` ≤ 5,000. `more` says whether others
   * follow. A missing container has no folders.
   */
  async listFolders(
    container: string,
    prefix: string,
    max = Number.POSITIVE_INFINITY,
  ): Promise<{ folders: string[]; more: boolean }> {
    const folders: string[] = [];
    try {
      const pages = this.container(container)
        .listBlobsByHierarchy('/', { prefix })
        .byPage({ maxPageSize: Math.min(5000, max) });
      for await (const page of pages) {
        for (const folder of page.segment.blobPrefixes ?? []) {
          if (folders.length === max) return { folders, more: true };
          folders.push(folder.name);
        }
        if (folders.length === max) return { folders, more: Boolean(page.continuationToken) };
      }
    } catch (error) {
      if (isNotFound(error)) return { folders, more: false };
      throw error;
    }
    return { folders, more: false };
  }

  /**
   * Delete at most `max` blobs under `prefix`, the blob named `last` only once every other one
   * is gone (so an interrupted deletion leaves it, and whoever looks for it still finds the rest).
   * Returns how many were deleted and whether the prefix is now empty.
   */
  async deleteUnder(
    container: string,
    prefix: string,
    options: { max?: number; last?: string } = {},
  ): Promise<{ deleted: number; complete: boolean }> {
    const max = options.max ?? Number.POSITIVE_INFINITY;
    const client = this.container(container);
    let deleted = 0;
    let sawLast = false;
    const pages = client.listBlobsFlat({ prefix }).byPage({ maxPageSize: Math.min(5000, max + 1) });
    for await (const page of pages) {
      const names = page.segment.blobItems
        .map((b) => b.name)
        .filter((n) => {
          if (n !== options.last) return true;
          sawLast = true;
          return false;
        });
      for (let i = 0; i < names.length; i += 16) {
        if (deleted >= max) return { deleted, complete: false };
        const batch = names.slice(i, Math.min(i + 16, i + max - deleted));
        await Promise.all(batch.map((n) => client.getBlobClient(n).deleteIfExists()));
        deleted += batch.length;
      }
    }
    if (sawLast && options.last !== undefined) {
      if (deleted >= max) return { deleted, complete: false };
      await client.getBlobClient(options.last).deleteIfExists();
      deleted++;
    }
    return { deleted, complete: true };
  }

  /** Append a block to an append blob, creating the blob first if needed (event logs). */
  async append(container: string, name: string, body: Buffer | string): Promise<void> {
    const data = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const client = this.container(container).getAppendBlobClient(name);
    await client.createIfNotExists();
    // One append block is at most 4 MiB; split larger writes.
    const block = 4 * 1024 * 1024;
    for (let offset = 0; offset < data.length; offset += block) {
      const part = data.subarray(offset, offset + block);
      await client.appendBlock(part, part.length);
    }
  }
}
