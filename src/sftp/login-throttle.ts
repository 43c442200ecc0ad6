// Failed logins counted per remote address: past `maxFailedLogins` within `failWindowMs` the address
// is refused until its oldest counted failure leaves the window. Attempts being checked count too, as
// failures to be: however many arrive at once, no more are checked than could fail before the limit,
// the others wait for those checks to end. The table is bounded.
export interface LoginThrottleOptions {
  maxFailedLogins: number;
  failWindowMs: number;
  /** Addresses remembered at most; the least recently failed are forgotten first. */
  maxAddresses?: number;
  now?: () => number;
}

export class LoginThrottle {
  /** Address -> times of its recent failures, oldest first; Map order is least recently failed first. */
  private readonly failures = new Map<string, number[]>();
  /** Address -> attempts being checked now. */
  private readonly checking = new Map<string, number>();
  /** Address -> attempts waiting for a check under way to end. */
  private readonly waiting = new Map<string, Array<() => void>>();
  private readonly maxAddresses: number;
  private readonly now: () => number;

  constructor(private readonly o: LoginThrottleOptions) {
    this.maxAddresses = o.maxAddresses ?? 10_000;
    this.now = o.now ?? Date.now;
  }

  /** Failures allowed from one address within the window. */
  get maxFailed(): number {
    return this.o.maxFailedLogins;
  }

  get windowMs(): number {
    return this.o.failWindowMs;
  }

  /** Whether `address` has failed too often lately to be heard at all. */
  isBlocked(address: string): boolean {
    const times = this.recent(address);
    return times !== undefined && times.length >= this.o.maxFailedLogins;
  }

  /**
   * The right to check one login attempt from `address`: false when the address is blocked (refuse the
   * attempt unchecked). While the checks under way could still reach the limit, waits for them first.
   * Every true is followed by end().
   */
  async begin(address: string): Promise<boolean> {
    for (;;) {
      const failed = this.recent(address)?.length ?? 0;
      if (failed >= this.o.maxFailedLogins) return false;
      const checking = this.checking.get(address) ?? 0;
      if (failed + checking < this.o.maxFailedLogins) {
        this.checking.set(address, checking + 1);
        return true;
      }
      await new Promise<void>((resolve) => {
        const queue = this.waiting.get(address) ?? [];
        queue.push(resolve);
        this.waiting.set(address, queue);
      });
    }
  }

  /** A check begun is over: `failed` counts it as a failed login. Attempts waiting look again. */
  end(address: string, failed: boolean): void {
    const checking = (this.checking.get(address) ?? 1) - 1;
    if (checking > 0) this.checking.set(address, checking);
    else this.checking.delete(address);
    if (failed) this.recordFailure(address);
    const queue = this.waiting.get(address);
    this.waiting.delete(address);
    for (const wake of queue ?? []) wake();
  }

  recordFailure(address: string): void {
    const times = this.recent(address) ?? [];
    times.push(this.now());
    // Only the last maxFailedLogins matter: the block lasts until the oldest of them expires.
    if (times.length > this.o.maxFailedLogins) times.splice(0, times.length - this.o.maxFailedLogins);
    this.failures.delete(address);
    this.failures.set(address, times);
    this.evict();
  }

  /** How many addresses are remembered (for tests of the bound). */
  get size(): number {
    return this.failures.size;
  }

  /** The failures of `address` still within the window (forgetting the address when none are). */
  private recent(address: string): number[] | undefined {
    const times = this.failures.get(address);
    if (!times) return undefined;
    const since = this.now() - this.o.failWindowMs;
    while (times.length > 0 && times[0] <= since) times.shift();
    if (times.length === 0) {
      this.failures.delete(address);
      return undefined;
    }
    return times;
  }

  private evict(): void {
    for (const address of this.failures.keys()) {
      if (this.failures.size <= this.maxAddresses) break;
      this.failures.delete(address);
    }
  }
}
