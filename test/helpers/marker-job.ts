/**
 * A job module that leaves marker files where the test can see them: which executors loaded it
 * and which of its tasks ran. For tests that must prove a job's code did (or did not) run.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The temp folder (remove it after), its `markers/` folder, and the job module written in it. */
export interface MarkerJob {
  dir: string;
  markers: string;
  moduleFile: string;
}

/**
 * Write a job module into a new temp folder. Its `body` lines run after the imports of
 * `writeFileSync`, `path` and `defineJob`, with `MARKERS` bound to the markers folder.
 */
export async function createMarkerJob(prefix: string, body: string[]): Promise<MarkerJob> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  const markers = path.join(dir, 'markers');
  await mkdir(markers);
  const moduleFile = path.join(dir, 'marker-job.ts');
  const header = [
    "import { writeFileSync } from 'node:fs';",
    "import path from 'node:path';",
    "import { defineJob } from 'stratus';",
    `const MARKERS = ${JSON.stringify(markers)};`,
  ];
  await writeFile(moduleFile, [...header, ...body, ''].join('\n'));
  return { dir, markers, moduleFile };
}
