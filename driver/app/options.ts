/**
 * The options of `Driver.connect`: how the driver reaches executors, the task-set and result
 * limits its scheduler keeps, its sweep, poison watch and event log. Environment variables fill
 * what is not given (see docs/configuration.md).
 */
import type { TokenCredential } from '@azure/core-auth';
import type { RunListener } from '../observe/run-events.js';
import type { SpeculationOptions } from '../scheduler/task-set.js';

/** How shuffle blocks are compressed; see DriverOptions.shuffleCompression. */
export type ShuffleCompression = 'brotli' | 'none';

/** How `Driver.connect` reaches executors. Environment variables fill what is not given. */
export interface DriverOptions {
  /**
   * Start an embedded local fabric (Azurite + executor hosts), stopped by `close()`. The
   * default when no connection string is configured. `STRATUS_EXECUTORS`/`STRATUS_SLOTS`.
   */
  local?: boolean | { executors?: number; slots?: number; hostEnv?: Record<string, string> };
  /** Join a running fabric (`stratus local` prints it) or an account; `STRATUS_CONNECTION`. */
  connectionString?: string;
  /**
   * A deployment's storage account, reached with your Microsoft Entra identity
   * (DefaultAzureCredential: `az login`, managed identity…); `STRATUS_ACCOUNT`. See docs/deploy.md.
   */
  account?: string;
  /** Credential for `account`; default DefaultAzureCredential. */
  credential?: TokenCredential;
  /** Task queue executors are triggered by; `STRATUS_TASK_QUEUE`, default `stratus-tasks`. */
  taskQueue?: string;
  /** Default parallelism when joining a fabric (executors × slots); `STRATUS_TOTAL_SLOTS`. */
  totalSlots?: number;
  /** Per-task memory budget before spilling (bytes); `STRATUS_TASK_MEMORY_MB`, default 256 MiB. */
  memoryBudgetBytes?: number;
  /** Failures of one partition that fail the job (Spark's spark.task.maxFailures); default 4. */
  maxFailures?: number;
  /** Silence after which a running task is presumed lost and relaunched (ms); default 20 s. */
  heartbeatTimeoutMs?: number;
  /** Target size of an input partition cut from local files (bytes); default 32 MiB. */
  splitBytes?: number;
  /**
   * Size of the blocks local input partitions are streamed to storage in (bytes); default 8 MiB.
   * The driver holds about three per upload (four at once), whatever the size of a file.
   */
  uploadBlockBytes?: number;
  /**
   * Compression of shuffle segments, spill runs and cached partitions (Spark's
   * spark.shuffle.compress): `brotli` (quality 1) or `none`. Default: `brotli` against an Azure
   * storage account, where a slot's share of the account's bandwidth is the bound, and `none`
   * against Azurite on loopback, where CPU is (docs/decisions.md has both measurements).
   */
  shuffleCompression?: ShuffleCompression;
  /** Total result bytes accepted from one job (Spark's spark.driver.maxResultSize); default 1 GiB. */
  maxResultBytes?: number;
  /** Speculative execution of stragglers (Spark's spark.speculation.*); on by default. */
  speculation?: Partial<SpeculationOptions>;
  /** Sign task messages with this HMAC key (`STRATUS_SIGNING_KEY`); executors with the same key refuse unsigned ones. */
  signingKey?: string;
  /**
   * The sweep of crashed applications' leftovers (events queues, `apps/<appId>/` blobs) run in the
   * background at connect, bounded to a few requests (driver/control/sweeper.ts): `false` turns it
   * off; `graceMs` is how long after its lease expired an application is swept (default 1 h,
   * `STRATUS_SWEEP_GRACE_MINUTES`). Not run on an embedded local fabric, whose account is new.
   */
  sweep?: boolean | { graceMs?: number };
  /** How often the poison queue is checked for this application's tasks (ms); default 2000. */
  poisonCheckMs?: number;
  /**
   * The event log: JSON lines in `stratus-logs/<appId>.jsonl` (default on; `stratus ui` reads
   * it), and a local copy — `localFile`, or `<localDir>/<appId>.jsonl`. An embedded local
   * fabric's storage is deleted when it stops, so its runs keep a local copy by default in
   * `STRATUS_EVENT_LOG_DIR`, else `.stratus/event-logs` (under the working directory), where
   * `stratus ui` looks by default; `localDir: false` turns that off. Other modes keep a local
   * copy only when asked (`localFile`, `localDir` or STRATUS_EVENT_LOG_DIR). `false` turns the
   * event log off.
   */
  eventLog?: boolean | { localFile?: string; localDir?: string | false };
  /** Listeners of run events (progress, event log…). */
  listeners?: RunListener[];
  /** Name of the application in logs and the UI. */
  name?: string;
  /** Where the driver's own status lines go (default: stderr). */
  log?: (line: string) => void;
}
