/**
 * Where the executor's diagnostics go. On Azure a line only reaches Application Insights tied to
 * its invocation when it is written through the invocation context (`context.log/warn/error` of
 * @azure/functions v4's InvocationContext, "the recommended way to log … has integration with
 * Azure features like application insights"); `console` output goes to the worker's stdout with
 * no invocation attached (seen in the real worker, shared/fidelity/README.md). So every line about
 * a task goes to the invocation's log, carrying the task's ids in its text: the v4 log methods
 * take only a message (they `util.format` their arguments), no custom properties. Lines with no
 * invocation (an instance-wide lease check) go to stderr. Every line is redacted here, the sink
 * side of the one redaction point (contract/redaction.ts): on Azure the host ships the text as is.
 */
import { redactSecrets } from '../contract/redaction.js';

/** The part of an InvocationContext the executor logs through (the context itself satisfies it). */
export interface LogSink {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Writes each line to stderr: for code that runs outside any invocation, and direct callers in tests. */
export const stderrSink: LogSink = {
  info: (message) => process.stderr.write(`${message}\n`),
  warn: (message) => process.stderr.write(`${message}\n`),
  error: (message) => process.stderr.write(`${message}\n`),
};

/** The ids one task attempt's lines carry (Spark's "task 3.0 in stage 1.0" of the executor log). */
export interface TaskLogIds {
  /** The driver application: one executor app serves many. */
  appId: string;
  jobId: number;
  stageId: number;
  partition: number;
  attempt: number;
  /** The queue message's delivery count: a retry of the same attempt is a new delivery. */
  dequeueCount: number;
}

/** The executor's log for one invocation: a prefix naming executor and task, a sink, redaction. */
export class ExecutorLog {
  constructor(
    private readonly sink: LogSink,
    private readonly prefix: string,
  ) {}

  /** The log of an invocation of executor `executorId`, before its task is known. */
  static forExecutor(executorId: string, sink: LogSink = stderrSink): ExecutorLog {
    return new ExecutorLog(sink, `stratus executor ${executorId}`);
  }

  /** The same sink, every line naming the task attempt (`j0-s1-p3-a0`) and its ids. */
  forTask(attemptId: string, ids: TaskLogIds): ExecutorLog {
    const { appId, jobId, stageId, partition, attempt, dequeueCount } = ids;
    return new ExecutorLog(
      this.sink,
      `${this.prefix} task ${attemptId} (app ${appId} job ${jobId} stage ${stageId} partition ${partition} attempt ${attempt} delivery ${dequeueCount})`,
    );
  }

  /** An informational line (a task dropped or stopped on purpose). */
  info(message: string): void {
    this.sink.info(this.line(message));
  }

  /** Something went wrong that the executor worked around (an event it could not send). */
  warn(message: string): void {
    this.sink.warn(this.line(message));
  }

  /** Something the operator must look at (a message refused for its signature). */
  error(message: string): void {
    this.sink.error(this.line(message));
  }

  private line(message: string): string {
    return redactSecrets(`${this.prefix}: ${message}`);
  }
}
