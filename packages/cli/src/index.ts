/** @mvvm/cli: the `mvvm` command (bin/mvvm.js) and its pieces for programmatic use. */
export { main, program } from './main';
export { start, resume, writeSnapshot } from './session';
export type { Session, Launch } from './session';
export { drive } from './drive';
export type { Outcome } from './drive';
