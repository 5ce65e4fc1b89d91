// Lets `node --import ./bench/register.mjs bench/run.ts` run the TypeScript benchmarks: it
// registers the project's own TypeScript module hooks (dist/driver/ts-hooks.js, built by
// `npm run build`), the same ones `stratus run` uses for job modules.
import { existsSync } from 'node:fs';
import { register } from 'node:module';

const hooks = new URL('../dist/driver/app/ts-hooks.js', import.meta.url);
if (!existsSync(hooks)) {
  process.stderr.write('bench: dist/ is missing; run `npm run build` first (npm run bench does)\n');
  process.exit(1);
}
register(hooks.href, import.meta.url);
