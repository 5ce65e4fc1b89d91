/** Text helpers shared by input splitting (driver) and input reading (executors). */

/**
 * Split text into lines as Spark's textFile does: '\n' ends a line and a '\r' before it is
 * dropped; a final line without a newline still counts; empty text has no lines.
 */
export function splitLines(text: string): string[] {
  if (text.length === 0) return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
}
