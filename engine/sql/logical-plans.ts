/**
 * The logical plan each DataFrame action was taken on, for `explain()`: an action names only
 * its graph node, and explain prints the plan as the user wrote it. Kept in a leaf so the
 * DataFrame API does not import the explain code (which imports the job graph).
 */
import type { LogicalPlan } from './logical-plan.js';

const logicalPlans = new WeakMap<object, LogicalPlan>();

/** Remember the logical plan an action was taken on. */
export function rememberLogicalPlan(action: object, plan: LogicalPlan): void {
  logicalPlans.set(action, plan);
}

/** The logical plan an action was taken on, if it is a DataFrame action. */
export function logicalPlanOf(action: object): LogicalPlan | undefined {
  return logicalPlans.get(action);
}
