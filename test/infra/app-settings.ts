/**
 * What the templates and the code say about app settings, gathered once for the infra tests:
 * the settings the function-app module writes (what the code reads is env-reads.ts' job).
 */
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
