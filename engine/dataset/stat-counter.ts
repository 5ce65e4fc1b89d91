/**
 * StatCounter: the count, mean, variance, max and min of numbers, as Spark's
 * org.apache.spark.util.StatCounter that `stats()` returns. A counter takes values one at a time
 * (Welford's update) and merges with another counter by the parallel formula of Chan, Golub and
 * LeVeque, so stats() keeps one counter per partition and the driver merges them in partition
 * order without ever holding the values, and without the cancellation of sum-of-squares.
 *
 * An empty counter has count 0 and sum 0, and NaN as its mean, variance, max and min, as Spark
 * (2.3 and later) answers for an empty dataset.
 */

/** A counter's state as a task sends it to the driver (JSON: no NaN or infinities). */
export interface StatPartial {
  n: number;
  mean: number;
  /** Sum of squared deviations from the mean. */
  m2: number;
  max: number | null;
  min: number | null;
}

/** What a StatCounter prints as (JSON.stringify): every statistic, NaN as null. */
export interface StatSummary {
  /** How many values. */
  count: number;
  /** Their mean. */
  mean: number;
  /** Their sum. */
  sum: number;
  /** Population standard deviation. */
  stdev: number;
  /** Sample standard deviation. */
  sampleStdev: number;
  /** Population variance. */
  variance: number;
  /** Sample variance. */
  sampleVariance: number;
  /** The largest value. */
  max: number;
  /** The smallest value. */
  min: number;
}

/** Running statistics of numbers (Spark's StatCounter); what `stats()` returns. */
export class StatCounter {
  private n = 0;
  private mu = 0;
  private m2 = 0;
  private maxValue = Number.NEGATIVE_INFINITY;
  private minValue = Number.POSITIVE_INFINITY;

  /** Add one value. */
  add(value: number): this {
    this.n += 1;
    const delta = value - this.mu;
    this.mu += delta / this.n;
    this.m2 += delta * (value - this.mu);
    if (value > this.maxValue) this.maxValue = value;
    if (value < this.minValue) this.minValue = value;
    return this;
  }

  /** Merge another counter's values into this one (the other is not changed). */
  merge(other: StatCounter): this {
    if (other.n === 0) return this;
    if (this.n === 0) {
      this.n = other.n;
      this.mu = other.mu;
      this.m2 = other.m2;
      this.maxValue = other.maxValue;
      this.minValue = other.minValue;
      return this;
    }
    const n = this.n + other.n;
    const delta = other.mu - this.mu;
    // Weighting by the smaller side keeps the mean exact when one side dominates.
    this.mu = this.n >= other.n ? this.mu + (delta * other.n) / n : other.mu - (delta * this.n) / n;
    this.m2 += other.m2 + (delta * delta * this.n * other.n) / n;
    this.n = n;
    this.maxValue = Math.max(this.maxValue, other.maxValue);
    this.minValue = Math.min(this.minValue, other.minValue);
    return this;
  }

  /** A counter with the same values. */
  copy(): StatCounter {
    return new StatCounter().merge(this);
  }

  /** How many values. */
  get count(): number {
    return this.n;
  }

  /** Their mean; NaN when there are none. */
  get mean(): number {
    return this.n === 0 ? Number.NaN : this.mu;
  }

  /** Their sum (count × mean); 0 when there are none. */
  get sum(): number {
    return this.n * this.mu;
  }

  /** The population variance (divided by count, as Spark's `variance`); NaN when there are none. */
  get variance(): number {
    return this.n === 0 ? Number.NaN : this.m2 / this.n;
  }

  /** The sample variance (divided by count − 1); NaN with fewer than two values. */
  get sampleVariance(): number {
    return this.n <= 1 ? Number.NaN : this.m2 / (this.n - 1);
  }

  /** The population standard deviation (Spark's `stdev`); NaN when there are none. */
  get stdev(): number {
    return Math.sqrt(this.variance);
  }

  /** The sample standard deviation; NaN with fewer than two values. */
  get sampleStdev(): number {
    return Math.sqrt(this.sampleVariance);
  }

  /** The largest value; NaN when there are none. */
  get max(): number {
    return this.n === 0 ? Number.NaN : this.maxValue;
  }

  /** The smallest value; NaN when there are none. */
  get min(): number {
    return this.n === 0 ? Number.NaN : this.minValue;
  }

  /** Every statistic as a plain object: what `stratus run` prints (NaN prints as null). */
  toJSON(): StatSummary {
    return {
      count: this.count,
      mean: this.mean,
      sum: this.sum,
      stdev: this.stdev,
      sampleStdev: this.sampleStdev,
      variance: this.variance,
      sampleVariance: this.sampleVariance,
      max: this.max,
      min: this.min,
    };
  }

  /** `(count: 3, mean: 2, stdev: 0.81…, max: 3, min: 1)`, as Spark prints a StatCounter. */
  toString(): string {
    return `(count: ${this.count}, mean: ${this.mean}, stdev: ${this.stdev}, max: ${this.max}, min: ${this.min})`;
  }

  /** @internal The state a task sends (StatPartial). */
  toPartial(): StatPartial {
    return {
      n: this.n,
      mean: this.mu,
      m2: this.m2,
      max: this.n === 0 ? null : this.maxValue,
      min: this.n === 0 ? null : this.minValue,
    };
  }

  /** @internal A counter from the state a task sent. */
  static fromPartial(partial: StatPartial): StatCounter {
    const counter = new StatCounter();
    if (partial.n === 0) return counter;
    counter.n = partial.n;
    counter.mu = partial.mean;
    counter.m2 = partial.m2;
    counter.maxValue = partial.max ?? Number.NEGATIVE_INFINITY;
    counter.minValue = partial.min ?? Number.POSITIVE_INFINITY;
    return counter;
  }
}
