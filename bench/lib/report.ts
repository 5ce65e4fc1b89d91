/**
 * Bench reports: every benchmark prints a table and appends it to bench/RESULTS.md with the
 * machine, Node version, command and the load average at start, so a noisy run is visible
 * next to its figures. Ratios are always against a baseline measured in the same run.
 */
import { appendFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Where results accumulate (append only: the history is the point). */
export const RESULTS_FILE = path.resolve(import.meta.dirname, '../RESULTS.md');

/** One row of a bench table: a figure, its unit, and an optional note (target, baseline…). */
export interface Row {
  metric: string;
  value: string;
  note?: string;
}

/** What a bench returns: its rows and free-text notes (configuration, misses explained). */
export interface BenchReport {
  title: string;
  rows: Row[];
  notes?: string[];
}

/** The machine and process a run happens on, captured when the bench starts. */
export interface RunContext {
  startedAt: Date;
  machine: string;
  node: string;
  command: string;
  loadAtStart: number[];
}

/** Describe this machine and the command, and read the load average now. */
export function captureContext(): RunContext {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? 'unknown CPU';
  const memGiB = (os.totalmem() / 1024 ** 3).toFixed(1);
  return {
    startedAt: new Date(),
    machine: `${cpus.length} × ${model}, ${memGiB} GiB RAM, ${os.platform()} ${os.release()}`,
    node: process.version,
    command: `npm run bench --${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`,
    loadAtStart: os.loadavg(),
  };
}

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - text.length));
}

/** The report as a Markdown table, padded as the formatter (biome) writes it. */
export function formatTable(report: BenchReport): string {
  const header: Row = { metric: 'metric', value: 'value', note: 'note' };
  const rows = [header, ...report.rows];
  const w1 = Math.max(...rows.map((r) => r.metric.length));
  const w2 = Math.max(...rows.map((r) => r.value.length));
  const w3 = Math.max(...rows.map((r) => (r.note ?? '').length));
  const line = (r: Row) => `| ${pad(r.metric, w1)} | ${pad(r.value, w2)} | ${pad(r.note ?? '', w3)} |`;
  const rule = `| ${'-'.repeat(w1)} | ${'-'.repeat(w2)} | ${'-'.repeat(w3)} |`;
  return [line(header), rule, ...report.rows.map(line)].join('\n');
}

/** Print the report and append it, with its context, to RESULTS.md. */
export async function recordReport(context: RunContext, report: BenchReport): Promise<void> {
  const load = (values: number[]) => values.map((v) => v.toFixed(2)).join(' / ');
  // A blank line before each section and one newline after it: the file stays well-formed Markdown.
  const section = [
    '',
    `## ${report.title} — ${context.startedAt.toISOString().replace(/\.\d+Z$/, 'Z')}`,
    '',
    `- machine: ${context.machine}; Node ${context.node}`,
    `- command: \`${context.command}\``,
    `- load average (1/5/15 min) at start of the run: ${load(context.loadAtStart)}; at the end of this bench: ${load(os.loadavg())}`,
    '',
    formatTable(report),
    ...(report.notes && report.notes.length > 0 ? ['', ...report.notes.map((n) => `- ${n}`)] : []),
    '',
  ].join('\n');
  process.stdout.write(`\n${section}`);
  await appendFile(RESULTS_FILE, section);
}

/** Format milliseconds as seconds with two decimals. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

/** Format a ratio `a / b` as `1.23×`. */
export function ratio(a: number, b: number): string {
  return b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a';
}

/** Format bytes as MiB. */
export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

/** met / MISSED for a target check. */
export function verdict(ok: boolean): string {
  return ok ? 'target met' : 'target MISSED';
}
