/**
 * BlobStore: the only way stratus code reads and writes blobs. It speaks in containers
 * and blob names, hides the SDK's client objects, and turns "not found" into a typed
 * error that names the blob.
 */
import type { AppendBlobClient, ContainerClient } from '@azure/storage-blob';
import { StratusError } from '../contract/errors.js';
import type { StorageConnection } from './connection.js';

/**
 * A blob that was expected and is missing; `context.blob` names it. Retryable, as storage
 * errors are: this layer cannot tell a blob that is about to be written from one that never
 * will be, so callers that know it must exist turn it into a non-retryable error naming it.
 */
export class BlobNotFoundError extends StratusError {
  constructor(container: string, name: string) {
    super(
      'BLOB_NOT_FOUND',
      `blob not found: ${container}/${name}`,
      { blob: `${container}/${name}` },
      { retryable: true },
    );
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

  /**
   * Read `count` bytes from `offset` (to the end when count is omitted); throws BlobNotFoundError.
   * To the end is one GET streamed into a buffer: the SDK's downloadToBuffer would first ask for
   * the blob's properties to learn its size, a second round trip on every whole-blob read (stage
   * descriptors, map-output tables, results) and on the critical path of each stage boundary.
   */
  async getRange(container: string, name: string, offset: number, count?: number): Promise<Buffer> {
    if (count === 0) return Buffer.alloc(0);
    const blob = this.container(container).getBlobClient(name);
    try {
      if (count !== undefined) return await blob.downloadToBuffer(offset, count, { concurrency: 1 });
      // maxRetryRequests: a body cut mid-way is resumed from where it broke, as downloadToBuffer does.
      const response = await blob.download(offset, undefined, { maxRetryRequests: 5 });
      const body = response.readableStreamBody;
      if (!body) throw new Error(`internal: no body streaming ${container}/${name}`);
      const chunks: Buffer[] = [];
      for await (const chunk of body)
        chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
      return Buffer.concat(chunks);
    } catch (error) {
      if (isNotFound(error)) throw new BlobNotFoundError(container, name);
      throw error;
    }
  }

  /**
   * Read `count` bytes from `offset` as they arrive: one GET whose body is yielded in the chunks the
   * socket delivers (a body cut mid-way is resumed from where it broke), so a reader that consumes
   * as it goes never holds the range whole. Throws BlobNotFoundError when the blob does not exist.
   */
  async *streamRange(container: string, name: string, offset: number, count: number): AsyncGenerator<Buffer> {
    if (count === 0) return;
    let body: NodeJS.ReadableStream | undefined;
    try {
      const response = await this.container(container)
        .getBlobClient(name)
        .download(offset, count, { maxRetryRequests: 5 });
      body = response.readableStreamBody;
    } catch (error) {
      if (isNotFound(error)) throw new BlobNotFoundError(container, name);
      throw error;
    }
    if (!body) throw new Error(`internal: no body streaming ${container}/${name}`);
    for await (const chunk of body) yield typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
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

  /**
   * Names and sizes of the blobs under a prefix, in name order. A blob that has only
   * uncommitted blocks does not exist for readers and is not listed, unless
   * `includeUncommitted` (then its size is 0). Last-modified times are ms since the epoch.
   */
  async list(
    container: string,
    prefix: string,
    options: { includeUncommitted?: boolean } = {},
  ): Promise<{ name: string; size: number; lastModified: number }[]> {
    const out: { name: string; size: number; lastModified: number }[] = [];
    const listing = this.container(container).listBlobsFlat({
      prefix,
      // The SDK's spelling of the service's `include=uncommittedblobs`.
      ...(options.includeUncommitted ? { includeUncommitedBlobs: true } : {}),
    });
    for await (const item of listing) {
      out.push({
        name: item.name,
        size: item.properties.contentLength ?? 0,
        lastModified: item.properties.lastModified.getTime(),
      });
    }
    return out;
  }

  /**
   * The ids of a block blob's committed blocks (its content, in order) and of its uncommitted
   * ones (staged, not yet named by a Put Block List). Both empty for a blob written in one
   * Put Blob; throws BlobNotFoundError when the blob has neither.
   */
  async blockList(container: string, name: string): Promise<{ committed: string[]; uncommitted: string[] }> {
    try {
      const list = await this.container(container).getBlockBlobClient(name).getBlockList('all');
      return {
        committed: (list.committedBlocks ?? []).map((b) => b.name),
        uncommitted: (list.uncommittedBlocks ?? []).map((b) => b.name),
      };
    } catch (error) {
      if (isNotFound(error)) throw new BlobNotFoundError(container, name);
      throw error;
    }
  }

  /**
   * Stream a blob into a local file (created or replaced), never holding it whole in memory;
   * throws BlobNotFoundError when the blob does not exist.
   */
  async downloadToFile(container: string, name: string, file: string): Promise<void> {
    try {
      await this.container(container).getBlobClient(name).downloadToFile(file);
    } catch (error) {
      if (isNotFound(error)) throw new BlobNotFoundError(container, name);
      throw error;
    }
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

  /**
   * A writer for one append blob (event logs): it creates the blob on its first append and
   * appends every block at the position it expects, so a retried append can never add a block
   * twice. One writer per blob; calls must not overlap (await each `append`).
   */
  appendBlob(container: string, name: string): AppendBlobWriter {
    return new AppendBlobWriter(this.container(container).getAppendBlobClient(name), `${container}/${name}`);
  }
}

/** The error code of an append whose `appendPosition` condition failed (HTTP 412). */
const APPEND_POSITION_NOT_MET = 'AppendPositionConditionNotMet';

/**
 * Another writer appended to a blob this writer owns, so its next position is unknown. Not
 * retryable: the other writer is still there.
 */
export class AppendConflictError extends StratusError {
  constructor(blob: string, expected: number, found: number | undefined) {
    super(
      'APPEND_CONFLICT',
      `append blob ${blob} is ${found ?? 'no longer'} bytes long where this writer expected ${expected}: someone else appended to it`,
      { blob },
    );
    this.name = 'AppendConflictError';
  }
}

/**
 * Appends to one append blob. The blob is created once (`createIfNotExists` on the first
 * append, then never again); each block carries the `appendPosition` condition — the blob's
 * length this writer expects — which the service checks before appending, failing with 412
 * `AppendPositionConditionNotMet` otherwise. That makes the SDK's retries safe: when an append
 * lands but its response is lost, the retry gets 412, the writer finds its own bytes at that
 * position and moves on instead of appending them twice. Bytes of a failed append stay queued
 * and go first on the next call, so a batch split into several blocks resumes where it stopped.
 */
export class AppendBlobWriter {
  /** Length of the blob as this writer knows it; undefined until the first append created it. */
  private position: number | undefined;
  private unsent: Buffer[] = [];
  /** Appends that the SDK retried after they had landed (found in place after the 412). */
  landedRetries = 0;

  constructor(
    private readonly client: AppendBlobClient,
    private readonly blob: string,
  ) {}

  /** Bytes queued by failed appends, not yet in the blob. */
  get pendingBytes(): number {
    return this.unsent.reduce((n, b) => n + b.length, 0);
  }

  /**
   * Append `body` after whatever a failed earlier call left queued. Resolves once every queued
   * byte is in the blob; on failure the bytes that did not land stay queued and it throws.
   */
  async append(body: Buffer | string = Buffer.alloc(0)): Promise<void> {
    const data = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (data.length > 0) this.unsent.push(data);
    if (this.unsent.length === 0) return;
    if (this.position === undefined) {
      const created = await this.client.createIfNotExists();
      // Resuming a blob that exists (a writer restarted): continue at its end.
      this.position = created.succeeded ? 0 : ((await this.client.getProperties()).contentLength ?? 0);
    }
    const all = Buffer.concat(this.unsent);
    // One append block is at most 4 MiB (the service's limit); larger writes take several.
    const block = 4 * 1024 * 1024;
    let sent = 0;
    try {
      while (sent < all.length) {
        const part = all.subarray(sent, sent + block);
        await this.appendAt(part, this.position);
        this.position += part.length;
        sent += part.length;
      }
    } finally {
      this.unsent = sent < all.length ? [all.subarray(sent)] : [];
    }
  }

  private async appendAt(part: Buffer, position: number): Promise<void> {
    try {
      await this.client.appendBlock(part, part.length, { conditions: { appendPosition: position } });
    } catch (error) {
      if ((error as { code?: string }).code !== APPEND_POSITION_NOT_MET) throw error;
      // The position moved: either an earlier try of this very append landed and only its
      // response was lost (the SDK then retried), or someone else wrote. Only our own bytes,
      // exactly at our position and ending the blob, mean the first.
      const size = (await this.client.getProperties()).contentLength;
      if (size !== position + part.length) throw new AppendConflictError(this.blob, position, size);
      const found = await this.client.downloadToBuffer(position, part.length, { concurrency: 1 });
      if (!found.equals(part)) throw new AppendConflictError(this.blob, position, size);
      this.landedRetries++;
    }
  }
}
