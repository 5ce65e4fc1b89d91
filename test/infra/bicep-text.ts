/**
 * Just enough of Bicep's syntax to check our templates in the test suite, where no Bicep
 * compiler is available: comments, params with decorators, resource declarations, object
 * literals (one `key: value` per line, as `bicep format` writes them), outputs, and a tiny
 * evaluator for the arithmetic our app settings use (`string(slotsPerExecutor - 1)`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../helpers/dist.js';

/** The infra folder of the repository. */
export const INFRA_DIR = path.join(PACKAGE_ROOT, 'infra');

/** Remove `//` and `/* … *\/` comments, leaving single-quoted strings (and `https://` in them) intact. */
export function stripComments(text: string): string {
  let out = '';
  let i = 0;
  let inString = false;
  while (i < text.length) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') {
        out += text[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (c === "'") inString = false;
      i++;
    } else if (c === "'") {
      inString = true;
      out += c;
      i++;
    } else if (text.startsWith('//', i)) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** A Bicep file, comments removed. */
export function readBicep(relative: string): string {
  return stripComments(readFileSync(path.join(INFRA_DIR, relative), 'utf8'));
}

/** One `param` declaration with the decorators written above it. */
export interface BicepParam {
  name: string;
  type: string;
  defaultExpr?: string;
  secure: boolean;
  allowed?: string[];
  minValue?: number;
  maxValue?: number;
}

/** Every `param` of a file, by name. */
export function params(text: string): Map<string, BicepParam> {
  const lines = text.split('\n');
  const result = new Map<string, BicepParam>();
  let decorators: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line.startsWith('@')) {
      // A decorator may span lines (@allowed([ … ])): gather until brackets balance.
      let text = line;
      while (balance(text) > 0 && i + 1 < lines.length) text += `\n${lines[++i]!.trim()}`;
      decorators.push(text);
      continue;
    }
    const match = /^param\s+(\w+)\s+(\w+)(?:\s*=\s*(.+))?$/.exec(line);
    if (match) {
      const [, name, type, defaultExpr] = match as unknown as [string, string, string, string | undefined];
      const param: BicepParam = { name, type, secure: decorators.some((d) => d.startsWith('@secure(')) };
      if (defaultExpr !== undefined) param.defaultExpr = defaultExpr.trim();
      for (const d of decorators) {
        const allowed = /^@allowed\(\[([\s\S]*)\]\)$/.exec(d);
        if (allowed) {
          param.allowed = allowed[1]!
            .split('\n')
            .map((s) => s.trim())
            .filter(Boolean);
        }
        const min = /^@minValue\((-?\d+)\)$/.exec(d);
        if (min) param.minValue = Number(min[1]);
        const max = /^@maxValue\((-?\d+)\)$/.exec(d);
        if (max) param.maxValue = Number(max[1]);
      }
      result.set(name, param);
    }
    if (line !== '') decorators = [];
  }
  return result;
}

function balance(text: string): number {
  let depth = 0;
  for (const c of stripStrings(text)) {
    if (c === '(' || c === '[' || c === '{') depth++;
    if (c === ')' || c === ']' || c === '}') depth--;
  }
  return depth;
}

function stripStrings(text: string): string {
  return text.replace(/'(?:[^'\\]|\\.)*'/g, "''");
}

/** Every `resource` declaration: symbolic name, type and API version. */
export function resources(text: string): { symbol: string; type: string; apiVersion: string }[] {
  return [...text.matchAll(/^\s*resource\s+(\w+)\s+'([^'@]+)@([^']+)'/gm)].map((m) => ({
    symbol: m[1]!,
    type: m[2]!,
    apiVersion: m[3]!,
  }));
}

/** The text of the balanced `{ … }` that starts at the first `{` at or after `from`. */
export function balancedBlock(text: string, from: number): string {
  const start = text.indexOf('{', from);
  if (start < 0) throw new Error('no block found');
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === "'") {
      i = text.indexOf("'", i + 1);
      continue;
    }
    if (c === '{') depth++;
    if (c === '}' && --depth === 0) return text.slice(start, i + 1);
  }
  throw new Error('unbalanced block');
}

/** The object literal assigned by `var <name> = {`. */
export function varObject(text: string, name: string): Map<string, string> {
  const at = new RegExp(`^var\\s+${name}\\s*=\\s*\\{`, 'm').exec(text);
  if (!at) throw new Error(`no var ${name} = { … }`);
  return objectEntries(balancedBlock(text, at.index));
}

/** The top-level `key: value` entries of an object literal (keys unquoted). */
export function objectEntries(block: string): Map<string, string> {
  const entries = new Map<string, string>();
  const body = block.slice(1, -1);
  let depth = 0;
  let current = '';
  const flush = () => {
    const m = /^\s*'?([\w.-]+)'?\s*:\s*([\s\S]+?)\s*$/.exec(current);
    if (m) entries.set(m[1]!, m[2]!);
    current = '';
  };
  for (const line of body.split('\n')) {
    if (depth === 0 && line.trim() === '') continue;
    current += `${current ? '\n' : ''}${line}`;
    depth += balance(line);
    if (depth === 0) flush();
  }
  return entries;
}

/** Every `output name type = expr` of a file. */
export function outputs(text: string): Map<string, { type: string; expr: string }> {
  const result = new Map<string, { type: string; expr: string }>();
  for (const m of text.matchAll(/^output\s+(\w+)\s+(\w+)\s*=\s*(.+)$/gm)) {
    result.set(m[1]!, { type: m[2]!, expr: m[3]!.trim() });
  }
  return result;
}

/** The `params: { … }` entries given to `module <symbol>`. */
export function moduleParams(text: string, symbol: string): { path: string; params: Map<string, string> } {
  const at = new RegExp(`^module\\s+${symbol}\\s+'([^']+)'`, 'm').exec(text);
  if (!at) throw new Error(`no module ${symbol}`);
  const body = balancedBlock(text, at.index);
  const paramsAt = body.indexOf('params:');
  return { path: at[1]!, params: objectEntries(balancedBlock(body, paramsAt)) };
}

type Value = number | string;

/**
 * Evaluate a Bicep expression made of integer and string literals, identifiers bound in `scope`,
 * `+ - * /` (integer division, as Bicep's), parentheses and `string(…)` / `int(…)`.
 * Throws on anything else, so a template that outgrows it fails loudly instead of passing.
 */
export function evaluate(expr: string, scope: Record<string, Value>): Value {
  const tokens = expr.match(/\d+|'[^']*'|[A-Za-z_][\w.]*|[-+*/()]/g) ?? [];
  if (tokens.join('') !== expr.replace(/\s+/g, '')) throw new Error(`cannot evaluate ${expr}`);
  let pos = 0;
  const peek = () => tokens[pos];
  const next = () => tokens[pos++];
  const primary = (): Value => {
    const t = next();
    if (t === undefined) throw new Error(`unexpected end of ${expr}`);
    if (/^\d+$/.test(t)) return Number(t);
    if (t.startsWith("'")) return t.slice(1, -1);
    if (t === '(') {
      const v = sum();
      if (next() !== ')') throw new Error(`missing ) in ${expr}`);
      return v;
    }
    if (t === '-') return -toNumber(primary());
    if ((t === 'string' || t === 'int') && peek() === '(') {
      next();
      const v = sum();
      if (next() !== ')') throw new Error(`missing ) in ${expr}`);
      return t === 'string' ? String(v) : toNumber(v);
    }
    if (!(t in scope)) throw new Error(`unbound identifier ${t} in ${expr}`);
    return scope[t]!;
  };
  const product = (): Value => {
    let v = primary();
    while (peek() === '*' || peek() === '/') {
      const op = next();
      const r = toNumber(primary());
      v = op === '*' ? toNumber(v) * r : Math.trunc(toNumber(v) / r);
    }
    return v;
  };
  const sum = (): Value => {
    let v = product();
    while (peek() === '+' || peek() === '-') {
      const op = next();
      const r = toNumber(product());
      v = op === '+' ? toNumber(v) + r : toNumber(v) - r;
    }
    return v;
  };
  const value = sum();
  if (pos !== tokens.length) throw new Error(`trailing tokens in ${expr}`);
  return value;
}

function toNumber(v: Value): number {
  if (typeof v !== 'number') throw new Error(`expected a number, got '${v}'`);
  return v;
}

/** A string literal's content, or undefined when the expression is not a plain literal. */
export function stringLiteral(expr: string): string | undefined {
  const m = /^'([^'$]*)'$/.exec(expr.trim());
  return m ? m[1] : undefined;
}
