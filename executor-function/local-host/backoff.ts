/**
 * The queue listener's empty-poll delay: the storage extension's randomized exponential backoff.
 * After a poll that found messages the next delay is the minimum (100 ms); each further empty
 * poll adds minimum × 2^(n-1) × a random factor in [0.8, 1.2), until maxPollingInterval caps it.
 */

/** The randomization factor of the backoff (±20 %). */
export const BACKOFF_RANDOMIZATION = 0.2;

/** Randomized exponential backoff between a minimum and a maximum delay (ms). */
export class PollingBackoff {
  private current = 0;
  private exponent = 0;

  constructor(
    readonly minimumMs: number,
    readonly maximumMs: number,
    private readonly random: () => number = Math.random,
  ) {
    if (minimumMs < 0 || maximumMs < minimumMs) {
      throw new RangeError(`invalid polling backoff bounds ${minimumMs}…${maximumMs} ms`);
    }
  }

  /** The delay before the next poll; `foundMessages` says whether a poll since the last delay found any. */
  next(foundMessages: boolean): number {
    if (foundMessages) {
      this.current = this.minimumMs;
      this.exponent = 1;
    } else if (this.current !== this.maximumMs) {
      let interval = this.minimumMs;
      if (this.exponent > 0) {
        const factor = 1 - BACKOFF_RANDOMIZATION + this.random() * 2 * BACKOFF_RANDOMIZATION;
        interval += factor * 2 ** (this.exponent - 1) * this.minimumMs;
      }
      if (interval < this.maximumMs) {
        this.current = interval;
        this.exponent++;
      } else {
        this.current = this.maximumMs;
      }
    }
    return this.current;
  }
}
