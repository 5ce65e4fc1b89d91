#!/usr/bin/env node
/**
 * The API reports of the two published entry points, `stratus` (dist/engine/index.d.ts) and
 * `stratus/driver` (dist/driver/index.d.ts), made by API Extractor from the built .d.ts files
 * into api/stratus.api.md and api/stratus-driver.api.md (configs: api/*.extractor.json).
 *
 *   node infra/scripts/api-report.mjs --local   rewrite the reports (`npm run api`)
 *   node infra/scripts/api-report.mjs           fail when the surface differs from the committed
 *                                               reports, or leaks an unexported or undocumented
 *                                               type (`npm run api:check`, run by .ci/run)
 *
 * Both expect fresh .d.ts files; the npm scripts compile them first.
 *
 * The driver's public types name job-module types (`Driver.run(job: JobDefinition…)`) by package
 * name, `import type … from 'stratus'`. API Extractor only treats an import as another package's
 * when TypeScript resolved it through a node_modules folder, and a package's import of its own
 * name never is; so this script writes a one-line `stratus` package under
 * dist/api-report/node_modules that re-exports the engine entry, and the driver config maps
 * `stratus` to it. The driver report then shows `import … from 'stratus'` instead of
 * copying the whole job-module API.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const localBuild = process.argv.includes('--local');
const entries = ['stratus', 'stratus-driver'];

const stub = path.join(root, 'dist', 'api-report', 'node_modules', 'stratus', 'index.d.ts');
await mkdir(path.dirname(stub), { recursive: true });
await writeFile(stub, "export * from '../../../engine/index.js';\n");

const failed = [];
for (const entry of entries) {
  const config = ExtractorConfig.loadFileAndPrepare(path.join(root, 'api', `${entry}.extractor.json`));
  const result = Extractor.invoke(config, { localBuild });
  if (!result.succeeded) failed.push({ entry, errors: result.errorCount, changed: result.apiReportChanged });
}

if (failed.length > 0) {
  for (const { entry, errors, changed } of failed) {
    const why =
      errors > 0
        ? `${errors} error(s) above: a public signature names a type the entry does not export (export it on purpose or stop leaking it), or a public symbol lacks its doc comment`
        : changed && !localBuild
          ? `its public API differs from api/${entry}.api.md: if the change is deliberate, run \`npm run api\` and commit the report`
          : 'see the messages above';
    process.stderr.write(`api: ${entry}: ${why}\n`);
  }
  process.exit(1);
}
process.stdout.write(
  `api: ${entries.join(', ')}: ${localBuild ? 'reports written' : 'match the committed reports'}\n`,
);
