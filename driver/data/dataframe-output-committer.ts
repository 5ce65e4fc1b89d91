/**
 * Commits a DataFrame write (Spark's FileFormatWriter with its output committer): each task's
 * winning execution listed its part files in a manifest; only those files ever become visible
 * under the output, and `_SUCCESS` is written last. The save mode decides what happens to an
 * output that exists: errorifexists refuses it before the job, ignore skips the job, overwrite
 * replaces it (an az:// output in the order commitSavedOutput uses: old `_SUCCESS` first, new
 * files committed, stale ones deleted, `_SUCCESS` last), append adds files beside the old ones
 * (names carry the write's id, so they never collide) and writes `_SUCCESS` again.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { StratusError } from '../../contract/errors.js';
import { DATA_CONTAINER } from '../../contract/names.js';
import type { SavedFileEntry, SavedFilesManifest, SaveMode } from '../../engine/sql/write-spec.js';
import type { BlobStore } from '../../storage/blob-store.js';
import { blockIds } from '../../storage/block-writer.js';
import {
  checkOutputTarget,
  moveStagedOutput,
  parseBlobTarget,
  type SavedPart,
  SUCCESS_MARKER,
} from './output-committer.js';

/** True when `target` holds data: a non-empty local folder (or a file), or any blob under an az:// prefix. */
export async function outputExists(blobs: BlobStore, target: string): Promise<boolean> {
  const remote = parseBlobTarget(target);
  if (remote) {
    await blobs.ensureContainers([remote.container]);
    return (await blobs.list(remote.container, remote.prefix)).length > 0;
  }
  const info = await stat(path.resolve(target)).catch(() => undefined);
  if (!info) return false;
  return !info.isDirectory() || (await readdir(path.resolve(target))).length > 0;
}

/**
 * Before a write's job: refuse (errorifexists) or allow the target; false when the job must
 * not run at all (ignore, and the output exists).
 */
export async function prepareDataFrameWrite(
  blobs: BlobStore,
  target: string,
  mode: SaveMode,
): Promise<boolean> {
  if (mode === 'ignore') {
    if (await outputExists(blobs, target)) return false;
    await checkOutputTarget(blobs, target, true);
    return true;
  }
  await checkOutputTarget(blobs, target, mode !== 'errorifexists');
  return true;
}

/** Run `fn` over `items`, `concurrency` at a time. */
async function eachOf<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** The files of every winning execution, read from their manifests (partition order). */
async function manifestEntries(blobs: BlobStore, parts: readonly SavedPart[]): Promise<SavedFileEntry[]> {
  const lists: SavedFileEntry[][] = new Array(parts.length);
  await eachOf(
    parts.map((part, p) => ({ part, p })),
    8,
    async ({ part, p }) => {
      if (!('manifestBlob' in part))
        throw new Error(`internal: part ${p} of a DataFrame write has no manifest`);
      const manifest = JSON.parse(
        (await blobs.get(DATA_CONTAINER, part.manifestBlob)).toString('utf8'),
      ) as SavedFilesManifest;
      lists[p] = manifest.files;
    },
  );
  return lists.flat();
}

/** Commit the winning executions' files of a DataFrame write into `target`, then `_SUCCESS`. */
export async function commitDataFrameOutput(
  blobs: BlobStore,
  target: string,
  parts: readonly SavedPart[],
  mode: SaveMode,
  concurrency = 8,
): Promise<void> {
  const entries = await manifestEntries(blobs, parts);
  const remote = parseBlobTarget(target);
  if (remote) {
    const success = `${remote.prefix}${SUCCESS_MARKER}`;
    if (mode === 'overwrite') await blobs.delete(remote.container, success);
    await eachOf(entries, concurrency, async (entry) => {
      if (!entry.stagedBlocks) throw new Error(`internal: ${entry.path} of ${target} has no staged blocks`);
      const name = `${remote.prefix}${entry.path}`;
      try {
        await blobs.commitBlocks(
          remote.container,
          name,
          blockIds(entry.stagedBlocks.token, entry.stagedBlocks.count),
        );
      } catch (error) {
        throw new StratusError(
          'OUTPUT_COMMIT_FAILED',
          `committing ${target}/${entry.path} failed: ${(error as Error).message}`,
          { blob: `${remote.container}/${name}` },
          { cause: error },
        );
      }
    });
    if (mode === 'overwrite') {
      // Only now: every blob that carried this job's blocks is committed (see commitSavedOutput).
      const keep = new Set(entries.map((e) => `${remote.prefix}${e.path}`));
      const stale = (await blobs.list(remote.container, remote.prefix)).filter(
        (b) => !keep.has(b.name) && b.name !== success,
      );
      await eachOf(stale, 16, (b) => blobs.delete(remote.container, b.name));
    }
    await blobs.put(remote.container, success, '');
    return;
  }
  const final = path.resolve(target);
  const staging = `${final}.stratus-${randomBytes(4).toString('hex')}.tmp`;
  await mkdir(staging, { recursive: true });
  try {
    await eachOf(entries, concurrency, async (entry) => {
      if (!entry.blob) throw new Error(`internal: ${entry.path} of ${final} has no attempt blob`);
      const file = path.join(staging, entry.path);
      await mkdir(path.dirname(file), { recursive: true });
      await blobs.downloadToFile(DATA_CONTAINER, entry.blob, file);
    });
    if (mode === 'append') {
      // Into the existing folder, file by file (each rename is atomic; the names are new).
      await mkdir(final, { recursive: true });
      for (const entry of entries) {
        await mkdir(path.dirname(path.join(final, entry.path)), { recursive: true });
        await rename(path.join(staging, entry.path), path.join(final, entry.path));
      }
      await writeFile(path.join(final, SUCCESS_MARKER), '');
      await rm(staging, { recursive: true, force: true });
      return;
    }
    await moveStagedOutput(
      staging,
      final,
      async () => mode === 'errorifexists' && (await outputExists(blobs, final)),
    );
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}
