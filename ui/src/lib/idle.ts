// Idle logoff as the UI sees it: input resets the clock; a warning with a countdown comes before
// the logoff. Time is passed in, so this is tested without waiting.

export type IdlePhase = "active" | "warning" | "expired";

export class IdleClock {
  private lastActivity: number;

  constructor(
    private logoffSeconds: number,
    private warningSeconds: number,
    private now: () => number,
  ) {
    this.lastActivity = now();
  }

  activity(): void {
    this.lastActivity = this.now();
  }

  secondsLeft(): number {
    return Math.max(0, Math.ceil(this.logoffSeconds - (this.now() - this.lastActivity) / 1000));
  }

  phase(): IdlePhase {
    const left = this.secondsLeft();
    if (left <= 0) return "expired";
    if (left <= this.warningSeconds) return "warning";
    return "active";
  }
}
