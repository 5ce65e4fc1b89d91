/** Saves numbers as text and as JSON lines. */
import { defineJob } from 'stratus';

export default defineJob((ctx, p: { n: number; text: string; json: string }) => {
  const data = ctx.parallelize(
    Array.from({ length: p.n }, (_, i) => ({ i, square: i * i })),
    4,
  );
  return {
    text: data.map((r) => `${r.i}\t${r.square}`).saveAsTextFile(p.text),
    json: data.saveAsJsonLines(p.json),
  };
});
