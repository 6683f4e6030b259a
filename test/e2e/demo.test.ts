/**
 * The demo (examples/demo.ts, `npm run demo -- --json`): its main function, run with --json, prints exactly one
 * JSON line with both strategies, exits 0, and alternating users had no failed login; every secret of
 * examples/app.ts rotated on its first try on a fresh local stack holding only the admin, the users created by
 * the rotation function, none by hand.
 */
import { buildExampleApp } from '../../examples/app';
import { main, parseArgs } from '../../examples/demo';

/** `<stack>/<logical id>` and username of every rotated secret (strategy tag) of the example app, from its own synth. */
function appSecrets(): Array<{ id: string; strategy: string; username: string }> {
  const out: Array<{ id: string; strategy: string; username: string }> = [];
  for (const st of buildExampleApp().synth().stacks) {
    for (const [id, r] of Object.entries<any>(st.template.Resources)) {
      if (r.Type !== 'AWS::SecretsManager::Secret') continue;
      const strategy = (r.Properties.Tags ?? []).find((t: { Key: string }) => t.Key === 'redshift-rotation:strategy')?.Value;
      const username = /\\"username\\":\\"([^\\]+)\\"/.exec(JSON.stringify(r.Properties.GenerateSecretString.SecretStringTemplate))?.[1];
      if (strategy) out.push({ id: `${st.stackName}/${id}`, strategy, username: username! });
    }
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

test('--json prints exactly one line: both strategies, every secret of the app rotated on its first try, users created by the function', async () => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['--json', '--rotations', '3'], { out: (l) => out.push(l), err: (l) => err.push(l) });
  expect(err).toEqual([]);
  expect(code).toBe(0);
  expect(out).toHaveLength(1);
  const result = JSON.parse(out[0]);
  expect(Object.keys(result)).toEqual(['strategies', 'stacks', 'secrets']);
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

  // each stack of the app went to a fresh local stack that held only the admin
  expect(result.stacks.map((s: { name: string }) => s.name).sort()).toEqual(['RedshiftRotationExampleCluster', 'RedshiftRotationExampleServerless']);
  for (const s of result.stacks) expect(s.usersAtStart).toEqual(['admin']);

  // every secret of the app (from its own synth), each rotated 3 times, the first one included
  const expected = appSecrets();
  expect(expected.length).toBeGreaterThanOrEqual(4);
  const secrets = [...result.secrets].sort((a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id));
  type Row = { id: string; strategy: string; username: string };
  expect(secrets.map((s: Row) => ({ id: s.id, strategy: s.strategy, username: s.username }))).toEqual(expected);
  for (const s of secrets) {
    expect(Object.keys(s)).toEqual(['id', 'username', 'strategy', 'rotations', 'firstRotation', 'userCreated', 'logins']);
    expect(s.firstRotation).toBe(true);
    expect(s.rotations).toBe(3);
    // the client logged in with AWSCURRENT during the rotations (a created user has the secret's password)
    expect(s.logins).toBeGreaterThan(0);
    if (s.strategy === 'ALTERNATING_USERS') {
      // the user did not exist on the fresh target: its first rotation created it
      expect(s.userCreated).toBe(true);
    } else {
      // single user: the admin, which existed (the target's admin password came from this secret)
      expect(s.username).toBe('admin');
      expect(s.userCreated).toBe(false);
    }
  }
  expect(secrets.filter((s: { strategy: string }) => s.strategy === 'ALTERNATING_USERS').length).toBeGreaterThanOrEqual(3);

  // nothing secret in the line: only figures, names and booleans
  expect(out[0]).toMatch(/^\{"strategies":\[\{"strategy":"SINGLE_USER","rotations":\d+,"medianRotationMs":\d+,"failedLogins":\d+,"windowMs":\d+\},\{"strategy":"ALTERNATING_USERS","rotations":\d+,"medianRotationMs":\d+,"failedLogins":\d+,"windowMs":\d+\}\],"stacks":\[(\{"name":"\w+","usersAtStart":\["\w+"(,"\w+")*\]\},?)+\],"secrets":\[(\{"id":"\w+\/\w+","username":"\w+","strategy":"(SINGLE_USER|ALTERNATING_USERS)","rotations":\d+,"firstRotation":(true|false),"userCreated":(true|false),"logins":\d+\},?)+\]\}$/);
}, 240_000);

test('bad arguments are refused', () => {
  expect(parseArgs([])).toEqual({ json: false, rotations: 5 });
  expect(() => parseArgs(['--rotations', '0'])).toThrow(/--rotations must be an integer/);
  expect(() => parseArgs(['--verbose'])).toThrow(/unknown argument --verbose/);
});
