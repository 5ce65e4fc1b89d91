/**
 * The state of one `driver.run` as its jobs progress: the graph and bundle, the inputs, the
 * shuffles written and the partitions persisted or checkpointed so far (reused by later jobs of
 * the same run), the datasets unpersisted, the sort bounds found by sampling jobs and the
 * results of other hidden jobs.
 */
import type { JobGraph } from '../../engine/plan/graph.js';
import type { InputSplit } from '../../engine/plan/stage-descriptor.js';
import type { Key } from '../../engine/records/keys.js';
import type { SavedPart } from '../data/output-committer.js';
import { MapOutputTracker, type PublishedTable } from './map-output-tracker.js';
import type { BlobPort } from './ports.js';

/** A blob the driver wrote for the run's tasks, with the sha256 of its bytes (stage descriptors pin it). */
export interface PinnedBlob {
  blob: string;
  sha256: string;
}

/** One `driver.run`: the graph, its bundle, its inputs, and what its jobs have computed so far. */
export interface RunState {
  /** `<appId>/run-<n>`: names this run's shuffle and cache blobs (ids restart in every run's graph). */
  scope: string;
  /** Which `driver.run` of the application this is (0-based). */
  runIndex: number;
  /** File name of the job module it runs. */
  module: string;
  graph: JobGraph;
  codeHash: string;
  params: unknown;
  defaultParallelism: number;
  /** File source node id → input partition → splits. */
  inputs: Map<number, InputSplit[][]>;
  sourcePartitions: Map<number, number>;
  tracker: MapOutputTracker;
  /** Shuffle id → map-output table blob and hash, for shuffles complete in this run. */
  shuffleTables: Map<number, PublishedTable>;
  /** Broadcast id → blob (and hash) of the driver's encoded value (uploaded once, before the run's first job). */
  broadcasts: ReadonlyMap<number, PinnedBlob>;
  /** Node id → partition → blob, of nodes persisted at 'blob' and of checkpointed nodes. */
  cached: Map<number, (string | undefined)[]>;
  /** Nodes every partition of which is in `cached`: later jobs read them (planJob's cachedNodes). */
  cachedNodes: Set<number>;
  /** Nodes persisted at 'memory' / 'disk' that a stage computed (executors may hold copies). */
  locallyPersisted: Set<number>;
  /** Nodes `unpersist` released (planJob's `released`). */
  released: Set<number>;
  rangeBounds: Map<number, Key[]>;
  /** Merged results of the hidden jobs run so far (engine/dataset/hidden-jobs.ts), by hidden job id. */
  hiddenResults: Map<number, unknown>;
  /** Where save actions' attempts write part files, per job. */
  savePrefix: (jobId: number) => string;
}

/** What a job produced: merged result plus, for save actions, the winning part files. */
export interface JobOutcome {
  jobId: number;
  result: unknown;
  /** Save actions: partition → the winning execution's part file (blob or staged blocks). */
  savedParts?: SavedPart[];
}

/** Create the per-run state for a graph. */
export function newRunState(
  env: { blobs: BlobPort },
  init: Pick<
    RunState,
    | 'scope'
    | 'runIndex'
    | 'module'
    | 'graph'
    | 'codeHash'
    | 'params'
    | 'defaultParallelism'
    | 'inputs'
    | 'sourcePartitions'
    | 'broadcasts'
  >,
): RunState {
  return {
    ...init,
    tracker: new MapOutputTracker(init.scope, env.blobs),
    shuffleTables: new Map(),
    cached: new Map(),
    cachedNodes: new Set(),
    locallyPersisted: new Set(),
    released: new Set(),
    rangeBounds: new Map(),
    hiddenResults: new Map(),
    savePrefix: (jobId) => `apps/${init.scope}/output-attempts/job-${jobId}/`,
  };
}
