/**
 * Where a job's time goes. The stages of a pull pipeline (decode → chain → encode) run interleaved, block by block,
 * so their times are taken as the time spent waiting on each stage's next block: a stage's own time is its wait
 * less the wait on the stage inside it. `measure` times a plain awaited step (a download, an upload).
 */
export class StageTimes {
  private readonly ms = new Map<string, number>();

  add(stage: string, ms: number): void {
    this.ms.set(stage, (this.ms.get(stage) ?? 0) + ms);
  }

  get(stage: string): number {
    return this.ms.get(stage) ?? 0;
  }

  /** The stream, with the time spent waiting on each of its blocks added to `stage`. */
  time<T>(stage: string, stream: AsyncIterable<T>): AsyncIterable<T> {
    const add = (ms: number) => this.add(stage, ms);
    return {
      async *[Symbol.asyncIterator]() {
        const it = stream[Symbol.asyncIterator]();
        try {
          for (;;) {
            const t = performance.now();
            const r = await it.next();
            add(performance.now() - t);
            if (r.done) return;
            yield r.value;
          }
        } finally {
          await it.return?.();
        }
      },
    };
  }

  async measure<T>(stage: string, step: () => Promise<T>): Promise<T> {
    const t = performance.now();
    try {
      return await step();
    } finally {
      this.add(stage, performance.now() - t);
    }
  }
}
