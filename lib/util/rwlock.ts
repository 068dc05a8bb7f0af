// A small async readers–writer lock. Git fetches (writers) must not run while
// trees and blobs are being read from the same object store (readers), because
// isomorphic-git writes a pack and its index as two non-atomic files.
export class RWLock {
  private readers = 0;
  private writer = false;
  private queue: Array<{ write: boolean; resolve: () => void }> = [];

  async read<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire(false);
    try {
      return await fn();
    } finally {
      this.release(false);
    }
  }

  async write<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire(true);
    try {
      return await fn();
    } finally {
      this.release(true);
    }
  }

  private acquire(write: boolean): Promise<void> {
    // Writers wait for everyone; readers wait for writers, and also queue
    // behind a waiting writer so a stream of readers cannot starve it.
    const canGo = write ? !this.writer && this.readers === 0 && this.queue.length === 0 : !this.writer && this.queue.length === 0;
    if (canGo) {
      if (write) this.writer = true;
      else this.readers++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.queue.push({ write, resolve }));
  }

  private release(write: boolean): void {
    if (write) this.writer = false;
    else this.readers--;
    while (this.queue.length > 0) {
      const next = this.queue[0];
      if (next.write) {
        if (this.readers === 0 && !this.writer) {
          this.queue.shift();
          this.writer = true;
          next.resolve();
        }
        return;
      }
      if (this.writer) return;
      this.queue.shift();
      this.readers++;
      next.resolve();
    }
  }
}
