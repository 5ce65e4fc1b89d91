/**
 * Commits the output of a save action, as Spark's output committer does: only one winning
 * execution per partition ever becomes a part file `part-00000…`, and `_SUCCESS` is written
 * last, so a reader that sees `_SUCCESS` sees complete output and a failed or duplicated
 * attempt never shows up. Targets are `az://<container>/<prefix>` in the account or local
 * folders.
 *
 * az:// targets are committed without copying a byte: every save execution staged its part
 * as uncommitted blocks on the final part blob, and the driver makes the winner's blocks the
 * blob's content with one Put Block List per part — atomic, and discarding every other
 * execution's uncommitted blocks. Local targets are written from attempt blobs, each
 * streamed into a staging folder that is renamed into place.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { StratusError } from '../../contract/errors.js';
import { DATA_CONTAINER } from '../../contract/names.js';
import { partFileName } from '../../engine/dataset/actions.js';
import type { BlobStore } from '../../storage/blob-store.js';
import { blockIds } from '../../storage/block-writer.js';

/** The winning execution's part file of one partition, as its success event described it. */
export type SavedPart = { records: number; bytes: number } & (
  | { /** Local targets: the execution's committed attempt blob (data container). */ attemptBlob: string }
  | {
      /** az:// targets: the uncommitted blocks the execution staged on the final part blob. */
      stagedBlocks: { token: string; count: number };
    }
  | {
      /** DataFrame writes: the execution's manifest of part files (dataframe-output-committer.ts). */
      manifestBlob: string;
    }
);

/** The marker written last into a committed output. */
export const SUCCESS_MARKER = '_SUCCESS';

/** A parsed `az://container/prefix` target. */
export interface BlobTarget {
  container: string;
  prefix: string;
}

/** Parse `az://<container>/<prefix>`; undefined for a local path. */
export function parseBlobTarget(target: string): BlobTarget | undefined {
  if (!target.startsWith('az://')) return undefined;
  const rest = target.slice('az://'.length);
  const slash = rest.indexOf('/');
  const container = slash < 0 ? rest : rest.slice(0, slash);
  let prefix = slash < 0 ? '' : rest.slice(slash + 1);
  if (!/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/.test(container)) {
    throw new StratusError('OUTPUT_INVALID', `${target}: "${container}" is not a valid container name`);
  }
  if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
  return { container, prefix };
}

async function localEntries(dir: string): Promise<string[] | undefined> {
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) return ['(a file)'];
    return await readdir(dir);
  } catch {
    return undefined;
  }
}

/**
 * Refuse an output target that already holds data, unless `overwrite`; create an az://
 * target's container (tasks stage their blocks there). Blobs with only uncommitted blocks
 * (left by a failed run) are not data: they are invisible, and the next commit discards them.
 */
export async function checkOutputTarget(blobs: BlobStore, target: string, overwrite: boolean): Promise<void> {
  const remote = parseBlobTarget(target);
  if (remote) {
    await blobs.ensureContainers([remote.container]);
    if (overwrite) return;
    const existing = await blobs.list(remote.container, remote.prefix);
    if (existing.length > 0) {
      throw new StratusError(
        'OUTPUT_EXISTS',
        `output ${target} already exists (${existing.length} blobs); choose another path or run with overwrite`,
      );
    }
    return;
  }
  if (overwrite) return;
  const entries = await localEntries(path.resolve(target));
  if (entries !== undefined && entries.length > 0) {
    throw new StratusError(
      'OUTPUT_EXISTS',
      `output ${path.resolve(target)} already exists and is not empty; choose another path or run with overwrite (--overwrite)`,
    );
  }
}

/** Run `fn` for every part, `concurrency` at a time. */
async function eachPart(
  parts: readonly SavedPart[],
  concurrency: number,
  fn: (part: SavedPart, p: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, parts.length) }, async () => {
      while (next < parts.length) {
        const p = next++;
        await fn(parts[p]!, p);
      }
    }),
  );
}

/**
 * Make each partition's winning part file the output's `part-NNNNN`, then write `_SUCCESS`.
 * With `overwrite`, an existing az:// output is replaced in an order a reader can trust: its
 * `_SUCCESS` goes first, the new parts are committed over the old ones, old parts the new
 * output does not have are deleted, and `_SUCCESS` comes last. No blob is deleted before its
 * commit: deleting a blob would drop the blocks this job staged on it.
 */
export async function commitSavedOutput(
  blobs: BlobStore,
  target: string,
  parts: readonly SavedPart[],
  options: { overwrite: boolean; concurrency?: number },
): Promise<void> {
  const concurrency = options.concurrency ?? 8;
  const remote = parseBlobTarget(target);
  if (remote) {
    await commitToContainer(blobs, target, remote, parts, options.overwrite, concurrency);
    return;
  }
  // Local: assemble in a sibling temp folder, then rename into place, so the folder appears whole.
  const final = path.resolve(target);
  const staging = `${final}.stratus-${randomBytes(4).toString('hex')}.tmp`;
  await mkdir(staging, { recursive: true });
  try {
    await eachPart(parts, concurrency, async (part, p) => {
      if (!('attemptBlob' in part))
        throw new Error(`internal: part ${p} of local output ${final} has no blob`);
      await blobs.downloadToFile(DATA_CONTAINER, part.attemptBlob, path.join(staging, partFileName(p)));
    });
    await moveStagedOutput(staging, final, async () => {
      const existing = await localEntries(final);
      return existing !== undefined && existing.length > 0 && !options.overwrite;
    });
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

async function commitToContainer(
  blobs: BlobStore,
  target: string,
  remote: BlobTarget,
  parts: readonly SavedPart[],
  overwrite: boolean,
  concurrency: number,
): Promise<void> {
  const success = `${remote.prefix}${SUCCESS_MARKER}`;
  const partNames = parts.map((_, p) => `${remote.prefix}${partFileName(p)}`);
  // A reader must never see the old _SUCCESS beside a mix of old and new parts.
  if (overwrite) await blobs.delete(remote.container, success);
  await eachPart(parts, concurrency, async (part, p) => {
    if (!('stagedBlocks' in part)) throw new Error(`internal: part ${p} of ${target} has no staged blocks`);
    const name = partNames[p]!;
    try {
      await blobs.commitBlocks(
        remote.container,
        name,
        blockIds(part.stagedBlocks.token, part.stagedBlocks.count),
      );
    } catch (error) {
      // InvalidBlockList: the blocks are gone — the blob was deleted while the job ran.
      throw new StratusError(
        'OUTPUT_COMMIT_FAILED',
        `committing ${target}${partFileName(p)} failed: ${(error as Error).message}`,
        { blob: `${remote.container}/${name}`, partition: p },
        { cause: error },
      );
    }
  });
  if (overwrite) {
    // Only now: every blob that carried this job's blocks is committed, so deleting the
    // old output's other blobs cannot drop them.
    const keep = new Set(partNames);
    const stale = (await blobs.list(remote.container, remote.prefix)).filter(
      (b) => !keep.has(b.name) && b.name !== success,
    );
    for (let i = 0; i < stale.length; i += 16) {
      await Promise.all(stale.slice(i, i + 16).map((b) => blobs.delete(remote.container, b.name)));
    }
  }
  await blobs.put(remote.container, success, '');
}

/**
 * The last step of a local commit: mark the finished staging folder `_SUCCESS` and move it to
 * `final`, replacing what is there unless `mustKeep` says an output appeared there that the save
 * may not replace (then OUTPUT_EXISTS, and the caller removes the staging folder).
 */
export async function moveStagedOutput(
  staging: string,
  final: string,
  mustKeep: () => Promise<boolean>,
): Promise<void> {
  await writeFile(path.join(staging, SUCCESS_MARKER), '');
  if (await mustKeep()) {
    throw new StratusError('OUTPUT_EXISTS', `output ${final} appeared while the job ran; not replacing it`);
  }
  await rm(final, { recursive: true, force: true });
  await mkdir(path.dirname(final), { recursive: true });
  await rename(staging, final);
}
