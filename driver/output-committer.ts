/**
 * Commits the output of a save action, as Spark's output committer does: task attempts
 * write attempt-named part files; when the job has succeeded the driver copies exactly
 * one winning attempt per partition to `part-00000…` and then writes `_SUCCESS`. A
 * reader that sees `_SUCCESS` sees complete output; a failed or duplicated attempt never
 * shows up. Targets are local folders or `az://<container>/<prefix>` in the account.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { partFileName } from '../engine/actions.js';
import { StratusError } from '../engine/errors.js';
import { DATA_CONTAINER } from '../engine/names.js';
import type { BlobStore } from '../storage/blob-store.js';

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

/** Refuse an output target that already holds data, unless `overwrite`. */
export async function checkOutputTarget(blobs: BlobStore, target: string, overwrite: boolean): Promise<void> {
  if (overwrite) return;
  const remote = parseBlobTarget(target);
  if (remote) {
    await blobs.ensureContainers([remote.container]);
    const existing = await blobs.list(remote.container, remote.prefix);
    if (existing.length > 0) {
      throw new StratusError(
        'OUTPUT_EXISTS',
        `output ${target} already exists (${existing.length} blobs); choose another path or run with overwrite`,
      );
    }
    return;
  }
  const entries = await localEntries(path.resolve(target));
  if (entries !== undefined && entries.length > 0) {
    throw new StratusError(
      'OUTPUT_EXISTS',
      `output ${path.resolve(target)} already exists and is not empty; choose another path or run with overwrite (--overwrite)`,
    );
  }
}

/** Copy each partition's winning attempt to its final part file, then write `_SUCCESS`. */
export async function commitSavedOutput(
  blobs: BlobStore,
  target: string,
  parts: readonly { blob: string; records: number }[],
  options: { overwrite: boolean; concurrency?: number },
): Promise<void> {
  const concurrency = options.concurrency ?? 8;
  const remote = parseBlobTarget(target);
  const each = async (fn: (part: { blob: string }, p: number) => Promise<void>) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(concurrency, parts.length) }, async () => {
        while (next < parts.length) {
          const p = next++;
          await fn(parts[p]!, p);
        }
      }),
    );
  };
  if (remote) {
    await blobs.ensureContainers([remote.container]);
    if (options.overwrite) await blobs.deletePrefix(remote.container, remote.prefix);
    await each(async (part, p) => {
      const data = await blobs.get(DATA_CONTAINER, part.blob);
      await blobs.put(remote.container, `${remote.prefix}${partFileName(p)}`, data);
    });
    await blobs.put(remote.container, `${remote.prefix}${SUCCESS_MARKER}`, '');
    return;
  }
  // Local: assemble in a sibling temp folder, then rename into place, so the folder appears whole.
  const final = path.resolve(target);
  const staging = `${final}.stratus-${randomBytes(4).toString('hex')}.tmp`;
  await mkdir(staging, { recursive: true });
  try {
    await each(async (part, p) => {
      const data = await blobs.get(DATA_CONTAINER, part.blob);
      await writeFile(path.join(staging, partFileName(p)), data);
    });
    await writeFile(path.join(staging, SUCCESS_MARKER), '');
    const existing = await localEntries(final);
    if (existing !== undefined) {
      if (existing.length > 0 && !options.overwrite) {
        throw new StratusError(
          'OUTPUT_EXISTS',
          `output ${final} appeared while the job ran; not replacing it`,
        );
      }
      await rm(final, { recursive: true, force: true });
    }
    await mkdir(path.dirname(final), { recursive: true });
    await rename(staging, final);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}
