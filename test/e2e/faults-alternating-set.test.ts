/**
 * Invariant 4 for ALTERNATING_USERS, the calls of setSecret (the matrix is split over two files so that
 * jest runs the halves in parallel): a fault or crash at each call (see fault-matrix.ts), then the local service's
 * retry, ends in a completed rotation; a client logging in with AWSCURRENT throughout never fails, and after each
 * failed attempt AWSCURRENT still logs in.
 */
import { runMatrix } from './fault-matrix';
import { E2e, report } from './helpers';

const STEPS = ['setSecret'];
let e: E2e;

beforeAll(async () => {
  e = await E2e.start();
});

afterAll(async () => {
  await e?.stop();
});

test(`a fault at every call of ${STEPS.join(', ')}, then the retry: the rotation completes and AWSCURRENT always logs in`, async () => {
  const m = await runMatrix(e, 'ALTERNATING_USERS', { lanes: 4, steps: STEPS, deadlineMs: 420_000 });
  const problems = m.results.filter((r) => r.problems.length > 0).map((r) => `${r.name}: ${r.problems.join('; ')}`);
  report(`ALTERNATING_USERS fault matrix (${STEPS.join(', ')}): ${m.points} call points, ${m.cases} cases, ${m.retried} retried by the service, `
    + `median case ${m.medianCaseMs} ms, ${m.loginAttempts} client logins, ${m.loginFailures} failed`);
  if (process.env.E2E_VERBOSE) for (const r of [...m.results].sort((a, b) => b.ms - a.ms)) report(`  ${r.ms} ms ${r.failedAttempts} ${r.name}`);
  expect(problems).toEqual([]);
  expect(new Set(m.results.map((r) => r.name.split(' ')[0]))).toEqual(new Set(STEPS));
  expect(m.retried).toBeGreaterThan(m.cases / 2);
  expect(m.loginAttempts).toBeGreaterThan(m.cases);
  expect(m.outsideDetails).toEqual([]);
  expect(m.loginFailures).toBe(0);
  expect(m.lostCredentials).toBe(0);
  expect(m.currentFailedOutsideWindow).toBe(0);
}, 480_000);

test('nothing the handler logged, and no SQL, carries a password', async () => {
  await e.expectNoPasswordLeaked();
});
