import { checkpointAndResume } from './checkpoint-resume';

test('the checkpoint-resume example finishes identically after a restore from disk', async () => {
  const lines: string[] = [];
  const r = await checkpointAndResume(20000, (l) => lines.push(l));
  expect(r.resumed).toBe(r.expected);
  expect(r.resumedCount).toBe(r.total);
  expect(typeof r.expected).toBe('bigint');
  expect(lines).toHaveLength(3);
});
