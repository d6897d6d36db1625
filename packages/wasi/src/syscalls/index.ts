import { argsEnvCalls } from './args-env';
import { clockRandomProcCalls } from './clock-random-proc';
import { fdCalls } from './fd';
import { pathCalls } from './path';
import { pollCalls } from './poll';
import { sockCalls } from './sock';
import type { Syscall } from './types';

/** All 46 preview1 functions by import name. */
export const SYSCALLS: Record<string, Syscall> = {
  ...argsEnvCalls,
  ...clockRandomProcCalls,
  ...fdCalls,
  ...pathCalls,
  ...pollCalls,
  ...sockCalls,
};
