/**
 * Invariants 2 and 3: a client that reads AWSCURRENT and logs in every few milliseconds while rotations run.
 * ALTERNATING_USERS: it never fails. SINGLE_USER: it fails only inside the window between the ALTER USER statement
 * (setSecret) and finishSecret's UpdateSecretVersionStage, both taken from the endpoints' call log; the window is
 * measured and reported.
 */
import { E2e, failuresOutside, LoginClient, median, report, sleep } from './helpers';
import type { Rotation, Target } from './helpers';

const ROTATIONS = 5;
let e: E2e;

beforeAll(async () => {
  e = await E2e.start();
});

afterAll(async () => {
  await e?.stop();
});

/** Each rotation's [start, end] must have seen login attempts (the client really ran during it). */
function expectAttemptsDuring(client: LoginClient, rotations: readonly Rotation[]): void {
  for (const r of rotations) {
    const during = client.attempts.filter((a) => a.endAt >= r.started && a.readAt <= r.event.time);
    expect(during.length).toBeGreaterThan(0);
  }
}

describe.each<Target>(['cluster', 'workgroup'])('on a %s', (target) => {
  test(`ALTERNATING_USERS: a client logging in with AWSCURRENT throughout ${ROTATIONS} rotations never fails`, async () => {
    const user = await e.newUser('ALTERNATING_USERS', target);
    const client = new LoginClient(e, user.arn, 2);
    const rotations: Rotation[] = [];
    try {
      for (let i = 0; i < ROTATIONS; i++) rotations.push(await e.rotateOk(user.arn));
    } finally {
      await client.stop();
    }
    const versions = new Set(client.attempts.filter((a) => a.ok).map((a) => a.versionId));
    expect(versions.size).toBeGreaterThanOrEqual(ROTATIONS);
    expectAttemptsDuring(client, rotations);
    expect(client.failures.map((f) => f.reason)).toEqual([]);
    report(`ALTERNATING_USERS ${target}: ${client.attempts.length} logins during ${ROTATIONS} rotations, 0 failed, median rotation ${median(rotations.map((r) => r.ms))} ms`);
  });

  test(`SINGLE_USER: failures only between ALTER USER and finishSecret over ${ROTATIONS} rotations; the window is measured`, async () => {
    const user = await e.newUser('SINGLE_USER', target);
    const client = new LoginClient(e, user.arn, 2);
    const rotations: Rotation[] = [];
    const windows: Array<{ start: number; end: number; ms: number }> = [];
    try {
      for (let i = 0; i < ROTATIONS; i++) {
        const seq = e.lastSeq();
        rotations.push(await e.rotateOk(user.arn));
        windows.push(e.singleUserWindow(user.arn, seq));
      }
      // let the client make a few attempts that start after the last window
      const lastEnd = windows[windows.length - 1].end;
      for (let i = 0; i < 500 && client.attempts.filter((a) => a.readAt > lastEnd).length < 3; i++) await sleep(10);
    } finally {
      await client.stop();
    }
    expectAttemptsDuring(client, rotations);
    for (const w of windows) {
      expect(w.ms).toBeGreaterThan(0);
      expect(w.end).toBeGreaterThan(w.start);
    }
    const outside = failuresOutside(client.attempts, windows);
    expect(outside.map((f) => ({ reason: f.reason, readAt: f.readAt, endAt: f.endAt }))).toEqual([]);
    // every failure is an authentication failure with the old version (never another error)
    expect(client.failures.every((f) => f.reason === 'authentication failed')).toBe(true);
    // after the last rotation the client logs in again
    const after = client.attempts.filter((a) => a.readAt > windows[windows.length - 1].end);
    expect(after.length).toBeGreaterThanOrEqual(3);
    expect(after.every((a) => a.ok)).toBe(true);
    const windowMs = windows.map((w) => w.ms);
    report(`SINGLE_USER ${target}: ${client.attempts.length} logins during ${ROTATIONS} rotations, ${client.failures.length} failed (all inside the window), `
      + `window median ${median(windowMs)} ms (max ${Math.max(...windowMs)} ms), median rotation ${median(rotations.map((r) => r.ms))} ms`);
  });
});

test('nothing the handler logged, and no SQL, carries a password', async () => {
  await e.expectNoPasswordLeaked();
});
