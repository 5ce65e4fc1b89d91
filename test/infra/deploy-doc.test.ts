/**
 * docs/deploy.md, read against the files it describes: every variable it has you `azd env set`
 * feeds a parameter, every parameter default is one the Bicep accepts, every `stratus` command
 * and flag it shows exists, and every variable its shell snippets use is a deployment output or
 * set by the snippet itself.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT, runBuiltCli } from '../helpers/dist.js';
import { outputs, params, readBicep } from './bicep-text.js';

const DOC = readFileSync(path.join(PACKAGE_ROOT, 'docs', 'deploy.md'), 'utf8');
const PARAMETERS = JSON.parse(
  readFileSync(path.join(PACKAGE_ROOT, 'infra', 'main.parameters.json'), 'utf8'),
) as {
  parameters: Record<string, { value: unknown }>;
};
const MAIN = readBicep('main.bicep');

/** The shell lines of the page's fenced code blocks. */
const CODE_LINES = [...DOC.matchAll(/```(?:sh)?\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split('\n'));
/** Inline code spans and code lines: where commands are written. */
const CODE_SPANS = [...[...DOC.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!), ...CODE_LINES];

/** `${NAME}` / `${NAME=default}` references of main.parameters.json: name → [parameter, default]. */
function parameterVariables(): Map<string, { parameter: string; fallback?: string }> {
  const vars = new Map<string, { parameter: string; fallback?: string }>();
  for (const [parameter, { value }] of Object.entries(PARAMETERS.parameters)) {
    const m = /^\$\{(\w+)(?:=([^}]*))?\}$/.exec(String(value));
    if (m) vars.set(m[1]!, m[2] === undefined ? { parameter } : { parameter, fallback: m[2] });
  }
  return vars;
}

/** The lines of `stratus <args…> --help` that start an entry (two spaces of indent, not a wrapped line). */
async function helpEntries(...args: string[]): Promise<string[]> {
  const { code, stdout, stderr } = await runBuiltCli([...args, '--help']);
  if (code !== 0) throw new Error(`stratus ${args.join(' ')} --help exited with ${code}: ${stderr}`);
  return stdout.split('\n').filter((line) => /^ {2}\S/.test(line));
}

/** The commands of the built CLI among `wanted`, each with the long flags its help lists. */
async function cliCommands(wanted: ReadonlySet<string>): Promise<Map<string, string[]>> {
  const names = (await helpEntries())
    .map((line) => /^ {2}([a-z]+) /.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && wanted.has(name));
  const flags = await Promise.all(
    names.map(async (name) =>
      (await helpEntries(name))
        .map((line) => /^ {2}(?:-\w, )?(--[a-z][a-z-]*)/.exec(line)?.[1])
        .filter((flag): flag is string => flag !== undefined),
    ),
  );
  return new Map(names.map((name, i) => [name, flags[i]!]));
}

describe('docs/deploy.md matches the template and the CLI', () => {
  it('every variable it has you azd env set is read by main.parameters.json (or by the snippet it has you add)', () => {
    const read = new Set(parameterVariables().keys());
    // The signing section has you add a parameter line of your own.
    for (const m of DOC.matchAll(/"value": "\$\{(\w+)\}"/g)) read.add(m[1]!);
    const set = [...DOC.matchAll(/azd env set (\w+)/g)].map((m) => m[1]!);
    expect(set.length).toBeGreaterThan(5);
    expect(set.filter((name) => !read.has(name))).toEqual([]);
  });

  it("every parameter the file feeds exists in main.bicep, and every fallback is inside the parameter's bounds", () => {
    const declared = params(MAIN);
    for (const [name, { parameter, fallback }] of parameterVariables()) {
      const decl = declared.get(parameter);
      expect(decl, `${name} feeds ${parameter}`).toBeDefined();
      if (fallback === undefined || decl === undefined) continue;
      if (decl.type === 'int') {
        const n = Number(fallback);
        if (decl.minValue !== undefined) expect(n, parameter).toBeGreaterThanOrEqual(decl.minValue);
        if (decl.maxValue !== undefined) expect(n, parameter).toBeLessThanOrEqual(decl.maxValue);
      }
      if (decl.allowed) expect(decl.allowed.map((a) => a.replace(/^'|'$/g, ''))).toContain(fallback);
    }
  });

  it('every stratus command and flag it shows exists', async () => {
    const lines = CODE_SPANS.map((span) => /^(?:npx )?stratus ([a-z]+)(.*)$/.exec(span.trim())).filter(
      (m): m is RegExpExecArray => m !== null,
    );
    const commands = await cliCommands(new Set(lines.map((m) => m[1]!)));
    const shown: string[] = [];
    const unknown: string[] = [];
    for (const m of lines) {
      const command = commands.get(m[1]!);
      if (!command) {
        unknown.push(`stratus ${m[1]}`);
        continue;
      }
      for (const flag of m[2]!.match(/--[a-z][a-z-]*/g) ?? []) {
        shown.push(`${m[1]} ${flag}`);
        if (!command.includes(flag)) unknown.push(`stratus ${m[1]} ${flag}`);
      }
    }
    expect(shown).toEqual(expect.arrayContaining(['doctor --function-app-settings', 'clean --dry-run']));
    expect(unknown).toEqual([]);
  });

  it('every variable its shell snippets use is a deployment output or set by the snippet', () => {
    const out = new Set(outputs(MAIN).keys());
    const assigned = new Set(
      CODE_LINES.flatMap((l) => [...l.matchAll(/\b([A-Z][A-Z0-9_]*)=/g)].map((m) => m[1]!)),
    );
    // Not `${JSON.stringify(…)}` inside the snippet's JavaScript.
    const used = CODE_LINES.flatMap((l) =>
      [...l.matchAll(/\$\{?([A-Z][A-Z0-9_]*)(?![\w.(])/g)].map((m) => m[1]!),
    );
    expect(used).toContain('STRATUS_FUNCTION_APP');
    expect(used.filter((name) => !out.has(name) && !assigned.has(name))).toEqual([]);
  });
});
