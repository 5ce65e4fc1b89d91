/**
 * Where a secret may go in our templates, checked on their text (no Bicep compiler runs here). A
 * `@secure()` parameter may only be (a) the `value` of a Key Vault secret resource or (b) passed to a
 * module parameter that is itself `@secure()`; any other use — an app setting, an output, a string
 * interpolation, a condition — could put it in plain text somewhere (app settings are readable by
 * anyone with read access to the app's configuration; outputs are kept in the deployment history).
 * And an app setting whose name says it holds a secret must be a Key Vault reference, never a value.
 */
import path from 'node:path';
import { balancedBlock, params, resources } from './bicep-text.js';

/** One place a secret could leak, for the failure message. */
export interface SecretLeak {
  file: string;
  line: string;
  why: string;
}

/** [start, end) of each block opened by a regex match in `text`. */
function blocks(text: string, pattern: RegExp): { start: number; end: number; match: RegExpExecArray }[] {
  const found: { start: number; end: number; match: RegExpExecArray }[] = [];
  for (const m of text.matchAll(new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`))) {
    const block = balancedBlock(text, m.index!);
    found.push({ start: m.index!, end: m.index! + block.length, match: m as RegExpExecArray });
  }
  return found;
}

/**
 * Every use of a `@secure()` parameter that is neither a Key Vault secret's value nor a secure
 * module parameter. `files` maps a path relative to infra/ to its text with comments removed;
 * module targets are looked up in it by their relative path.
 */
export function secureParamLeaks(files: ReadonlyMap<string, string>): SecretLeak[] {
  const leaks: SecretLeak[] = [];
  for (const [file, text] of files) {
    const secrets = [...params(text).values()].filter((p) => p.secure).map((p) => p.name);
    if (secrets.length === 0) continue;
    const secretResources = resources(text)
      .filter((r) => r.type === 'Microsoft.KeyVault/vaults/secrets')
      .flatMap((r) => blocks(text, new RegExp(`^\\s*resource\\s+${r.symbol}\\s`, 'm')));
    const modules = blocks(text, /^module\s+\w+\s+'([^']+)'/m).map((b) => ({
      ...b,
      target: files.get(path.posix.join(path.posix.dirname(file), b.match[1]!)),
    }));
    for (const name of secrets) {
      const seen = new Set<number>();
      for (const m of text.matchAll(new RegExp(`\\b${name}\\b`, 'g'))) {
        const lineStart = text.lastIndexOf('\n', m.index!) + 1;
        // One finding per line, however often the name appears on it.
        if (seen.has(lineStart)) continue;
        seen.add(lineStart);
        const lineEnd = text.indexOf('\n', m.index!);
        const line = text.slice(lineStart, lineEnd < 0 ? undefined : lineEnd).trim();
        if (new RegExp(`^param\\s+${name}\\s`).test(line)) continue;
        const at = m.index!;
        const property = new RegExp(`^(\\w+):\\s*${name}$`).exec(line);
        if (property?.[1] === 'value' && secretResources.some((b) => at > b.start && at < b.end)) continue;
        const module = modules.find((b) => at > b.start && at < b.end);
        if (property && module) {
          const target = module.target === undefined ? undefined : params(module.target).get(property[1]!);
          if (target?.secure) continue;
          leaks.push({ file, line, why: `module parameter ${property[1]} is not @secure()` });
          continue;
        }
        leaks.push({ file, line, why: 'a @secure() parameter used outside a Key Vault secret value' });
      }
    }
  }
  return leaks;
}

/** A setting name that says it holds a secret. */
export const SECRET_SETTING_NAME = /key|secret|password|sas|token/i;

/** The URI expression of a `'@Microsoft.KeyVault(SecretUri=${expr})'` setting value; undefined otherwise. */
export function keyVaultReferenceExpr(valueExpr: string): string | undefined {
  return /^'@Microsoft\.KeyVault\(SecretUri=\$\{(\w+)\}\)'$/.exec(valueExpr.trim())?.[1];
}

/**
 * App settings (name → Bicep expression) whose name says they hold a secret but whose value is
 * not a Key Vault reference built from a non-secure parameter: a literal, a secure parameter
 * passed straight in, or anything else. `nonSecret` lists the settings whose names only look
 * secret (the `managedidentity` credential kind).
 */
export function plainSecretSettings(
  settings: ReadonlyMap<string, string>,
  moduleText: string,
  nonSecret: readonly string[] = [],
): string[] {
  const declared = params(moduleText);
  return [...settings]
    .filter(([name]) => SECRET_SETTING_NAME.test(name) && !nonSecret.includes(name))
    .filter(([, expr]) => {
      const uri = keyVaultReferenceExpr(expr);
      const param = uri === undefined ? undefined : declared.get(uri);
      return param === undefined || param.secure;
    })
    .map(([name, expr]) => `${name} = ${expr}`);
}
