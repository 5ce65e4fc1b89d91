/** Records a driver's run events for the benches (stage gaps, task metrics). */
import type { RunEvent, RunListener } from '../../driver/observe/run-events.js';

/** Keeps every run event in order. */
export class EventRecorder implements RunListener {
  readonly events: RunEvent[] = [];
  onEvent(event: RunEvent): void {
    this.events.push(event);
  }
  /** Events of one type, typed. */
  of<T extends RunEvent['type']>(type: T): Extract<RunEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);
  }
}

/** One line per stage: name, tasks, wall time and summed task time, from the recorded events. */
export function stageLines(recorder: EventRecorder): string[] {
  const completed = new Map(recorder.of('stage-completed').map((e) => [e.stageId, e.at]));
  return recorder.of('stage-submitted').map((s) => {
    const tasks = recorder.of('task-end').filter((t) => t.stageId === s.stageId && t.status === 'succeeded');
    const taskMs = tasks.reduce((n, t) => n + (t.metrics?.durationMs ?? 0), 0);
    const wall = (completed.get(s.stageId) ?? s.at) - s.at;
    const longest = Math.max(0, ...tasks.map((t) => t.metrics?.durationMs ?? 0));
    return `stage ${s.stageId} (job ${s.jobId}, ${s.name}): ${s.numTasks} tasks, wall ${(wall / 1000).toFixed(2)} s, task time summed ${(taskMs / 1000).toFixed(2)} s, longest ${(longest / 1000).toFixed(2)} s`;
  });
}
