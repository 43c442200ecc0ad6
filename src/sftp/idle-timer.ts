// Ends a connection that has had no request for `idleMs`. A request under way (an upload being
// received, a long listing) keeps it alive: the quiet time starts when the last request ends.
export class IdleTimer {
  private busy = 0;
  private last = Date.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly idleMs: number,
    private readonly onIdle: () => void,
  ) {
    this.arm(idleMs);
  }

  begin(): void {
    this.busy++;
    this.last = Date.now();
  }

  end(): void {
    this.busy--;
    this.last = Date.now();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => this.check(), Math.max(ms, 10));
  }

  private check(): void {
    if (!this.timer) return;
    const quiet = Date.now() - this.last;
    if (this.busy === 0 && quiet >= this.idleMs) {
      this.timer = undefined;
      this.onIdle();
      return;
    }
    this.arm(this.busy > 0 ? this.idleMs : this.idleMs - quiet);
  }
}
