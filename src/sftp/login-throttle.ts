// Failed logins counted per remote address: past `maxFailedLogins` within `failWindowMs` the address
// is refused until its oldest counted failure leaves the window. The table is bounded.
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
  private readonly maxAddresses: number;
  private readonly now: () => number;

  constructor(private readonly o: LoginThrottleOptions) {
    this.maxAddresses = o.maxAddresses ?? 10_000;
    this.now = o.now ?? Date.now;
  }

  /** Whether `address` has failed too often lately to be heard at all. */
  isBlocked(address: string): boolean {
    const times = this.recent(address);
    return times !== undefined && times.length >= this.o.maxFailedLogins;
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
