/**
 * RedshiftSecretRotation's own decisions (src/redshift-secret-rotation.ts), each written against a mutant that the
 * other construct tests let through: what a warning or an error says in full, the bounds of the rotation window,
 * what a SINGLE_USER rotation does with a master, the failure alarm's rule and message, the prop checks.
 */
import * as cdk from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { newCluster, newStack, rolePolicyJson, warningsOf } from './helpers';
import {
  RedshiftRotationFunction, RedshiftSecretRotation, RedshiftSecretRotationProps, RedshiftTarget, RotationSchedule, RotationStrategy,
} from '../../src';

const MASTER_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift/admin-AbCdEf';

function rotate(stack: cdk.Stack, props: Partial<RedshiftSecretRotationProps>, id = 'Rotation'): RedshiftSecretRotation {
  return new RedshiftSecretRotation(stack, id, { target: RedshiftTarget.cluster('analytics'), ...props } as RedshiftSecretRotationProps);
}

describe('warnings, word for word', () => {
  test('a master with SINGLE_USER; none with ALTERNATING_USERS', () => {
    const stack = newStack();
    rotate(stack, { username: 'app', strategy: RotationStrategy.SINGLE_USER, masterSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'M', MASTER_ARN) });
    rotate(stack, { username: 'etl', masterSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'M2', MASTER_ARN) }, 'Alternating');
    expect(warningsOf(stack, 'masterUnused')).toEqual([
      'strategy is SINGLE_USER: the master secret is not used to rotate this secret (a created master secret is still wired and rotated) '
      + '[ack: cdk-redshift-rotation:masterUnused]',
    ]);
  });

  test('a workgroup by name only', () => {
    const stack = newStack();
    rotate(stack, { username: 'app', target: RedshiftTarget.workgroup('wg-one') });
    expect(warningsOf(stack, 'workgroupArnUnknown')).toEqual([
      'target: a workgroup given by name only lets the rotation function run statements on every workgroup of the account and region; '
      + 'pass workgroupArn to RedshiftTarget.workgroup() to scope it (the function still logs in only with the secrets it rotates) '
      + '[ack: cdk-redshift-rotation:workgroupArnUnknown]',
    ]);
  });

  test.each([
    [RotationStrategy.SINGLE_USER, {}, 'app',
      'username: the rotation function does not create the database user app (SINGLE_USER has no master secret to create it with), '
      + 'so the first rotation fails unless it exists with the secret\'s password: after deploying, read the password from the secret and run, as an admin, '
      + 'CREATE USER app PASSWORD \'<the secret\'s password>\' (and the GRANTs it needs), then rotate the secret; '
      + 'or give masterSecret or masterUsername so that the first rotation creates it (createUser) [ack: cdk-redshift-rotation:createUserManually]'],
    [RotationStrategy.ALTERNATING_USERS, { createUser: false, masterUsername: 'admin' }, 'app',
      'username: the rotation function does not create the database user app, '
      + 'so the first rotation fails unless it exists with the secret\'s password: after deploying, read the password from the secret and run, as an admin, '
      + 'CREATE USER app PASSWORD \'<the secret\'s password>\' (and the GRANTs it needs); '
      + 'or give masterSecret or masterUsername so that the first rotation creates it (createUser) [ack: cdk-redshift-rotation:createUserManually]'],
  ])('the user created by hand, %s', (strategy, props, username, expected) => {
    const stack = newStack();
    const cluster = newCluster(stack);
    rotate(stack, { username, strategy, ...props, target: RedshiftTarget.fromCfnCluster(cluster) });
    expect(warningsOf(stack, 'createUserManually')).toEqual([expected]);
  });

  test('a user name given as a token is written <username>', () => {
    const stack = newStack();
    rotate(stack, { username: new cdk.CfnParameter(stack, 'User').valueAsString });
    expect(warningsOf(stack, 'createUserManually').map((w) => w.includes('database user <username> (') && w.includes('CREATE USER <username> PASSWORD'))).toEqual([true]);
  });

  test('an imported secret: what it must hold, with the master\'s ARN', () => {
    const stack = newStack();
    rotate(stack, {
      secret: secretsmanager.Secret.fromSecretNameV2(stack, 'S', 'redshift/etl'),
      masterSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'M', MASTER_ARN),
    });
    expect(warningsOf(stack, 'importedSecret')).toEqual([
      'secret: an imported secret cannot be tagged or read here, so the rotation function takes the strategy from its JSON (ALTERNATING_USERS when it holds masterarn). '
      + `For ALTERNATING_USERS it must hold "dbClusterIdentifier": "analytics", "masterarn": "${MASTER_ARN}"; `
      + 'or tag it redshift-rotation:strategy=ALTERNATING_USERS where it is defined [ack: cdk-redshift-rotation:importedSecret]',
    ]);
  });

  test('a master whose ARN is a token is named by what it is', () => {
    const stack = newStack();
    rotate(stack, { secret: secretsmanager.Secret.fromSecretNameV2(stack, 'S', 'redshift/etl'), masterSecret: new secretsmanager.Secret(stack, 'Master') });
    expect(warningsOf(stack, 'importedSecret').map((w) => w.includes('"masterarn": "the ARN of the master secret"'))).toEqual([true]);
  });

  test('the target named in the secret\'s description: a cluster, a workgroup, or neither name when it is a token', () => {
    const stack = newStack();
    rotate(stack, { username: 'a' }, 'A');
    rotate(stack, { username: 'b', target: RedshiftTarget.workgroup('wg-one', { workgroupArn: 'arn:aws:redshift-serverless:eu-west-1:123456789012:workgroup/abc' }) }, 'B');
    rotate(stack, { username: 'c', target: RedshiftTarget.cluster(new cdk.CfnParameter(stack, 'Cluster').valueAsString) }, 'C');
    const descriptions = Object.values(Template.fromStack(stack).findResources('AWS::SecretsManager::Secret')).map((s) => s.Properties.Description).sort();
    expect(descriptions).toEqual([
      'Credentials of a on Redshift cluster analytics (rotated by cdk-redshift-rotation, SINGLE_USER)',
      'Credentials of b on Redshift Serverless workgroup wg-one (rotated by cdk-redshift-rotation, SINGLE_USER)',
      'Credentials of c on Redshift cluster (rotated by cdk-redshift-rotation, SINGLE_USER)',
    ]);
  });
});

describe('a given secret whose JSON is known', () => {
  const make = (stack: cdk.Stack, id: string, json: object) => new secretsmanager.Secret(stack, id, {
    generateSecretString: { secretStringTemplate: JSON.stringify(json), generateStringKey: 'password' },
  });
  const base = { engine: 'redshift', username: 'etl', dbname: 'dev', dbClusterIdentifier: 'analytics' };

  test('a masterarn of another master is refused, naming both problems in full', () => {
    const stack = newStack();
    const secret = make(stack, 'S', { ...base, dbClusterIdentifier: 'other', masterarn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:other-AbCdEf' });
    expect(() => rotate(stack, { secret, masterSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'M', MASTER_ARN) })).toThrow(new Error(
      'secret: its JSON does not match this rotation: dbClusterIdentifier is "other", not "analytics"; '
      + 'masterarn is "arn:aws:secretsmanager:eu-west-1:123456789012:secret:other-AbCdEf", not the masterSecret'));
  });

  test('a masterarn is not compared with a master whose ARN is a token', () => {
    const stack = newStack();
    const secret = make(stack, 'S', { ...base, masterarn: MASTER_ARN });
    expect(() => rotate(stack, { secret, masterSecret: new secretsmanager.Secret(stack, 'Master') })).not.toThrow();
  });

  test('a secret without masterarn for SINGLE_USER, and with the master\'s own ARN for ALTERNATING_USERS, is accepted', () => {
    const stack = newStack();
    expect(() => rotate(stack, { secret: make(stack, 'A', base) }, 'RotationA')).not.toThrow();
    expect(() => rotate(stack, {
      secret: make(stack, 'B', { ...base, masterarn: MASTER_ARN }),
      masterSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'M', MASTER_ARN),
    }, 'RotationB')).not.toThrow();
  });

  test('a field of the other kind of target is refused; its absence is not', () => {
    const stack = newStack();
    const workgroup = RedshiftTarget.workgroup('wg-one', { workgroupArn: 'arn:aws:redshift-serverless:eu-west-1:123456789012:workgroup/abc' });
    expect(() => rotate(stack, { secret: make(stack, 'Ok', { engine: 'redshift', username: 'a', dbname: 'dev', workgroupName: 'wg-one' }), target: workgroup }, 'RotationOk')).not.toThrow();
    expect(() => rotate(stack, { secret: make(stack, 'Bad', { ...base, workgroupName: 'wg-one' }), target: workgroup }, 'RotationBad')).toThrow(new Error(
      'secret: its JSON does not match this rotation: dbClusterIdentifier is set, but the target is Redshift Serverless workgroup wg-one'));
  });

  const literal = (stack: cdk.Stack, text: string) => new secretsmanager.Secret(stack, 'S', { secretStringValue: cdk.SecretValue.unsafePlainText(text) });

  test.each([
    ['a JSON array', '["a"]'], ['JSON null', 'null'], ['a JSON string', '"text"'], ['not JSON', 'plain text'],
  ])('a secret string that is %s is not known: a warning instead of a check', (_what, text) => {
    const stack = newStack();
    expect(() => rotate(stack, { secret: literal(stack, text) })).not.toThrow();
    expect(warningsOf(stack, 'givenSecretFields')).toHaveLength(1);
  });

  test('a secret with neither a value nor a template is not known: a warning', () => {
    const stack = newStack();
    const secret = new secretsmanager.Secret(stack, 'S');
    (secret.node.defaultChild as secretsmanager.CfnSecret).generateSecretString = undefined;
    expect(() => rotate(stack, { secret })).not.toThrow();
    expect(warningsOf(stack, 'givenSecretFields')).toHaveLength(1);
  });

  test('a literal secret string is checked like a template', () => {
    const stack = newStack();
    expect(() => rotate(stack, { secret: literal(stack, JSON.stringify({ ...base, dbClusterIdentifier: 'other' })) }))
      .toThrow(/dbClusterIdentifier is "other", not "analytics"/);
  });
});

describe('SINGLE_USER with a master', () => {
  test('a given master is not granted to the function (SINGLE_USER never reads it)', () => {
    const stack = newStack();
    rotate(stack, { username: 'app', strategy: RotationStrategy.SINGLE_USER, masterSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'M', MASTER_ARN) });
    expect(rolePolicyJson(stack).includes('redshift/admin')).toBe(false);
  });

  test('a created master is rotated on its own: the secret\'s schedule does not wait for it', () => {
    const stack = newStack();
    rotate(stack, { username: 'app', strategy: RotationStrategy.SINGLE_USER, masterUsername: 'admin', target: RedshiftTarget.fromCfnCluster(newCluster(stack)) });
    const schedules = Template.fromStack(stack).findResources('AWS::SecretsManager::RotationSchedule');
    const [secretSchedule] = Object.entries(schedules).filter(([id]) => id.startsWith('RotationRotationSchedule')).map(([, s]) => s);
    expect((secretSchedule.DependsOn as string[]).some((d) => d.startsWith('RotationMasterRotationSchedule'))).toBe(false);
  });
});

describe('the rotation window', () => {
  test.each([
    [cdk.Duration.hours(1), undefined, '1h'],
    [cdk.Duration.hours(24), undefined, '24h'],
    [cdk.Duration.hours(11), RotationSchedule.expression('rate(12 hours)'), '11h'],
    [cdk.Duration.hours(4), RotationSchedule.expression('rate(1 day)'), '4h'],
  ])('%s with %p is written %s', (rotationWindow, schedule, duration) => {
    const stack = newStack();
    rotate(stack, { username: 'app', rotationWindow, schedule });
    Template.fromStack(stack).hasResourceProperties('AWS::SecretsManager::RotationSchedule', { RotationRules: Match.objectLike({ Duration: duration }) });
  });

  test.each([
    [cdk.Duration.hours(0), undefined, 'rotationWindow: must be a whole number of hours from 1 to 24, got 0 hours'],
    [cdk.Duration.hours(25), undefined, 'rotationWindow: must be a whole number of hours from 1 to 24, got 1 day 1 hour'],
    [cdk.Duration.minutes(90), undefined, 'rotationWindow: must be a whole number of hours from 1 to 24, got 1 hour 30 minutes'],
    [cdk.Duration.hours(12), RotationSchedule.expression('rate(12 hours)'), 'rotationWindow: 12h must be shorter than the rotation interval (rate(12 hours))'],
    [cdk.Duration.hours(5), RotationSchedule.expression('rate(5 hour)'), 'rotationWindow: 5h must be shorter than the rotation interval (rate(5 hour))'],
  ])('%s with %p is refused', (rotationWindow, schedule, message) => {
    expect(() => rotate(newStack(), { username: 'app', rotationWindow, schedule })).toThrow(new Error(message));
  });
});

describe('the failure alarm', () => {
  test('one rule for the alarm topic and every metric, described, with the message the topic gets', () => {
    const stack = newStack();
    const rotation = rotate(stack, { username: 'app', alarmTopic: new sns.Topic(stack, 'Topic') });
    rotation.metricRotationFailures();
    rotation.metricRotationFailures();
    const rules = Object.values(Template.fromStack(stack).findResources('AWS::Events::Rule'));
    expect(rules).toHaveLength(1);
    expect(rules[0].Properties.Description).toBe('RotationFailed events of the Redshift secret TestStack/Rotation');
    expect(rules[0].Properties.Targets[0].InputTransformer).toEqual({
      InputPathsMap: { 'detail-additionalEventData-SecretId': '$.detail.additionalEventData.SecretId', 'detail-errorMessage': '$.detail.errorMessage' },
      InputTemplate: '"Rotation of the Redshift secret <detail-additionalEventData-SecretId> failed: <detail-errorMessage>"',
    });
  });

  test('a given secret known by its partial ARN is matched by prefix', () => {
    const stack = newStack();
    const rotation = rotate(stack, { secret: secretsmanager.Secret.fromSecretNameV2(stack, 'S', 'redshift/app') });
    rotation.metricRotationFailures();
    const [rule] = Object.values(Template.fromStack(stack).findResources('AWS::Events::Rule'));
    const ids = rule.Properties.EventPattern.detail.additionalEventData.SecretId;
    expect(ids).toEqual([{ prefix: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:eu-west-1:123456789012:secret:redshift/app-']] } }]);
  });
});

describe('prop checks', () => {
  test('a function\'s password settings may be repeated, not changed', () => {
    const stack = newStack();
    const rotationFunction = new RedshiftRotationFunction(stack, 'Fn', { passwordLength: 40, excludeCharacters: '%' });
    expect(() => rotate(stack, { username: 'a', rotationFunction, passwordLength: 40, excludeCharacters: '%' }, 'A')).not.toThrow();
    expect(() => rotate(stack, { username: 'b', rotationFunction, excludeCharacters: '%&' }, 'B')).toThrow(new Error(
      'excludeCharacters: differs from the rotationFunction\'s excludeCharacters; set it on the function instead'));
  });

  test('secretName with a given secret', () => {
    const stack = newStack();
    expect(() => rotate(stack, { secret: new secretsmanager.Secret(stack, 'S'), secretName: 'redshift/app' })).toThrow(new Error(
      'secretName: names a created secret; it cannot rename the given secret'));
  });

  test.each(['x-db', 'db-x', 'Dev', '1db', 'a'.repeat(128)])('database %s is refused', (database) => {
    expect(() => rotate(newStack(), { username: 'app', database })).toThrow(new Error(`database: '${database}' is not a plain Redshift database name`));
  });

  test.each(['dev', '_db$1', 'a'.repeat(127)])('database %s is taken', (database) => {
    expect(() => rotate(newStack(), { username: 'app', database })).not.toThrow();
  });

  test.each([
    ['app-x', 'username', 'must be a plain lowercase Redshift identifier (^[a-z_][a-z0-9_$]*$)'],
    ['a'.repeat(128), 'username', 'is longer than 127 bytes'],
  ])('username %s is refused', (username, prop, problem) => {
    expect(() => rotate(newStack(), { username })).toThrow(new Error(`${prop}: '${username}' ${problem}`));
  });

  test('the longest user names: 127 bytes for one user, 121 with an alternate (the clone appends _clone)', () => {
    expect(() => rotate(newStack(), { username: 'a'.repeat(127) })).not.toThrow();
    const alternating = (username: string) => {
      const stack = newStack();
      return () => rotate(stack, { username, masterUsername: 'admin', target: RedshiftTarget.fromCfnCluster(newCluster(stack)) });
    };
    expect(alternating('a'.repeat(121))).not.toThrow();
    expect(alternating('a'.repeat(122))).toThrow(new Error(`username: '${'a'.repeat(122)}' is longer than 121 bytes (the alternate user appends _clone)`));
  });

  test.each([
    ['admin-x', 'must be a plain lowercase Redshift identifier (^[a-z_][a-z0-9_$]*$)'],
    ['a'.repeat(128), 'is longer than 127 bytes'],
  ])('masterUsername %s is refused', (masterUsername, problem) => {
    const stack = newStack();
    expect(() => rotate(stack, { username: 'app', masterUsername })).toThrow(new Error(`masterUsername: '${masterUsername}' ${problem}`));
  });

  test('a masterUsername of 127 bytes is taken (the master is never cloned)', () => {
    const stack = newStack();
    expect(() => rotate(stack, { username: 'app', masterUsername: 'a'.repeat(127), target: RedshiftTarget.fromCfnCluster(newCluster(stack, 'Cluster', { masterUsername: 'a'.repeat(127) })) }))
      .not.toThrow();
  });
});

describe('a rotation function of another environment', () => {
  const ARN = (account: string, region: string) => `arn:aws:lambda:${region}:${account}:function:rotate`;

  test.each([
    ['another account', ARN('210987654321', 'eu-west-1'), 'rotationFunction: the function is in 210987654321/eu-west-1, but Secrets Manager only invokes a rotation function of the secret\'s own account and region (123456789012/eu-west-1)'],
    ['another region', ARN('123456789012', 'us-east-1'), 'rotationFunction: the function is in 123456789012/us-east-1, but Secrets Manager only invokes a rotation function of the secret\'s own account and region (123456789012/eu-west-1)'],
  ])('an imported function of %s is refused', (_what, arn, message) => {
    const stack = newStack();
    expect(() => rotate(stack, { username: 'app', rotationFunction: RedshiftRotationFunction.fromFunctionArn(stack, 'Fn', arn) })).toThrow(new Error(message));
  });

  test('an imported function of this environment, or whose ARN is a token, is taken', () => {
    const stack = newStack();
    expect(() => rotate(stack, { username: 'a', rotationFunction: RedshiftRotationFunction.fromFunctionArn(stack, 'Same', ARN('123456789012', 'eu-west-1')) }, 'A')).not.toThrow();
    const token = new cdk.CfnParameter(stack, 'Arn').valueAsString;
    expect(() => rotate(stack, { username: 'b', rotationFunction: RedshiftRotationFunction.fromFunctionArn(stack, 'Token', token) }, 'B')).not.toThrow();
  });

  test('a function of a stack without account or region is not compared', () => {
    const app = new cdk.App();
    const rotationFunction = new RedshiftRotationFunction(new cdk.Stack(app, 'Agnostic'), 'Fn');
    const stack = new cdk.Stack(app, 'Specific', { env: { account: '123456789012', region: 'eu-west-1' } });
    expect(() => rotate(stack, { username: 'app', rotationFunction })).not.toThrow();
  });

  test('a stack without account or region is not compared', () => {
    const app = new cdk.App();
    const agnostic = new cdk.Stack(app, 'Agnostic');
    expect(() => rotate(agnostic, { username: 'app', rotationFunction: RedshiftRotationFunction.fromFunctionArn(agnostic, 'Fn', ARN('210987654321', 'us-east-1')) }))
      .not.toThrow();
  });
});

test('a master secret of the app shared by two rotations denies the account root DeleteSecret once', () => {
  const stack = newStack();
  const master = new secretsmanager.Secret(stack, 'Master');
  rotate(stack, { username: 'a', masterSecret: master }, 'A');
  rotate(stack, { username: 'b', masterSecret: master }, 'B');
  const policies = Object.values(Template.fromStack(stack).findResources('AWS::SecretsManager::ResourcePolicy'))
    .filter((p) => JSON.stringify(p.Properties.SecretId).includes('Master'));
  expect(policies.map((p) => p.Properties.ResourcePolicy.Statement.map((s: { Effect: string; Action: string }) => `${s.Effect} ${s.Action}`)))
    .toEqual([['Deny secretsmanager:DeleteSecret']]);
});
