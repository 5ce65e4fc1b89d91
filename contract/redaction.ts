/**
 * Secret redaction: the one place that decides what of a text may be printed or persisted.
 * Every path that writes text a user or operator reads — driver and executor log lines, errors
 * thrown to callers, run events (the event log, its local copy, progress, the summary), the
 * events executors send, task-thread output, the UI's answers, `stratus doctor` — passes it
 * through `redactSecrets` (or `redactDeep` / `redactError` for structured values).
 *
 * Two rules, both applied: secrets by shape (`AccountKey=…`, `SharedAccessSignature=…`, a SAS
 * `sig=` parameter, `STRATUS_SIGNING_KEY=…`), and secrets by value — the account keys, SAS
 * tokens and signing keys this process was given (connection strings it connected with, the
 * signing key, and the variables that carry them: STRATUS_CONNECTION, STRATUS_SIGNING_KEY,
 * AzureWebJobsStorage, AZURE_STORAGE_CONNECTION_STRING), wherever they appear, since a user's
 * error message can quote a key without its `AccountKey=` label.
 */

/** Shapes of secrets in text. A value ends at a separator, whitespace, a quote or a backslash (JSON). */
const SECRET_PATTERNS: RegExp[] = [
  /(AccountKey=)[^;\s"'\\<>]+/gi,
  /(SharedAccessSignature=)[^;\s"'\\<>]+/gi,
  /(\bsig=)[^&;\s"'\\<>]+/gi,
  /(STRATUS_SIGNING_KEY=)[^\s"'\\]+/g,
];

/** Environment variables whose values are secrets (`value`) or contain them (`connection`: a connection string). */
// `as const`: the names are literal types, so the static env checks (test/infra) can see them.
const SECRET_VARIABLES = [
  ['STRATUS_SIGNING_KEY', 'value'],
  ['STRATUS_CONNECTION', 'connection'],
  ['AzureWebJobsStorage', 'connection'],
  ['AZURE_STORAGE_CONNECTION_STRING', 'connection'],
] as const;

/** Shorter values are not treated as secrets by value (they would match ordinary text). */
const MIN_SECRET_LENGTH = 8;

const REDACTED = '***';

/** Secret values registered explicitly, in the forms they take in URLs and JSON. */
const registered = new Set<string>();
/** The secrets to look for, longest first, and the state they were computed for. */
let cache: { key: string; secrets: string[] } | undefined;

/** The forms a secret takes in text: as is, percent-encoded (URLs), JSON-escaped. */
function formsOf(secret: string): string[] {
  return [...new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)])];
}

/** The secret values inside a connection string: its account key, or its SAS token and signature. */
function secretsIn(value: string): string[] {
  const found: string[] = [];
  for (const part of value.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    const v = part.slice(eq + 1).trim();
    if (name === 'accountkey' || name === 'sharedaccesssignature') found.push(v);
    if (name === 'sharedaccesssignature') {
      const sig = /(?:^|&)sig=([^&]+)/.exec(v)?.[1];
      if (sig) found.push(sig, decodeURIComponentSafe(sig));
    }
  }
  return found.filter((s) => s.length >= MIN_SECRET_LENGTH);
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Remember a secret value (an account key, a SAS token, a signing key) so every redaction in
 * this process removes it wherever it appears. Values shorter than 8 characters are ignored.
 */
export function registerSecret(value: string | undefined): void {
  if (value === undefined || value.length < MIN_SECRET_LENGTH) return;
  for (const form of formsOf(value)) registered.add(form);
  cache = undefined;
}

/** Remember the secrets of a connection string (its account key or SAS token). */
export function registerConnectionString(connectionString: string): void {
  for (const secret of secretsIn(connectionString)) registerSecret(secret);
}

/** Every secret value known now, longest first: registered ones and those of the secret-carrying variables. */
function knownSecrets(): readonly string[] {
  const values = SECRET_VARIABLES.map(([name]) => process.env[name] ?? '');
  const key = values.join('\u0000');
  if (cache?.key === key) return cache.secrets;
  const all = new Set(registered);
  SECRET_VARIABLES.forEach(([, kind], i) => {
    const value = values[i]!;
    if (value.length < MIN_SECRET_LENGTH) return;
    for (const secret of kind === 'value' ? [value] : secretsIn(value))
      for (const f of formsOf(secret)) all.add(f);
  });
  // Longest first, so a secret containing another is removed whole.
  cache = { key, secrets: [...all].sort((a, b) => b.length - a.length) };
  return cache.secrets;
}

/** `text` with every secret replaced by `***`: account keys, SAS signatures, signing keys. */
export function redactSecrets(text: string): string {
  let out = text;
  // Every shape has an '=': most text (ids, numbers, plain messages) skips the expressions.
  if (out.includes('=')) for (const pattern of SECRET_PATTERNS) out = out.replace(pattern, `$1${REDACTED}`);
  for (const secret of knownSecrets()) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}

/**
 * A JSON-like value (a run event, an executor event, a UI answer) with every string in it —
 * object keys included — redacted; returns `value` itself when nothing changed, copies only what did.
 */
export function redactDeep<T>(value: T): T {
  return redactValue(value, 0) as T;
}

function redactValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (value === null || typeof value !== 'object' || depth > 32) return value;
  if (Array.isArray(value)) {
    const items = value.map((item) => redactValue(item, depth + 1));
    return items.some((r, i) => r !== value[i]) ? items : value;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null)
    return value;
  // Keys too: accumulator names quote input URLs (`badRecords:<uri>`).
  let changed = false;
  const entries = Object.entries(value).map(([k, item]) => {
    const rk = redactSecrets(k);
    const r = redactValue(item, depth + 1);
    if (rk !== k || r !== item) changed = true;
    return [rk, r] as const;
  });
  return changed ? Object.fromEntries(entries) : value;
}

/**
 * Redact an error in place before it reaches a caller or a log: its message, stack, string
 * context values (a StratusError's `context`, the user's stack included) and its causes.
 * Returns the same value; non-errors pass through.
 */
export function redactError<T>(error: T, seen = new Set<unknown>()): T {
  if (!(error instanceof Error) || seen.has(error)) return error;
  seen.add(error);
  const e = error as Error & { context?: Record<string, unknown>; cause?: unknown; errors?: unknown };
  e.message = redactSecrets(e.message);
  if (e.stack !== undefined) e.stack = redactSecrets(e.stack);
  if (e.context && typeof e.context === 'object') {
    for (const [k, v] of Object.entries(e.context))
      if (typeof v === 'string') e.context[k] = redactSecrets(v);
  }
  if (e.cause !== undefined) {
    if (e.cause instanceof Error) redactError(e.cause, seen);
    else e.cause = redactDeep(e.cause);
  }
  if (Array.isArray(e.errors)) for (const inner of e.errors) redactError(inner, seen);
  return error;
}

/** `process.emitWarning` of a redacted message: the driver's warnings about failed background work. */
export function warnRedacted(message: string): void {
  process.emitWarning(redactSecrets(message));
}
