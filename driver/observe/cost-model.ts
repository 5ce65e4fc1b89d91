/**
 * The cost estimate of the run summary: what a run would bill on Azure Functions Flex
 * Consumption, from each executor's active time and the number of task attempts.
 */
/**
 * Azure Functions Flex Consumption, on-demand billing: instance memory × the time an instance
 * is actively executing (GB-s), plus executions. Defaults: East US pay-as-you-go list prices,
 * $0.000026 per GB-s and $0.40 per million executions (Azure Functions pricing page, as of
 * May 2025), with the plan's default 2048 MB instances. Monthly free grants are not deducted.
 */
export interface CostRates {
  usdPerGbSecond: number;
  usdPerMillionExecutions: number;
  instanceMemoryMb: number;
}

/** The documented defaults (see CostRates). */
export const DEFAULT_COST_RATES: Readonly<CostRates> = {
  usdPerGbSecond: 0.000026,
  usdPerMillionExecutions: 0.4,
  instanceMemoryMb: 2048,
};

function envRate(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`${name} must be a non-negative number, got ${raw}`);
  return value;
}

/**
 * Rates from options, then `STRATUS_COST_USD_PER_GB_SECOND`, `STRATUS_COST_USD_PER_MILLION_EXECUTIONS`
 * and `STRATUS_INSTANCE_MEMORY_MB` (a deployment output), then DEFAULT_COST_RATES. (A summary
 * builder prefers the instance memory the application's app-start recorded to the environment.)
 */
export function resolveCostRates(options: Partial<CostRates> = {}): CostRates {
  return {
    usdPerGbSecond:
      options.usdPerGbSecond ??
      envRate('STRATUS_COST_USD_PER_GB_SECOND') ??
      DEFAULT_COST_RATES.usdPerGbSecond,
    usdPerMillionExecutions:
      options.usdPerMillionExecutions ??
      envRate('STRATUS_COST_USD_PER_MILLION_EXECUTIONS') ??
      DEFAULT_COST_RATES.usdPerMillionExecutions,
    instanceMemoryMb:
      options.instanceMemoryMb ??
      envRate('STRATUS_INSTANCE_MEMORY_MB') ??
      DEFAULT_COST_RATES.instanceMemoryMb,
  };
}

/** An estimated bill for one run. */
export interface CostEstimate {
  rates: CostRates;
  /** Instance-seconds with at least one execution running, summed over executors. */
  activeInstanceSeconds: number;
  gbSeconds: number;
  executions: number;
  totalUsd: number;
}

/** Estimate the Flex Consumption bill of `activeInstanceSeconds` of executor time and `executions` task attempts. */
export function estimateFlexCost(
  activeInstanceSeconds: number,
  executions: number,
  rates: CostRates,
): CostEstimate {
  const gbSeconds = activeInstanceSeconds * (rates.instanceMemoryMb / 1024);
  return {
    rates,
    activeInstanceSeconds,
    gbSeconds,
    executions,
    totalUsd: gbSeconds * rates.usdPerGbSecond + (executions / 1e6) * rates.usdPerMillionExecutions,
  };
}
