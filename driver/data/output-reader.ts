/**
 * Reads committed output back (`stratus cat`, `stratus download`): the part files of a save
 * action's output folder or `az://container/prefix`, in partition order — only when the
 * output carries `_SUCCESS`, so a half-written output is never mistaken for a result.
 */
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { StratusError } from '../../contract/errors.js';
import { BlobStore } from '../../storage/blob-store.js';
import { type AzureConnectionOptions, resolveAzureConnection } from '../fabric/azure.js';
import { parseBlobTarget, SUCCESS_MARKER } from './output-committer.js';

const PART = /^part-\d{5,}/;

/**
 * The storage an `az://` output is read from, connected as `stratus run` connects (the given
 * account or connection string, else the environment); undefined for a local folder.
 */
export function outputBlobStore(
  target: string,
  connection: Pick<AzureConnectionOptions, 'account' | 'connectionString'>,
): BlobStore | undefined {
  if (!target.startsWith('az://')) return undefined;
  return new BlobStore(
    resolveAzureConnection({ account: connection.account, connectionString: connection.connectionString })
      .storage,
  );
}

/** The part files of a committed output, in partition order; throws when `_SUCCESS` is missing. */
export async function listOutputParts(target: string, blobs?: BlobStore): Promise<string[]> {
  const remote = parseBlobTarget(target);
  let names: string[];
  if (remote) {
    if (!blobs)
      throw new StratusError('OUTPUT_INVALID', `${target}: reading az:// needs a storage connection`);
    names = (await blobs.list(remote.container, remote.prefix)).map((b) =>
      b.name.slice(remote.prefix.length),
    );
  } else {
    try {
      if (!(await stat(target)).isDirectory()) throw new Error('not a folder');
      names = await readdir(target);
    } catch {
      throw new StratusError('OUTPUT_NOT_FOUND', `no output folder at ${path.resolve(target)}`);
    }
  }
  names = names.filter((n) => !n.includes('/'));
  if (!names.includes(SUCCESS_MARKER)) {
    throw new StratusError(
      'OUTPUT_NOT_COMMITTED',
      names.length === 0
        ? `no output at ${target}`
        : `${target} has no ${SUCCESS_MARKER}: the job that wrote it did not finish; its files are not a result`,
    );
  }
  return names.filter((n) => PART.test(n)).sort();
}

/** The bytes of one part file of an output. */
export async function readOutputPart(target: string, part: string, blobs?: BlobStore): Promise<Buffer> {
  const remote = parseBlobTarget(target);
  if (remote) return blobs!.get(remote.container, `${remote.prefix}${part}`);
  return readFile(path.join(target, part));
}

/** The bytes of a committed output, one part file at a time in partition order (`stratus cat`). */
export async function* readOutput(target: string, blobs?: BlobStore): AsyncGenerator<Buffer> {
  for (const part of await listOutputParts(target, blobs)) yield await readOutputPart(target, part, blobs);
}

/** Copy a committed output (parts, then `_SUCCESS`) into a local folder; returns the part count. */
export async function downloadOutput(target: string, into: string, blobs?: BlobStore): Promise<number> {
  const parts = await listOutputParts(target, blobs);
  await mkdir(into, { recursive: true });
  const existing = await readdir(into);
  if (existing.length > 0) {
    throw new StratusError(
      'OUTPUT_EXISTS',
      `${path.resolve(into)} is not empty; choose an empty or new folder`,
    );
  }
  for (const part of parts) await writeFile(path.join(into, part), await readOutputPart(target, part, blobs));
  await writeFile(path.join(into, SUCCESS_MARKER), '');
  return parts.length;
}
