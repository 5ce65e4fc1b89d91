/**
 * Which environment variables a body of code reads, found with the TypeScript compiler's type
 * checker rather than by pattern-matching text, so every form counts: `process.env.X`,
 * `process.env['X']`, an `env` parameter of type `NodeJS.ProcessEnv` under any name,
 * destructuring (`const { X } = process.env`), `'X' in env`, and helpers that read a variable
 * whose name they are given (`setting(env, 'X')`, `${name}__${suffix}`), resolved at every call
 * site. Names reach the Functions host through binding expressions too (`%X%`, `connection`), and
 * commander reads `Option#env(name)`.
 *
 * The scan is conservative: an access whose name it cannot work out (a computed key built at run
 * time, `process.env` handed to code that does not take a `ProcessEnv`, a helper passed around as
 * a value) is reported as `unresolved`, never silently dropped, so the static tests fail until the
 * code or the scanner says what it reads. Libraries (the Azure SDK reading `AZURE_CLIENT_ID`…) are
 * not our code and not scanned.
 */
import path from 'node:path';
import ts from 'typescript';
import { PACKAGE_ROOT } from '../helpers/dist.js';

/** One environment variable read, and where. */
export interface EnvRead {
  name: string;
  /** `file:line`, relative to the package root. */
  at: string;
}

/** An access the scanner could not name: the tests treat any of these as a failure. */
export interface UnresolvedRead {
  at: string;
  why: string;
}

/** What a set of files reads from the environment. */
export interface EnvScan {
  reads: EnvRead[];
  unresolved: UnresolvedRead[];
  /** The distinct names read. */
  names: Set<string>;
}

/**
 * A helper that reads the environment object it is given through code the checker cannot
 * follow (a case-insensitive lookup over `Object.keys`): its `envParam`-th argument is the
 * environment when a call passes `process.env` or a `ProcessEnv`, and its `keyParam`-th the name.
 */
export interface OpaqueEnvHelper {
  /** Package-relative file. */
  file: string;
  /** Function name. */
  name: string;
  envParam: number;
  keyParam: number;
}

/** Libraries whose declarations the scan needs: commander's `Option#env`, the Functions programming model. */
const SCANNED_LIBRARIES = ['commander', '@azure/functions'];

/** A TypeScript program over the package's sources, with optional in-memory file contents. */
export function createSourceProgram(
  roots: readonly string[],
  overlay: ReadonlyMap<string, string> = new Map(),
  oldProgram?: ts.Program,
): ts.Program {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(PACKAGE_ROOT, 'tsconfig.json'), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (!config) throw new Error('cannot read tsconfig.json');
  const options = { ...config.options, noEmit: true };
  const host = ts.createCompilerHost(options, true);
  const absolute = new Map([...overlay].map(([file, text]) => [path.resolve(PACKAGE_ROOT, file), text]));
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const text = absolute.get(path.resolve(fileName));
    if (text !== undefined) return ts.createSourceFile(fileName, text, languageVersion, true);
    return getSourceFile(fileName, languageVersion, onError, shouldCreate);
  };
  // Only the libraries whose declarations the scan looks at are resolved; every other import is
  // left unresolved (typed any), which spares the checker the Azure SDK's and zod's declarations.
  host.resolveModuleNameLiterals = (literals, containingFile, _redirect, compilerOptions) =>
    literals.map((literal) => {
      const name = literal.text;
      const followed =
        name.startsWith('.') || SCANNED_LIBRARIES.some((lib) => name === lib || name.startsWith(`${lib}/`));
      return followed
        ? ts.resolveModuleName(name, containingFile, compilerOptions, host)
        : { resolvedModule: undefined };
    });
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (fileName) => absolute.has(path.resolve(fileName)) || fileExists(fileName);
  const readFile = host.readFile.bind(host);
  host.readFile = (fileName) => absolute.get(path.resolve(fileName)) ?? readFile(fileName);
  return ts.createProgram({
    rootNames: roots.map((r) => path.resolve(PACKAGE_ROOT, r)),
    options,
    host,
    ...(oldProgram ? { oldProgram } : {}),
  });
}

/**
 * The package's own files reachable from `roots` through the imports that survive compilation —
 * static and literal dynamic ones, not `import type` — which is what esbuild bundles and what
 * `node` loads from `dist/` for those entry points; package-relative.
 */
export function importClosure(program: ts.Program, roots: readonly string[]): string[] {
  const seen = new Set<string>();
  const queue = roots.map((r) => path.resolve(PACKAGE_ROOT, r));
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = program.getSourceFile(file);
    if (!source) throw new Error(`${file} is not part of the program`);
    for (const specifier of runtimeImports(source)) {
      const resolved = ts.resolveModuleName(
        specifier,
        file,
        program.getCompilerOptions(),
        ts.sys,
      ).resolvedModule;
      if (resolved && !resolved.isExternalLibraryImport && !resolved.resolvedFileName.endsWith('.d.ts'))
        queue.push(resolved.resolvedFileName);
    }
  }
  return [...seen].map((f) => path.relative(PACKAGE_ROOT, f)).sort();
}

function runtimeImports(source: ts.SourceFile): string[] {
  const specifiers: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      if (!node.importClause?.isTypeOnly) specifiers.push(node.moduleSpecifier.text);
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      if (!node.isTypeOnly) specifiers.push(node.moduleSpecifier.text);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      specifiers.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specifiers;
}

class NeedCallSites {
  constructor(readonly fn: ts.SignatureDeclaration) {}
}

class Unresolved extends Error {
  constructor(
    readonly node: ts.Node,
    why: string,
  ) {
    super(why);
  }
}

/** A parameter bound to what one call site passes (undefined: the argument is omitted). */
type Bindings = ReadonlyMap<ts.ParameterDeclaration, ts.Expression | undefined>;

/** How a read names its variable: an expression, or a helper's parameter. */
type KeySource = ts.Expression | ts.ParameterDeclaration;

interface ReadSite {
  node: ts.Node;
  /** The environment object read (checked per call site when it is a helper's parameter). */
  env: KeySource;
  /** The name read; a plain string when the syntax names it. */
  key: KeySource | string;
}

const MAX_CALL_DEPTH = 8;

/** Scan `files` (package-relative, all in `program`) for environment variables they read. */
export function scanEnvReads(
  program: ts.Program,
  files: readonly string[],
  opaqueHelpers: readonly OpaqueEnvHelper[] = [],
): EnvScan {
  const checker = program.getTypeChecker();
  const sources = files.map((f) => {
    const source = program.getSourceFile(path.resolve(PACKAGE_ROOT, f));
    if (!source) throw new Error(`${f} is not part of the program`);
    return source;
  });
  const inScope = new Set(sources);
  const reads: EnvRead[] = [];
  const unresolved: UnresolvedRead[] = [];
  const where = (node: ts.Node) => {
    const source = node.getSourceFile();
    const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
    return `${path.relative(PACKAGE_ROOT, source.fileName)}:${line + 1}`;
  };

  // --- symbols, declarations and call sites --------------------------------------------------

  const symbolOf = (node: ts.Node): ts.Symbol | undefined => {
    let symbol = checker.getSymbolAtLocation(node);
    if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    return symbol;
  };
  /** The function a callee expression names, when it is one of ours. */
  const calledFunction = (callee: ts.Expression): ts.SignatureDeclaration | undefined => {
    const target = ts.isPropertyAccessExpression(callee) ? callee.name : callee;
    const decl = symbolOf(target)?.valueDeclaration;
    if (!decl) return undefined;
    if (ts.isFunctionLike(decl)) return decl;
    if (ts.isVariableDeclaration(decl) && decl.initializer) {
      const init = skipOuter(decl.initializer);
      if (ts.isArrowFunction(init) || ts.isFunctionExpression(init)) return init;
    }
    return undefined;
  };
  const callSites = new Map<ts.SignatureDeclaration, ts.CallLikeExpression[]>();
  const valueUses = new Map<ts.SignatureDeclaration, ts.Node[]>();
  const indexCalls = (node: ts.Node): void => {
    if ((ts.isCallExpression(node) || ts.isNewExpression(node)) && node.arguments !== undefined) {
      const fn = calledFunction(node.expression);
      if (fn) callSites.set(fn, [...(callSites.get(fn) ?? []), node]);
    }
    ts.forEachChild(node, indexCalls);
  };
  for (const source of sources) indexCalls(source);

  /** The function declaring `param`, whose call sites bind it. */
  const ownerOf = (param: ts.ParameterDeclaration): ts.SignatureDeclaration => param.parent;
  /** Every use of a helper other than calling it (passing it as a callback would hide its call sites). */
  const usesAsValue = (fn: ts.SignatureDeclaration): ts.Node[] => {
    const cached = valueUses.get(fn);
    if (cached) return cached;
    const nameNode =
      ts.isFunctionDeclaration(fn) || ts.isMethodDeclaration(fn)
        ? fn.name
        : ts.isVariableDeclaration(fn.parent)
          ? fn.parent.name
          : undefined;
    const uses: ts.Node[] = [];
    const symbol = nameNode ? symbolOf(nameNode) : undefined;
    const visit = (node: ts.Node): void => {
      if (
        ts.isIdentifier(node) &&
        symbol &&
        node !== nameNode &&
        node.text === symbol.name &&
        symbolOf(node) === symbol
      ) {
        const parent = node.parent;
        const callee =
          (ts.isCallExpression(parent) && parent.expression === node) ||
          (ts.isPropertyAccessExpression(parent) &&
            parent.name === node &&
            ts.isCallExpression(parent.parent) &&
            parent.parent.expression === parent);
        const exported = ts.isExportSpecifier(parent) || ts.isImportSpecifier(parent);
        if (!callee && !exported) uses.push(node);
      }
      ts.forEachChild(node, visit);
    };
    if (!nameNode)
      uses.push(fn); // an anonymous function: nobody can call it by name
    else for (const source of sources) visit(source);
    valueUses.set(fn, uses);
    return uses;
  };

  // --- what is the environment ----------------------------------------------------------------

  const isProcessEnvType = (type: ts.Type): boolean => {
    const t = checker.getNonNullableType(type);
    const parts = t.isUnion() ? t.types : [t];
    return parts.some((p) => p.getSymbol()?.name === 'ProcessEnv' || p.aliasSymbol?.name === 'ProcessEnv');
  };
  const isEnvTyped = (node: ts.Node): boolean => isProcessEnvType(checker.getTypeAtLocation(node));

  /**
   * Whether `source` is the process's environment under `bindings`: `process.env` itself, or what
   * a variable, a `??`/`||`/`?:` or a parameter carries from it. A parameter is followed to every
   * call site (NeedCallSites while unbound), so a helper typed `NodeJS.ProcessEnv` that is only
   * ever given something else (doctor hands the app settings it read from a file to the host.json
   * resolver) reads nothing from the environment. Anything else typed `ProcessEnv` counts.
   */
  const isEnv = (source: KeySource, bindings: Bindings): boolean => {
    if (ts.isParameter(source)) {
      if (!bindings.has(source)) throw new NeedCallSites(ownerOf(source));
      const arg = bindings.get(source) ?? source.initializer;
      return arg !== undefined && isEnv(arg, bindings);
    }
    const node = skipOuter(source);
    if (
      ts.isPropertyAccessExpression(node) &&
      node.name.text === 'env' &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'process'
    )
      return true;
    if (ts.isBinaryExpression(node)) {
      const op = node.operatorToken.kind;
      if (op === ts.SyntaxKind.QuestionQuestionToken || op === ts.SyntaxKind.BarBarToken)
        return isEnv(node.left, bindings) || isEnv(node.right, bindings);
    }
    if (ts.isConditionalExpression(node))
      return isEnv(node.whenTrue, bindings) || isEnv(node.whenFalse, bindings);
    if (ts.isIdentifier(node)) {
      const decl = symbolOf(node)?.valueDeclaration;
      if (decl && ts.isParameter(decl)) return isEnv(decl, bindings);
      if (decl && ts.isVariableDeclaration(decl) && ts.isIdentifier(decl.name))
        return decl.initializer !== undefined && isEnv(decl.initializer, bindings);
    }
    return isEnvTyped(node);
  };

  // --- what name is read ----------------------------------------------------------------------

  const literalsOfType = (node: ts.Node): string[] | undefined => {
    const type = checker.getTypeAtLocation(node);
    const parts = type.isUnion() ? type.types : [type];
    if (parts.length > 0 && parts.every((p) => p.isStringLiteral())) {
      return parts.map((p) => (p as ts.StringLiteralType).value);
    }
    return undefined;
  };
  const product = (parts: string[][]): string[] =>
    parts.reduce<string[]>((acc, options) => acc.flatMap((a) => options.map((o) => a + o)), ['']);

  const evalKey = (source: KeySource, bindings: Bindings): string[] => {
    if (ts.isParameter(source)) {
      if (!bindings.has(source)) {
        const literal = literalsOfType(source);
        if (literal) return literal;
        throw new NeedCallSites(ownerOf(source));
      }
      const arg = bindings.get(source);
      if (arg !== undefined) return evalKey(arg, bindings);
      if (source.initializer) return evalKey(source.initializer, bindings);
      throw new Unresolved(source, `parameter ${source.name.getText()} is omitted and has no default`);
    }
    const node = skipOuter(source);
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return [node.text];
    if (ts.isTemplateExpression(node)) {
      return product([
        [node.head.text],
        ...node.templateSpans.flatMap((span) => [evalKey(span.expression, bindings), [span.literal.text]]),
      ]);
    }
    if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken) {
      return product([evalKey(node.left, bindings), evalKey(node.right, bindings)]);
    }
    if (ts.isIdentifier(node)) {
      const decl = symbolOf(node)?.valueDeclaration;
      if (decl && ts.isParameter(decl)) return evalKey(decl, bindings);
      const literal = literalsOfType(node);
      if (literal) return literal;
      if (decl && ts.isVariableDeclaration(decl)) {
        const list = decl.parent;
        if (ts.isForOfStatement(list.parent)) return elementsOf(list.parent.expression, bindings);
        if (list.flags & ts.NodeFlags.Const && decl.initializer) return evalKey(decl.initializer, bindings);
      }
      throw new Unresolved(node, `cannot tell which name \`${node.text}\` holds`);
    }
    const literal = literalsOfType(node);
    if (literal) return literal;
    throw new Unresolved(node, `cannot tell which name \`${node.getText()}\` is`);
  };
  const elementsOf = (array: ts.Expression, bindings: Bindings): string[] => {
    const node = skipOuter(array);
    if (ts.isArrayLiteralExpression(node)) return node.elements.flatMap((e) => evalKey(e, bindings));
    const type = checker.getTypeAtLocation(node);
    const element = checker.getIndexTypeOfType(type, ts.IndexKind.Number);
    const parts = element ? (element.isUnion() ? element.types : [element]) : [];
    if (parts.length > 0 && parts.every((p) => p.isStringLiteral()))
      return parts.map((p) => (p as ts.StringLiteralType).value);
    throw new Unresolved(node, `cannot list the names in \`${node.getText()}\``);
  };

  /** The names one read site reads, over every call site of the helpers it sits in. */
  const evaluate = (site: ReadSite, bindings: Bindings, depth: number): string[] => {
    try {
      if (!isEnv(site.env, bindings)) return [];
      return typeof site.key === 'string' ? [site.key] : evalKey(site.key, bindings);
    } catch (error) {
      if (!(error instanceof NeedCallSites)) throw error;
      const fn = error.fn;
      if (depth >= MAX_CALL_DEPTH) throw new Unresolved(fn, 'helpers call each other too deeply to follow');
      const hidden = usesAsValue(fn);
      if (hidden.length > 0)
        throw new Unresolved(hidden[0]!, 'a helper that reads the environment by name is used as a value');
      const names: string[] = [];
      for (const call of callSites.get(fn) ?? []) {
        const args = (call as ts.CallExpression).arguments ?? [];
        const next = new Map(bindings);
        fn.parameters.forEach((p, i) => {
          if (p.dotDotDotToken) throw new Unresolved(p, 'a rest parameter names the variable');
          next.set(p, args[i]);
        });
        names.push(...evaluate(site, next, depth + 1));
      }
      return names;
    }
  };

  // --- read sites -----------------------------------------------------------------------------

  const sites: ReadSite[] = [];
  const fail = (node: ts.Node, why: string) => unresolved.push({ at: where(node), why });
  const isWriteTarget = (node: ts.Expression): boolean => {
    const parent = node.parent;
    if (ts.isDeleteExpression(parent)) return true;
    return (
      ts.isBinaryExpression(parent) &&
      parent.left === node &&
      parent.operatorToken.kind === ts.SyntaxKind.EqualsToken
    );
  };
  const inLibrary = (decl: ts.Node | undefined, pkg: string): boolean =>
    decl?.getSourceFile().fileName.includes(`${path.sep}node_modules${path.sep}${pkg}${path.sep}`) === true;
  const bindingReads = (pattern: ts.ObjectBindingPattern, env: KeySource) => {
    for (const element of pattern.elements) {
      if (element.dotDotDotToken) {
        fail(element, 'the rest of the environment is taken as an object');
        continue;
      }
      const prop = element.propertyName ?? element.name;
      if (ts.isIdentifier(prop) || ts.isStringLiteral(prop))
        sites.push({ node: element, env, key: prop.text });
      else if (ts.isComputedPropertyName(prop)) sites.push({ node: element, env, key: prop.expression });
      else fail(element, 'an unsupported destructuring of the environment');
    }
  };
  /** Host binding options: `connection` names a setting, `%NAME%` in any string resolves one. */
  const functionsBindingReads = (node: ts.Node, call: ts.Node) => {
    if (ts.isPropertyAssignment(node) && ts.isIdentifier(node.name) && node.name.text === 'connection') {
      sites.push({ node, env: call as ts.Expression, key: node.initializer });
    }
    if (
      ts.isStringLiteralLike(node) ||
      ts.isTemplateHead(node) ||
      ts.isTemplateMiddle(node) ||
      ts.isTemplateTail(node)
    ) {
      for (const m of node.text.matchAll(/%([A-Za-z_][\w:]*)%/g))
        sites.push({ node, env: call as ts.Expression, key: m[1]! });
    }
    if (ts.isTemplateExpression(node)) {
      try {
        for (const text of evalKey(node, new Map()))
          for (const m of text.matchAll(/%([A-Za-z_][\w:]*)%/g))
            sites.push({ node, env: call as ts.Expression, key: m[1]! });
      } catch {
        fail(node, 'a binding expression built at run time');
      }
      return;
    }
    ts.forEachChild(node, (child) => functionsBindingReads(child, call));
  };
  const hostReads = new Set<ts.Node>();

  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node) && isEnvTyped(node.expression) && !isWriteTarget(node)) {
      sites.push({ node, env: node.expression, key: node.name.text });
    } else if (ts.isElementAccessExpression(node) && isEnvTyped(node.expression) && !isWriteTarget(node)) {
      sites.push({ node, env: node.expression, key: node.argumentExpression });
    } else if (ts.isObjectBindingPattern(node)) {
      const parent = node.parent;
      if (ts.isVariableDeclaration(parent) && parent.initializer && isEnvTyped(parent.initializer))
        bindingReads(node, parent.initializer);
      else if (ts.isParameter(parent) && isEnvTyped(parent)) bindingReads(node, parent);
    } else if (
      ts.isBinaryExpression(node) &&
      node.operatorToken.kind === ts.SyntaxKind.InKeyword &&
      isEnvTyped(node.right)
    ) {
      sites.push({ node, env: node.right, key: node.left });
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const signature = checker.getResolvedSignature(node)?.declaration;
      // commander reads the environment variable an option names (`new Option(...).env('X')`).
      if (
        ts.isPropertyAccessExpression(callee) &&
        callee.name.text === 'env' &&
        inLibrary(signature, 'commander')
      ) {
        const arg = node.arguments[0];
        if (arg) {
          hostReads.add(node);
          sites.push({ node, env: node, key: arg });
        }
      }
      // The Functions host reads what a trigger's options name (`connection`, `%SETTING%`).
      if (inLibrary(signature, `@azure${path.sep}functions`)) {
        hostReads.add(node);
        for (const arg of node.arguments) functionsBindingReads(arg, node);
      }
      // The environment handed to our own code that does not type it as one: follow it or fail.
      const fn = calledFunction(callee);
      if (fn && inScope.has(fn.getSourceFile())) {
        node.arguments.forEach((arg, i) => {
          const param = fn.parameters[Math.min(i, fn.parameters.length - 1)];
          if (!param || !isEnvTyped(arg) || isEnvTyped(param)) return;
          const opaque = opaqueHelpers.find(
            (h) =>
              h.name === functionName(fn) &&
              path.resolve(PACKAGE_ROOT, h.file) === fn.getSourceFile().fileName,
          );
          if (opaque && opaque.envParam === i) return;
          fail(
            arg,
            `the environment is passed to ${functionName(fn) ?? 'a function'}, which does not take a NodeJS.ProcessEnv`,
          );
        });
      }
    } else if (
      ts.isVariableDeclaration(node) &&
      node.initializer &&
      node.type &&
      isEnvTyped(node.initializer) &&
      !isEnvTyped(node.type)
    ) {
      fail(node, 'the environment is stored under a type other than NodeJS.ProcessEnv');
    }
    ts.forEachChild(node, visit);
  };
  for (const source of sources) visit(source);

  // Opaque helpers: each becomes a read of its key parameter wherever a call passes the environment.
  for (const helper of opaqueHelpers) {
    const source = program.getSourceFile(path.resolve(PACKAGE_ROOT, helper.file));
    const fn = source && findFunction(source, helper.name);
    if (!fn) throw new Error(`opaque env helper ${helper.file}#${helper.name} does not exist`);
    const env = fn.parameters[helper.envParam];
    const key = fn.parameters[helper.keyParam];
    if (!env || !key) throw new Error(`opaque env helper ${helper.file}#${helper.name}: no such parameter`);
    sites.push({ node: fn, env, key });
  }

  for (const site of sites) {
    try {
      // Library readers (commander, the Functions host) read the real environment.
      const bindings: Bindings = new Map();
      const names = hostReads.has(site.env as ts.Node)
        ? typeof site.key === 'string'
          ? [site.key]
          : evalKey(site.key, bindings)
        : evaluate(site, bindings, 0);
      for (const name of new Set(names)) reads.push({ name, at: where(site.node) });
    } catch (error) {
      if (error instanceof Unresolved) fail(error.node, error.message);
      else throw error;
    }
  }
  return { reads, unresolved, names: new Set(reads.map((r) => r.name)) };
}

function skipOuter(node: ts.Expression): ts.Expression {
  let current = node;
  while (
    ts.isParenthesizedExpression(current) ||
    ts.isAsExpression(current) ||
    ts.isNonNullExpression(current) ||
    ts.isSatisfiesExpression(current)
  )
    current = current.expression;
  return current;
}

function functionName(fn: ts.SignatureDeclaration): string | undefined {
  if (fn.name && ts.isIdentifier(fn.name)) return fn.name.text;
  if (ts.isVariableDeclaration(fn.parent) && ts.isIdentifier(fn.parent.name)) return fn.parent.name.text;
  return undefined;
}

function findFunction(source: ts.SourceFile, name: string): ts.SignatureDeclaration | undefined {
  let found: ts.SignatureDeclaration | undefined;
  const visit = (node: ts.Node): void => {
    if (found) return;
    if (ts.isFunctionLike(node) && functionName(node) === name) found = node;
    else ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}
