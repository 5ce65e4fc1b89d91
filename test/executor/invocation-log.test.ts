/**
 * The executor logs through the invocation's context (InvocationContext.warn…, which the worker
 * sends to the host tied to the invocation — Application Insights on Azure), not raw stderr; each
 * line names the executor and the task (job, stage, partition, attempt, delivery), and the local
 * host prints it on stderr too.
 */
import { describe, expect, it } from 'vitest';
import { eventsQueueName } from '../../contract/names.js';
import { encodeTaskMessage } from '../../contract/protocol.js';
import { uniqueQueueName, useHostFleet, waitFor } from './harness.js';

const env = useHostFleet();

describe('executor diagnostics', () => {
  it("a task's log line reaches its invocation's log, naming the task; an ended application is information, not a warning", async () => {
    const c = await env.channels.open('logs');
    const host = env.fleet.start({ queue: c.name, slots: 1, executorId: 'logger' });
    await host.ready();
    // An application whose events queue is gone: the task runs, but its events cannot be sent.
    const appId = uniqueQueueName('gone');
    await c.tasks.send(
      encodeTaskMessage({
        v: 1,
        type: 'task',
        appId,
        jobId: 2,
        stageId: 5,
        partition: 7,
        attempt: 1,
        eventsQueue: eventsQueueName(appId),
        sentAt: Date.now(),
        work: { kind: 'noop' },
      }),
    );
    const line = await waitFor('the task-started line in the invocation log', () =>
      host.linesOf('log').find((l) => l.category === 'user' && l.message.includes('task-started')),
    );
    const [start] = host.linesOf('invocation-start');
    expect(line.messageId).toBe(start?.messageId);
    // Its events queue is gone because its application ended: the normal end, as the outcome's
    // "dropped after it ran" line says, so not a warning on Application Insights.
    expect(line.level).toBe('information');
    expect(line.message).toMatch(
      new RegExp(
        `^stratus executor logger task j2-s5-p7-a1 \\(app ${appId} job 2 stage 5 partition 7 attempt 1 delivery 1\\): task-started not sent: events queue ${eventsQueueName(appId)} does not exist: its application has ended$`,
      ),
    );
    await waitFor('the outcome line', () => host.stderr.includes('dropped after it ran'));
    expect(host.linesOf('log').filter((l) => l.level === 'warning')).toEqual([]);
    // …and the local host shows it on stderr, as Core Tools prints an invocation's log.
    expect(host.stderr).toContain(line.message);
  });
});
