/**
 * Periodic checkpoints (`--every N --keep K`): numbered files beside the output name, the
 * last K kept. With --incremental each is based on the one before, a full one every K, and
 * a file is deleted only once no kept snapshot needs it as a base.
 */
import { unlinkSync } from 'node:fs';

export class Rotation {
  private files: Array<{ path: string; full: boolean }> = [];
  private seq = 0;
  private sinceFull = 0;

  constructor(private readonly output: string, private readonly keep: number, private readonly incremental: boolean) {}

  /** The next file and whether it must be a full snapshot. */
  next(): { path: string; full: boolean } {
    this.seq++;
    const full = !this.incremental || this.files.length === 0 || this.sinceFull >= this.keep;
    const path = this.output.replace(/(\.mvvm)?$/, `-${this.seq}$1`);
    return { path, full };
  }

  /** Records a written file and deletes the ones nothing kept depends on. */
  written(path: string, full: boolean): void {
    this.files.push({ path, full });
    this.sinceFull = full ? 1 : this.sinceFull + 1;
    const firstKept = Math.max(0, this.files.length - this.keep);
    let from = firstKept;
    while (from > 0 && !this.files[from].full) from--;
    for (const f of this.files.slice(0, from)) {
      try {
        unlinkSync(f.path);
      } catch {
        /* already gone */
      }
    }
    this.files = this.files.slice(from);
  }
}
