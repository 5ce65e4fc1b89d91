/**
 * What the templates and the code say about app settings, gathered once for the infra tests:
 * the settings the function-app module writes, and the settings the executor's code reads.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../helpers/dist.js';
import { balancedBlock, objectEntries, readBicep, varObject } from './bicep-text.js';

/** The function-app module, comments removed. */
export const FUNCTION_APP_BICEP = readBicep('modules/function-app.bicep');

/**
 * Every app setting the module writes, name → Bicep expression: the objects merged by the
 * `appsettings` config's `union(...)`, including conditional ones (`cond ? {} : { … }`).
 */
export function bicepAppSettings(): Map<string, string> {
  const config = /resource\s+appSettings\s+'config'/.exec(FUNCTION_APP_BICEP);
  if (!config) throw new Error('function-app.bicep has no appsettings config resource');
  const block = balancedBlock(FUNCTION_APP_BICEP, config.index);
  const union = /properties:\s*union\(([^)]*)\)/.exec(block);
  if (!union) throw new Error('appsettings properties must be a union(...) of named objects');
  const settings = new Map<string, string>();
  for (const name of union[1]!.split(',').map((s) => s.trim())) {
    const conditional = new RegExp(
      `^var\\s+${name}\\s*=\\s*.+\\?\\s*\\{\\s*\\}\\s*:\\s*(\\{.*\\})\\s*$`,
      'm',
    ).exec(FUNCTION_APP_BICEP);
    const entries = conditional
      ? objectEntries(conditional[1]!.replace(/^\{\s*/, '{\n').replace(/\s*\}$/, '\n}'))
      : varObject(FUNCTION_APP_BICEP, name);
    for (const [key, value] of entries) settings.set(key, value);
  }
  return settings;
}

function sourceFiles(dir: string, skip: (file: string) => boolean = () => false): string[] {
  return readdirSync(path.join(PACKAGE_ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name))
    .filter((f) => !skip(f));
}

/**
 * The code that runs inside a deployed executor: the function app (not its local host, which
 * stands in for Azure's), the storage wrappers and the engine.
 */
export function executorSourceFiles(): string[] {
  return [
    ...sourceFiles('executor-function', (f) => f.includes(`${path.sep}local-host${path.sep}`)),
    ...sourceFiles('storage'),
    ...sourceFiles('engine'),
  ];
}

/**
 * Setting names the given files read: `env.NAME` / `process.env.NAME`, `env['NAME']`, and string
 * literals that can only be setting names (`'STRATUS_…'`, `'AzureWebJobs…'`, host overrides).
 * Setting names start with an upper-case letter, which keeps `env.memory` (a task's environment) out.
 */
export function settingsReadBy(files: string[]): Set<string> {
  const names = new Set<string>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\benv\.([A-Z][A-Za-z0-9_]*)/g)) names.add(m[1]!);
    for (const m of text.matchAll(/\benv\[['"]([A-Z][^'"]*)['"]\]/g)) names.add(m[1]!);
    for (const m of text.matchAll(
      /'((?:STRATUS_[A-Z0-9_]+)|(?:AzureWebJobs\w*)|(?:AzureFunctionsJobHost__\w*))'/g,
    ))
      names.add(m[1]!);
  }
  return names;
}
