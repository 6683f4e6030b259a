/**
 * Invariant 4 for SINGLE_USER: a fault or crash at each call of each step of a rotation (see fault-matrix.ts),
 * then the local service's retry, ends in a completed rotation; a client logging in with AWSCURRENT throughout fails
 * only inside the single-user window, and after each failed attempt the live password is AWSCURRENT or AWSPENDING.
 */
import { runMatrix } from './fault-matrix';
import { E2e, report } from './helpers';

let e: E2e;

beforeAll(async () => {
  e = await E2e.start();
});

afterAll(async () => {
  await e?.stop();
});

test('a fault at every call of every step, then the retry: the rotation completes and no credentials are lost', async () => {
  const m = await runMatrix(e, 'SINGLE_USER', { lanes: 4, deadlineMs: 420_000 });
  const problems = m.results.filter((r) => r.problems.length > 0).map((r) => `${r.name}: ${r.problems.join('; ')}`);
  report(`SINGLE_USER fault matrix: ${m.points} call points, ${m.cases} cases, ${m.retried} retried by the service, median case ${m.medianCaseMs} ms, `
    + `${m.loginAttempts} client logins, ${m.loginFailures} failed (${m.outsideWindow} outside the window)`);
  if (process.env.E2E_VERBOSE) for (const r of [...m.results].sort((a, b) => b.ms - a.ms)) report(`  ${r.ms} ms ${r.failedAttempts} ${r.name}`);
  expect(problems).toEqual([]);
  // every step was hit, at its calls
  expect(new Set(m.results.map((r) => r.name.split(' ')[0]))).toEqual(new Set(['createSecret', 'setSecret', 'testSecret', 'finishSecret']));
  expect(m.cases).toBeGreaterThanOrEqual(3 * 18);
  // most faults made an attempt fail, so the service's retry really ran
  expect(m.retried).toBeGreaterThan(m.cases / 2);
  expect(m.loginAttempts).toBeGreaterThan(m.cases);
  expect(m.outsideDetails).toEqual([]);
  expect(m.outsideWindow).toBe(0);
  // the checks below ran: one per failed attempt, and every retried case had one
  expect(m.attemptsChecked).toBeGreaterThanOrEqual(m.retried);
  expect(m.lostCredentials).toBe(0);
  expect(m.currentFailedOutsideWindow).toBe(0);
}, 480_000);

test('nothing the handler logged, and no SQL, carries a password', async () => {
  await e.expectNoPasswordLeaked();
});
