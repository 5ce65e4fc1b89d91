/**
 * One Node LTS everywhere: the executors' runtime on Azure (infra/main.bicep's `nodeVersion`, the
 * only value the function-app module allows), package.json `engines`, the README's "Node 22" and the
 * getting-started and deploy pages, `.ci/run`'s pinned Node (which it fetches and runs every step on),
 * the major of @types/node (the API the code is type-checked against), the packaged function app's
 * `engines`, the esbuild target of that app, of job bundles and of the driver's TypeScript loader,
 * and the Node running this very test. A change to one of them without the others fails here, in CI.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtFile, PACKAGE_ROOT } from '../helpers/dist.js';
import { FUNCTION_APP_BICEP } from './app-settings.js';
import { params, readBicep } from './bicep-text.js';

const read = (relative: string) => readFileSync(path.join(PACKAGE_ROOT, relative), 'utf8');
const pkg = JSON.parse(read('package.json')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};
const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { version?: string }> };

/** The Node major the executors run on Azure: main.bicep's `var nodeVersion`. */
function deployedMajor(): number {
  const m = /^var nodeVersion = '(\d+)'$/m.exec(readBicep('main.bicep'));
  if (!m) throw new Error("infra/main.bicep must set `var nodeVersion = '<major>'`");
  return Number(m[1]);
}

/** `.ci/run`'s pinned Node version (major.minor.patch). */
function ciVersion(): string {
  const m = /^STRATUS_NODE_VERSION=(\d+\.\d+\.\d+)$/m.exec(read('.ci/run'));
  if (!m) throw new Error('.ci/run must pin STRATUS_NODE_VERSION=<major.minor.patch>');
  return m[1]!;
}

const major = (version: string) => Number(/^v?(\d+)\./.exec(version)?.[1]);
const supported = deployedMajor();

describe('one supported Node LTS everywhere', () => {
  it('the function app module allows only the Node major main.bicep deploys', () => {
    expect(params(FUNCTION_APP_BICEP).get('nodeVersion')?.allowed).toEqual([`'${supported}'`]);
    expect(readBicep('main.bicep')).toMatch(/\n\s+nodeVersion: nodeVersion\n/);
    // No parameter, no azd variable: the deployed major is not a choice a deployment can drift on.
    expect(params(readBicep('main.bicep')).has('nodeVersion')).toBe(false);
    expect(read('infra/main.parameters.json')).not.toMatch(/nodeVersion|STRATUS_NODE_VERSION/);
  });

  it('package.json engines accept that major and no other', () => {
    const range = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(pkg.engines.node);
    expect(range, `engines.node ${pkg.engines.node} must be ^<major>.<minor>.<patch>`).not.toBeNull();
    expect(Number(range![1])).toBe(supported);
  });

  it('.ci/run pins a release of that major, at or above the engines minimum', () => {
    const [maj, min, patch] = ciVersion().split('.').map(Number);
    const [, emaj, emin, epatch] = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(pkg.engines.node)!.map(Number);
    expect(maj).toBe(supported);
    expect(maj).toBe(emaj);
    expect(min! * 1000 + patch!).toBeGreaterThanOrEqual(emin! * 1000 + epatch!);
    // And .ci/run really runs on it: the setup is sourced before any npm step.
    const run = read('.ci/run');
    expect(run.indexOf('. .ci/node-setup.sh')).toBeGreaterThan(0);
    expect(run.indexOf('. .ci/node-setup.sh')).toBeLessThan(run.indexOf('npm ci'));
  });

  it('@types/node is of that major, in package.json and in the lock file', () => {
    expect(major(pkg.devDependencies['@types/node']!.replace(/^[\^~]/, ''))).toBe(supported);
    expect(major(lock.packages['node_modules/@types/node']!.version!)).toBe(supported);
  });

  it('the README and the getting-started and deploy pages name that major', () => {
    const minimum = pkg.engines.node.replace(/^\^/, '').split('.').slice(0, 2).join('.');
    const stated = `Node ${supported} (${minimum} or later)`;
    expect(read('README.md')).toContain(stated);
    expect(read('docs/getting-started.md')).toContain(stated);
    expect(read('docs/deploy.md')).toContain(`Node.js ${supported} (${minimum} or later)`);
    // No other major stated as a requirement ("Node ≥ 20.19 and npm", "Node.js 20.19 or later").
    const otherMajor = new RegExp(
      `Node(?:\\.js)? ?(?:≥|>=)? ?(?!${supported}\\b)\\d{2}(?:\\.\\d+)? (?:or later|and npm)`,
    );
    for (const doc of ['README.md', 'docs/getting-started.md', 'docs/deploy.md']) {
      expect(read(doc), doc).not.toMatch(otherMajor);
    }
  });

  it('the packaged function app declares that range, and both bundlers target that major', () => {
    // What `npm run package:function` wrote (azd deploys this folder): the root range as is.
    const app = JSON.parse(readFileSync(builtFile('function-app/package.json'), 'utf8')) as typeof pkg;
    expect(app.engines).toEqual({ node: pkg.engines.node });
    // esbuild's target for the function app, for job bundles (driver/app/bundler.ts) and for the
    // driver's TypeScript loader: code lowered for an older Node would run, but says the wrong
    // runtime; a newer one might not run.
    for (const file of [
      'infra/scripts/package-function.mjs',
      'driver/app/bundler.ts',
      'driver/app/ts-hooks.ts',
    ]) {
      const targets = [...read(file).matchAll(/\btarget: '([^']+)'/g)].map((m) => m[1]);
      expect(targets, file).toEqual([`node${supported}`]);
    }
  });

  it('the tests themselves run on that major (.ci/run puts its pinned Node first on PATH)', () => {
    expect(
      major(process.version),
      `running on ${process.version}: run under Node ${supported} (. .ci/node-setup.sh does it)`,
    ).toBe(supported);
  });
});
