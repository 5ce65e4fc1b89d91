/** Records a driver's run events for the benches (stage gaps, task metrics). */
import { RecordingListener } from '../../driver/testing/recording-listener.js';

/** Keeps every run event in order (the tests' recording listener). */
export { RecordingListener as EventRecorder };

/** One line per stage: name, tasks, wall time and summed task time, from the recorded events. */
export function stageLines(recorder: RecordingListener): string[] {
  const completed = new Map(recorder.of('stage-completed').map((e) => [e.stageId, e.at]));
  return recorder.of('stage-submitted').map((s) => {
    const tasks = recorder.of('task-end').filter((t) => t.stageId === s.stageId && t.status === 'succeeded');
    const taskMs = tasks.reduce((n, t) => n + (t.metrics?.durationMs ?? 0), 0);
    const wall = (completed.get(s.stageId) ?? s.at) - s.at;
    const longest = Math.max(0, ...tasks.map((t) => t.metrics?.durationMs ?? 0));
    return `stage ${s.stageId} (job ${s.jobId}, ${s.name}): ${s.numTasks} tasks, wall ${(wall / 1000).toFixed(2)} s, task time summed ${(taskMs / 1000).toFixed(2)} s, longest ${(longest / 1000).toFixed(2)} s`;
  });
}
