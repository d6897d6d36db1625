import { ReplayLog } from '../src/index';
import type { FdState } from '../src/index';

const file = (fd: number): FdState => ({ fd, kind: 'file', filetype: 4, rightsBase: 2, rightsInheriting: 0, fdflags: 0, offset: 0, preopen: '/p', path: `f${fd}` });

test('offsets coalesce, compaction keeps the fold, renumber/close apply in order', () => {
  const log = new ReplayLog();
  log.record({ op: 'open', fd: 3, state: file(3) });
  log.record({ op: 'open', fd: 4, state: file(4) });
  for (let i = 1; i <= 10_000; i++) log.record({ op: 'offset', fd: 3 + (i % 2), offset: i });
  expect(log.count).toBe(10_002);
  // Alternating fds do not coalesce, so the log compacted at least once along the way.
  expect(log.recent().length).toBeLessThan(4096);
  log.record({ op: 'offset', fd: 4, offset: 77 });
  log.record({ op: 'offset', fd: 4, offset: 78 });
  const before = log.recent().length;
  log.record({ op: 'offset', fd: 4, offset: 79 });
  expect(log.recent().length).toBe(before); // consecutive offsets of one fd: one event
  log.record({ op: 'renumber', from: 3, to: 9 });
  log.record({ op: 'flags', fd: 9, fdflags: 1 });
  log.record({ op: 'close', fd: 4 });
  log.record({ op: 'exit', code: 2 });
  const { fds, exitCode } = log.fold();
  expect(exitCode).toBe(2);
  expect(fds).toEqual([{ ...file(3), fd: 9, offset: 10_000, fdflags: 1 }]);
});

test('renumber onto a closed fd takes the number; onto an open one replaces it; both survive compaction', () => {
  const log = new ReplayLog();
  log.record({ op: 'open', fd: 3, state: file(3) });
  log.record({ op: 'open', fd: 4, state: file(4) });
  log.record({ op: 'renumber', from: 3, to: 40 }); // 40 was never open (dup2 onto a free number)
  log.record({ op: 'offset', fd: 40, offset: 5 });
  log.record({ op: 'renumber', from: 4, to: 40 }); // replaces the file at 40
  log.record({ op: 'renumber', from: 40, to: 4 }); // and back onto the number it left
  const folded = log.fold();
  expect(folded.fds).toEqual([{ ...file(4), fd: 4 }]);
  log.compact();
  expect(log.fold()).toEqual(folded);
});
