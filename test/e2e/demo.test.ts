/**
 * The demo (examples/demo.ts, `npm run demo -- --json`): its main function, run with --json, prints exactly one
 * JSON line with both strategies, exits 0, and alternating users had no failed login.
 */
import { main, parseArgs } from '../../examples/demo';

test('--json prints exactly one line: both strategies, rotations, median ms, failed logins, window; alternating has 0 failed logins', async () => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['--json', '--rotations', '3'], { out: (l) => out.push(l), err: (l) => err.push(l) });
  expect(err).toEqual([]);
  expect(code).toBe(0);
  expect(out).toHaveLength(1);
  const result = JSON.parse(out[0]);
  expect(Object.keys(result)).toEqual(['strategies']);
  expect(result.strategies.map((s: { strategy: string }) => s.strategy)).toEqual(['SINGLE_USER', 'ALTERNATING_USERS']);
  for (const s of result.strategies) {
    expect(Object.keys(s)).toEqual(['strategy', 'rotations', 'medianRotationMs', 'failedLogins', 'windowMs']);
    for (const k of ['rotations', 'medianRotationMs', 'failedLogins', 'windowMs']) expect(Number.isInteger(s[k]) && s[k] >= 0).toBe(true);
    expect(s.rotations).toBeGreaterThanOrEqual(3);
    expect(s.medianRotationMs).toBeGreaterThan(0);
  }
  const [single, alternating] = result.strategies;
  expect(alternating.failedLogins).toBe(0);
  expect(alternating.windowMs).toBe(0);
  expect(single.windowMs).toBeGreaterThan(0);
  // the window is the part of a rotation from ALTER USER to finishSecret: createSecret and setSecret's reads come
  // before it, so it is strictly shorter than the rotation (measured from the rotation's start, or across
  // rotations, it would not be)
  expect(single.windowMs).toBeLessThan(single.medianRotationMs);
  // nothing secret in the line: only the figures
  expect(out[0]).toMatch(/^\{"strategies":\[\{"strategy":"SINGLE_USER","rotations":\d+,"medianRotationMs":\d+,"failedLogins":\d+,"windowMs":\d+\},\{"strategy":"ALTERNATING_USERS","rotations":\d+,"medianRotationMs":\d+,"failedLogins":\d+,"windowMs":\d+\}\]\}$/);
}, 240_000);

test('bad arguments are refused', () => {
  expect(parseArgs([])).toEqual({ json: false, rotations: 5 });
  expect(() => parseArgs(['--rotations', '0'])).toThrow(/--rotations must be an integer/);
  expect(() => parseArgs(['--verbose'])).toThrow(/unknown argument --verbose/);
});
