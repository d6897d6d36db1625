/** A growable Int32Array for emitting internal code. */
export class CodeBuilder {
  private buf = new Int32Array(1024);
  length = 0;

  emit(v: number): void {
    if (this.length === this.buf.length) this.grow();
    this.buf[this.length++] = v;
  }

  emit2(a: number, b: number): void {
    this.emit(a);
    this.emit(b);
  }

  emit3(a: number, b: number, c: number): void {
    this.emit(a);
    this.emit(b);
    this.emit(c);
  }

  /** Overwrite an already emitted word (forward branch targets). */
  patch(at: number, v: number): void {
    this.buf[at] = v;
  }

  /** The buffer itself (valid up to `length`); replaced when it grows. */
  get words(): Int32Array {
    return this.buf;
  }

  private grow(): void {
    const next = new Int32Array(Math.max(1024, this.buf.length * 2));
    next.set(this.buf);
    this.buf = next;
  }
}
