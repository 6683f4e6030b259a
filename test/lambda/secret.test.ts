import {
  alternateUsername,
  checkMasterTarget,
  masterJsonTarget,
  pairingMatches,
  checkPendingFitsCurrent,
  checkUsernameForStrategy,
  dataApiTarget,
  originalUsername,
  parseMasterSecret,
  parseRedshiftSecret,
  parseSecretJson,
  pendingSecretString,
  resolveStrategy,
  targetFromHost,
} from '../../lambda/rotation/secret';

const PW = 'S3cretPassw0rdXyz';
const base = { engine: 'redshift', username: 'app', password: PW, dbname: 'analytics', dbClusterIdentifier: 'c1' };
const parse = (fields: Record<string, unknown>) => parseRedshiftSecret(JSON.stringify(fields), 'AWSCURRENT');

function expectNoPassword(fn: () => unknown): void {
  let message = '';
  try {
    fn();
  } catch (err) {
    message = (err as Error).message;
  }
  expect(message).not.toBe('');
  expect(message.includes(PW)).toBe(false);
}

describe('secrets people already have (host only)', () => {
  test.each([
    ['mycluster.abc123xyz789.us-west-2.redshift.amazonaws.com', { dbClusterIdentifier: 'mycluster' }],
    ['my-cluster-1.cu8ab1c2d3e4.cn-north-1.redshift.amazonaws.com.cn', { dbClusterIdentifier: 'my-cluster-1' }],
    ['MyCluster.ABC123.eu-central-1.redshift.amazonaws.com.', { dbClusterIdentifier: 'mycluster' }],
    ['default.123456789012.us-east-1.redshift-serverless.amazonaws.com', { workgroupName: 'default' }],
    ['wg-analytics.123456789012.ap-southeast-2.redshift-serverless.amazonaws.com', { workgroupName: 'wg-analytics' }],
  ])('%s', (host, expected) => {
    expect(targetFromHost(host)).toEqual(expected);
  });

  test.each([
    'db.example.com', '10.0.0.12', 'vpce-0123-abcd.redshift.us-east-1.vpce.amazonaws.com',
    'wg.12345.us-east-1.redshift-serverless.amazonaws.com', 'c.abc.us-east-1.redshift.amazonaws.com.evil.com',
    'wg1.123456789012.us-east-1.redshift-serverless.amazonaws.com.evil.com',
    // a name in front of an endpoint is not that endpoint
    'evil.mycluster.abc123xyz789.us-west-2.redshift.amazonaws.com', 'evil.wg1.123456789012.us-east-1.redshift-serverless.amazonaws.com',
  ])('not a Redshift endpoint: %s', (host) => {
    expect(targetFromHost(host)).toBeUndefined();
  });

  test('spaces and a port are not part of the name; Regions with more than one dash', () => {
    expect(targetFromHost('  mycluster.abc123xyz789.us-west-2.redshift.amazonaws.com:5439 ')).toEqual({ dbClusterIdentifier: 'mycluster' });
    expect(targetFromHost('wg1.123456789012.us-east-1.redshift-serverless.amazonaws.com:5440')).toEqual({ workgroupName: 'wg1' });
    expect(targetFromHost('gov.abc123.us-gov-west-1.redshift.amazonaws.com')).toEqual({ dbClusterIdentifier: 'gov' });
    expect(targetFromHost('wg-gov.123456789012.us-gov-east-1.redshift-serverless.amazonaws.com')).toEqual({ workgroupName: 'wg-gov' });
    expect(targetFromHost('mycluster.abc123xyz789.us-west-2.redshift.amazonaws.com:54x')).toBeUndefined();
    // a port is only read at the end: a colon inside the name is no endpoint
    expect(targetFromHost('mycluster:1.abc123xyz789.us-west-2.redshift.amazonaws.com')).toBeUndefined();
  });

  test('the user guide\'s Redshift structure (host, port as a string) targets the cluster; the copy keeps the same fields', () => {
    const fields = { engine: 'redshift', host: 'examplecluster.abc123xyz789.us-west-2.redshift.amazonaws.com', username: 'app', password: PW, dbname: 'dev', port: '5439' };
    const s = parse(fields);
    expect(dataApiTarget(s)).toEqual({ ClusterIdentifier: 'examplecluster', Database: 'dev' });
    expect(Object.keys(JSON.parse(pendingSecretString(s, 'N3wPassw0rdAbc', 'app'))).sort()).toEqual(Object.keys(fields).sort());
  });

  test('the Redshift Serverless structure (host, namespaceName, port) targets the workgroup', () => {
    const s = parse({
      engine: 'redshift', host: 'wg1.123456789012.us-east-1.redshift-serverless.amazonaws.com', username: 'app', password: PW, dbname: 'dev', namespaceName: 'ns1', port: 5439,
    });
    expect(dataApiTarget(s)).toEqual({ WorkgroupName: 'wg1', Database: 'dev' });
  });

  test('an explicit dbClusterIdentifier wins over the host', () => {
    const s = parse({ ...base, host: 'other.abc123.us-east-1.redshift.amazonaws.com' });
    expect(dataApiTarget(s)).toEqual({ ClusterIdentifier: 'c1', Database: 'analytics' });
  });
});

describe('secret JSON', () => {
  test('parses a cluster secret and keeps unknown fields', () => {
    const s = parse({ ...base, host: 'h', port: 5439, extra: 'x' });
    expect({ username: s.username, dbname: s.dbname, dbClusterIdentifier: s.dbClusterIdentifier, workgroupName: s.workgroupName })
      .toEqual({ username: 'app', dbname: 'analytics', dbClusterIdentifier: 'c1', workgroupName: undefined });
    expect(s.password === PW).toBe(true);
    expect(s.fields.extra).toBe('x');
    expect(dataApiTarget(s)).toEqual({ ClusterIdentifier: 'c1', Database: 'analytics' });
  });

  test('parses a serverless secret; dbname defaults to dev', () => {
    const s = parse({ engine: 'redshift', username: 'app', password: PW, workgroupName: 'wg' });
    expect(dataApiTarget(s)).toEqual({ WorkgroupName: 'wg', Database: 'dev' });
  });

  test('a string that is not JSON is refused without quoting it', () => {
    expectNoPassword(() => parseRedshiftSecret(`{"password":"${PW}"`, 'AWSCURRENT'));
    expect(() => parseRedshiftSecret(`not json ${PW}`, 'AWSCURRENT')).toThrow(/^AWSCURRENT is not valid JSON$/);
    expect(() => parseSecretJson('[1]', 'AWSPENDING')).toThrow(/AWSPENDING is not a JSON object/);
    expect(() => parseSecretJson(undefined, 'AWSPENDING')).toThrow(/AWSPENDING has no SecretString/);
  });

  test.each(['null', '42', '"text"', 'true', '[]'])('JSON that is not an object (%s) is refused as such', (json) => {
    expect(() => parseSecretJson(json, 'AWSPENDING')).toThrow(/^AWSPENDING is not a JSON object$/);
    expect(() => parseRedshiftSecret(json, 'AWSCURRENT')).toThrow(/^AWSCURRENT is not a JSON object$/);
  });

  test('an optional field that is null is read as absent (as an empty string is), never as a wrong type', () => {
    const s = parse({ ...base, dbname: null, workgroupName: null, masterarn: null });
    expect({ dbname: s.dbname, workgroupName: s.workgroupName, masterarn: s.masterarn }).toEqual({ dbname: 'dev', workgroupName: undefined, masterarn: undefined });
    expect(parse({ ...base, dbname: '' }).dbname).toBe('dev');
    expect(() => parse({ ...base, dbname: 0 })).toThrow(/dbname must be a string/);
  });

  test.each([
    ['engine', { ...base, engine: 'postgres' }],
    ['engine', { ...base, engine: undefined }],
    ['username', { ...base, username: undefined }],
    ['username', { ...base, username: '' }],
    ['password', { ...base, password: undefined }],
    ['password', { ...base, password: 12345678 }],
    ['names no cluster or workgroup: add dbClusterIdentifier', { ...base, dbClusterIdentifier: undefined }],
    ['its host "db.example.com" is not a Redshift cluster or workgroup endpoint', { ...base, dbClusterIdentifier: undefined, host: 'db.example.com' }],
    ['port must be a number', { ...base, port: 'x5439' }],
    ['both', { ...base, workgroupName: 'wg' }],
    ['dbname must be a string', { ...base, dbname: 5 }],
  ])('refuses a bad secret: %s', (what, fields) => {
    expect(() => parse(fields)).toThrow(new RegExp(what));
    expectNoPassword(() => parse(fields));
  });

  test('a username or password of another type is refused as such, in the rotated and the master secret', () => {
    expect(() => parse({ ...base, username: 5 })).toThrow(/^AWSCURRENT: username is missing or not a non-empty string$/);
    expect(() => parse({ ...base, password: 12345678 })).toThrow(/^AWSCURRENT: password is missing or not a non-empty string$/);
    expect(() => parseMasterSecret(JSON.stringify({ username: 5, password: PW }), 'the master')).toThrow(/^the master: username is missing or not a non-empty string$/);
    expect(() => parseMasterSecret(JSON.stringify({ username: '', password: PW }), 'the master')).toThrow(/^the master: username is missing or not a non-empty string$/);
    expect(() => parseMasterSecret(JSON.stringify({ username: 'admin', password: '' }), 'the master')).toThrow(/^the master: password is missing or not a non-empty string$/);
    expect(() => parse({ ...base, username: '' })).toThrow(/^AWSCURRENT: username is missing or not a non-empty string$/);
    expect(() => parse({ ...base, password: '' })).toThrow(/^AWSCURRENT: password is missing or not a non-empty string$/);
    expect(() => parseMasterSecret(JSON.stringify({ username: 'admin', password: 12345678 }), 'the master')).toThrow(/^the master: password is missing or not a non-empty string$/);
  });

  test('the error for a host that names no cluster or workgroup says what endpoints are read', () => {
    expect(() => parse({ ...base, dbClusterIdentifier: undefined, host: 'db.example.com' })).toThrow(
      'AWSCURRENT: the secret names no cluster or workgroup: add dbClusterIdentifier (a provisioned cluster) or workgroupName (Redshift Serverless); '
      + 'its host "db.example.com" is not a Redshift cluster or workgroup endpoint (<cluster>.<id>.<region>.redshift.amazonaws.com or '
      + '<workgroup>.<account>.<region>.redshift-serverless.amazonaws.com) that the name could be read from');
    expect(() => parse({ ...base, dbClusterIdentifier: undefined })).toThrow(/^AWSCURRENT: the secret names no cluster or workgroup: add dbClusterIdentifier \(a provisioned cluster\) or workgroupName \(Redshift Serverless\)$/);
  });

  test.each([[5439], ['5439'], [' 5439 '], [''], [null]])('port %p is accepted', (port) => {
    expect(parse({ ...base, port }).username).toBe('app');
  });

  test.each([['54a'], ['a54'], [true], [{}]])('port %p is refused', (port) => {
    expect(() => parse({ ...base, port })).toThrow(/^AWSCURRENT: port must be a number$/);
  });

  test.each(['a"b', 'x; drop user y', 'App', 'ünïcode', 'has space', '1abc', ''])('refuses username %p that needs quoting', (username) => {
    expect(() => parse({ ...base, username })).toThrow(/username/);
  });

  test('upper case is refused with the reason and the name to write instead', () => {
    expect(() => parse({ ...base, username: 'AppUser' })).toThrow(
      'AWSCURRENT: username "AppUser" has upper-case letters; Redshift folds user names to lower case (the user is "appuser") and the md5 password verifier depends on the exact stored name, so rotating "AppUser" would set a password nobody can log in with: write "appuser" in the secret instead');
  });

  test('accepts plain identifiers with digits, _ and $', () => {
    expect(parse({ ...base, username: '_app$1' }).username).toBe('_app$1');
  });

  test('usernames: 127 bytes at most, 121 for alternating users so that _clone fits', () => {
    expect(() => parse({ ...base, username: 'a'.repeat(127) })).not.toThrow();
    expect(() => parse({ ...base, username: 'a'.repeat(128) })).toThrow(/128 bytes/);
    expect(() => checkUsernameForStrategy('a'.repeat(121), 'ALTERNATING_USERS', 'AWSCURRENT')).not.toThrow();
    expect(() => checkUsernameForStrategy('a'.repeat(121) + '_clone', 'ALTERNATING_USERS', 'AWSCURRENT')).not.toThrow();
    expect(() => checkUsernameForStrategy('a'.repeat(122), 'ALTERNATING_USERS', 'AWSCURRENT')).toThrow(/too long for alternating users/);
    expect(() => checkUsernameForStrategy('a'.repeat(122), 'SINGLE_USER', 'AWSCURRENT')).not.toThrow();
    expect(() => checkUsernameForStrategy('_clone', 'ALTERNATING_USERS', 'AWSCURRENT')).toThrow(/nothing before _clone/);
  });

  test('the master secret needs username and password', () => {
    const master = parseMasterSecret(JSON.stringify({ username: 'admin', password: PW }), 'master');
    expect(master.username).toBe('admin');
    expect(master.password === PW).toBe(true);
    expect(() => parseMasterSecret(JSON.stringify({ username: 'admin' }), 'the master secret')).toThrow(/the master secret: password/);
    expect(() => parseMasterSecret(JSON.stringify({ password: PW }), 'the master secret')).toThrow(/the master secret: username/);
    expectNoPassword(() => parseMasterSecret(`{${PW}`, 'the master secret'));
  });
});

describe('clone username', () => {
  test('toggles the _clone suffix', () => {
    expect(alternateUsername('app')).toBe('app_clone');
    expect(alternateUsername('app_clone')).toBe('app');
    expect(originalUsername('app_clone')).toBe('app');
    expect(originalUsername('app')).toBe('app');
  });

  test('fails clearly past 127 bytes', () => {
    expect(alternateUsername('a'.repeat(121))).toHaveLength(127);
    expect(() => alternateUsername('a'.repeat(122))).toThrow(/too long for the _clone suffix.*128 bytes/);
    expect(() => alternateUsername('_clone')).toThrow(/nothing before _clone/);
  });
});

describe('strategy', () => {
  const single = parse(base);
  const multi = parse({ ...base, masterarn: 'arn:master' });

  test('from the tag, else from masterarn', () => {
    expect(resolveStrategy(undefined, single)).toBe('SINGLE_USER');
    expect(resolveStrategy(undefined, multi)).toBe('ALTERNATING_USERS');
    expect(resolveStrategy('SINGLE_USER', multi)).toBe('SINGLE_USER');
    expect(resolveStrategy('ALTERNATING_USERS', multi)).toBe('ALTERNATING_USERS');
  });

  test('alternating without masterarn, or an unknown tag value, is refused', () => {
    expect(() => resolveStrategy('ALTERNATING_USERS', single)).toThrow(/needs masterarn/);
    expect(() => resolveStrategy('MULTI_USER', single)).toThrow(/redshift-rotation:strategy must be SINGLE_USER or ALTERNATING_USERS/);
  });
});

describe('pending fits current', () => {
  const current = parse(base);
  test('single user: same username and target', () => {
    expect(() => checkPendingFitsCurrent(current, parse({ ...base, password: 'Other0ne' }), 'SINGLE_USER')).not.toThrow();
    expect(() => checkPendingFitsCurrent(current, parse({ ...base, username: 'app_clone' }), 'SINGLE_USER')).toThrow(/does not fit SINGLE_USER: expected "app"/);
    expect(() => checkPendingFitsCurrent(current, parse({ ...base, dbClusterIdentifier: 'c2' }), 'SINGLE_USER')).toThrow(/must be the same as in AWSCURRENT/);
    expect(() => checkPendingFitsCurrent(current, parse({ ...base, dbname: 'dev' }), 'SINGLE_USER')).toThrow(/must be the same/);
  });

  test('a pending secret for another workgroup does not fit', () => {
    const wg = parse({ ...base, dbClusterIdentifier: undefined, workgroupName: 'wg1' });
    expect(() => checkPendingFitsCurrent(wg, parse({ ...base, dbClusterIdentifier: undefined, workgroupName: 'wg2' }), 'SINGLE_USER'))
      .toThrow(/^AWSPENDING: dbClusterIdentifier, workgroupName and dbname must be the same as in AWSCURRENT$/);
  });

  test('alternating users: the other user of the pair', () => {
    expect(() => checkPendingFitsCurrent(current, parse({ ...base, username: 'app_clone' }), 'ALTERNATING_USERS')).not.toThrow();
    expect(() => checkPendingFitsCurrent(current, parse(base), 'ALTERNATING_USERS')).toThrow(/does not fit ALTERNATING_USERS: expected "app_clone"/);
    expect(() => checkPendingFitsCurrent(current, parse({ ...base, username: 'other_clone' }), 'ALTERNATING_USERS')).toThrow(/expected "app_clone"/);
  });

  test('the pending string copies every field but username and password', () => {
    const s = JSON.parse(pendingSecretString(parse({ ...base, host: 'h', masterarn: 'm' }), 'NewOne1X', 'app_clone'));
    const { password, ...rest } = s;
    expect(rest).toEqual({ ...base, password: undefined, host: 'h', masterarn: 'm', username: 'app_clone' });
    expect(password === 'NewOne1X').toBe(true);
  });
});

describe('master secrets and their targets (issue 8.3)', () => {
  const ARN_ = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:redshift/admin-AbCdEf';
  const current = parseRedshiftSecret(JSON.stringify({ engine: 'redshift', username: 'app', password: 'Pw1xxxxx', dbClusterIdentifier: 'My-Cluster' }), 'AWSCURRENT');
  const wgCurrent = parseRedshiftSecret(JSON.stringify({ engine: 'redshift', username: 'app', password: 'Pw1xxxxx', workgroupName: 'wg1' }), 'AWSCURRENT');
  const bare = { username: 'admin', password: 'x' };

  test('pairingMatches: a complete ARN exactly; a partial one as its prefix, "-" and 6 letters or digits, nothing longer', () => {
    expect(pairingMatches({ arn: ARN_, partial: false }, ARN_)).toBe(true);
    expect(pairingMatches({ arn: ARN_, partial: false }, ARN_.replace('AbCdEf', 'AbCdEg'))).toBe(false);
    const partial = ARN_.slice(0, -7);
    expect(pairingMatches({ arn: partial, partial: true }, ARN_)).toBe(true);
    expect(pairingMatches({ arn: partial, partial: true }, `${partial}-x-AbCdEf`)).toBe(false);
    expect(pairingMatches({ arn: partial.slice(0, -1), partial: true }, ARN_)).toBe(false);
    expect(pairingMatches({ arn: partial, partial: true }, `${partial}-AbCd!f`)).toBe(false);
    // exactly six characters after exactly one "-": a longer suffix or a missing "-" is another secret
    expect(pairingMatches({ arn: partial, partial: true }, `${partial}-AbCdEfGh`)).toBe(false);
    expect(pairingMatches({ arn: partial, partial: true }, `${partial}xAbCdEf`)).toBe(false);
  });

  test('masterJsonTarget: empty or non-string fields name nothing', () => {
    expect(masterJsonTarget({ ...bare, dbClusterIdentifier: '', workgroupName: 5 })).toBeUndefined();
    expect(masterJsonTarget({ ...bare, dbClusterIdentifier: 7, host: 'c9.abc.eu-west-1.redshift.amazonaws.com' })).toEqual({ dbClusterIdentifier: 'c9' });
    expect(masterJsonTarget({ ...bare, workgroupName: 'wg2', host: '' })).toEqual({ dbClusterIdentifier: undefined, workgroupName: 'wg2' });
  });

  test('checkMasterTarget: a master paired with another workgroup is refused for this one', () => {
    const wgCurrentOnly = parse({ ...base, dbClusterIdentifier: undefined, workgroupName: 'wg1' });
    const other = [{ arn: ARN_, partial: false, targets: [{ kind: 'workgroup', name: 'wg-other' }] }];
    expect(() => checkMasterTarget({ masterArn: ARN_, masterFields: bare, current: wgCurrentOnly, pairings: other }))
      .toThrow(/is paired with other targets in the rotation function's MASTER_TARGETS, not with the workgroup "wg1" of the rotated secret/);
  });

  test('checkMasterTarget: a pairing with several targets stands for each of them, and a kind never for the other', () => {
    const both = [{ arn: ARN_, partial: false, targets: [{ kind: 'cluster', name: 'my-cluster' }, { kind: 'workgroup', name: 'wg1' }] }];
    expect(() => checkMasterTarget({ masterArn: ARN_, masterFields: bare, current, pairings: both })).not.toThrow();
    expect(() => checkMasterTarget({ masterArn: ARN_, masterFields: bare, current: wgCurrent, pairings: both })).not.toThrow();
    // a cluster pairing named like the workgroup does not stand for the workgroup
    expect(() => checkMasterTarget({ masterArn: ARN_, masterFields: bare, current: wgCurrent, pairings: [{ arn: ARN_, partial: false, targets: [{ kind: 'cluster', name: 'wg1' }] }] }))
      .toThrow(`the master secret ${ARN_} is paired with other targets in the rotation function's MASTER_TARGETS, not with the workgroup "wg1" of the rotated secret; `
        + 'pass it as masterSecret of a RedshiftSecretRotation for this target (the construct pairs it with the function); nothing was changed');
    expect(() => checkMasterTarget({ masterArn: ARN_, masterFields: bare, current: wgCurrent, pairings: [] }))
      .toThrow(`the master secret ${ARN_} names no cluster or workgroup, and the deployer did not pair it with the workgroup "wg1" of the rotated secret `
        + '(the rotation function\'s MASTER_TARGETS); a master secret is used only against its own target: pass it as masterSecret of a RedshiftSecretRotation for this target, '
        + 'or add dbClusterIdentifier or workgroupName to the master secret; nothing was changed');
  });

  test('masterJsonTarget: the fields, else a Redshift host, else none', () => {
    expect(masterJsonTarget({ dbClusterIdentifier: 'c1' })).toEqual({ dbClusterIdentifier: 'c1', workgroupName: undefined });
    expect(masterJsonTarget({ host: 'wg1.111122223333.eu-west-1.redshift-serverless.amazonaws.com' })).toEqual({ workgroupName: 'wg1' });
    expect(masterJsonTarget({ host: 'db.example.com' })).toBeUndefined();
    expect(masterJsonTarget(bare)).toBeUndefined();
  });

  test('checkMasterTarget: a master naming its target is used there only (cluster ids in lower case)', () => {
    expect(() => checkMasterTarget({ masterArn: ARN_, masterFields: { ...bare, dbClusterIdentifier: 'my-cluster' }, current, pairings: [] })).not.toThrow();
    expect(() => checkMasterTarget({ masterArn: ARN_, masterFields: { ...bare, dbClusterIdentifier: 'other' }, current, pairings: [] }))
      .toThrow(/master secret's dbClusterIdentifier is not the one of the rotated secret \(cluster "my-cluster"\)/);
    expect(() => checkMasterTarget({ masterArn: ARN_, masterFields: { ...bare, workgroupName: 'wg1' }, current, pairings: [] }))
      .toThrow(/master secret's workgroupName is not the one/);
  });

  test('checkMasterTarget: a master without target fields only where paired; both must agree when both exist', () => {
    const paired = [{ arn: ARN_, partial: false, targets: [{ kind: 'workgroup', name: 'wg1' }] }];
    expect(() => checkMasterTarget({ masterArn: ARN_, masterFields: bare, current: wgCurrent, pairings: paired })).not.toThrow();
    expect(() => checkMasterTarget({ masterArn: ARN_, masterFields: bare, current, pairings: paired }))
      .toThrow(/is paired with other targets .* not with the cluster "my-cluster"/);
    expect(() => checkMasterTarget({ masterArn: ARN_, masterFields: bare, current, pairings: [] })).toThrow(/names no cluster or workgroup, and the deployer did not pair it/);
    // a workgroup pairing does not stand for a cluster of the same name
    expect(() => checkMasterTarget({ masterArn: ARN_, masterFields: bare, current, pairings: [{ arn: ARN_, partial: false, targets: [{ kind: 'workgroup', name: 'my-cluster' }] }] }))
      .toThrow(/is paired with other targets/);
    expect(() => checkMasterTarget({ masterArn: ARN_, masterFields: { ...bare, workgroupName: 'wg1' }, current: wgCurrent, pairings: [{ arn: ARN_, partial: false, targets: [{ kind: 'cluster', name: 'c' }] }] }))
      .toThrow(/is paired with other targets/);
  });
});
