// The lifetime of a mounted page: its timers, streams and charts end when the user navigates away.

export class Scope {
  private readonly disposers: (() => void)[] = [];
  alive = true;

  onDispose(fn: () => void): void {
    if (!this.alive) fn();
    else this.disposers.push(fn);
  }

  /**
   * Runs `fn` now and then every `ms` after the previous run finished (never two at once, so a slow
   * server is not piled up on); errors go to `onError`.
   */
  every(ms: number, fn: () => Promise<void> | void, onError: (e: unknown) => void): void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async (): Promise<void> => {
      if (!this.alive) return;
      try {
        await fn();
      } catch (e) {
        if (this.alive) onError(e);
      }
      if (this.alive) timer = setTimeout(run, ms);
    };
    void run();
    this.onDispose(() => clearTimeout(timer));
  }

  dispose(): void {
    this.alive = false;
    for (const d of this.disposers.splice(0).reverse()) {
      try {
        d();
      } catch {
        // a failing disposer must not keep the others from running
      }
    }
  }
}
