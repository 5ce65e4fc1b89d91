/**
 * A driver script of several jobs: it runs the checkpointed rounds (one job per checkpoint and
 * one for the result) for `step`, 2 × `step`… up to `maxRounds` rounds, and returns each run's
 * report so a test can check its results, jobs and accumulators.
 */
import { defineDriverScript, type RunReport } from 'stratus/driver';
import rounds, { type CheckpointedRoundsParams } from './checkpointed-rounds.js';

export default defineDriverScript(
  async (driver, p: Omit<CheckpointedRoundsParams, 'rounds'> & { maxRounds: number; step: number }) => {
    const reports: RunReport<Record<string, number | number[]>>[] = [];
    for (let n = p.step; n <= p.maxRounds; n += p.step) {
      const report = await driver.runWithReport(rounds, {
        values: p.values,
        rounds: n,
        every: p.every,
        slices: p.slices,
      });
      reports.push(report as RunReport<Record<string, number | number[]>>);
    }
    return reports;
  },
);
