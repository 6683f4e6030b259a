/**
 * Shared parts of the integration tests (test/integ.*.ts), which deploy to a real account with `integ-runner`:
 * the assertions that rotate a secret twice and check its credentials through the Redshift Data API, and a
 * custom resource that creates a database user with the password of its secret.
 *
 * No assertion reads a secret value (the assertion provider logs every SDK response): the old credentials are
 * checked by moving the AWSCURRENT label back to the previous version for one statement, then forward again.
 */
import { ExpectedResult, IApiCall, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { CustomResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as redshift from 'aws-cdk-lib/aws-redshift';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Fact, FactName, RegionInfo } from 'aws-cdk-lib/region-info';
import { Construct } from 'constructs';

/**
 * aws-cdk-lib 2.176's region facts name nodejs20.x (commercial) and nodejs18.x (China, GovCloud) as the latest
 * Node.js runtime, and Lambda no longer creates functions with either (nodejs20.x: blocked from Aug 31, 2026,
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html). aws-cdk-lib's own functions (custom resource
 * providers) and integ-tests-alpha's assertion functions take their runtime from these facts: raise them to
 * nodejs22.x for this app, or the test stacks could not be deployed.
 */
export function useCreatableNodeRuntime(): void {
  for (const region of RegionInfo.regions.map((r) => r.name)) {
    const fact = Fact.find(region, FactName.LATEST_NODE_RUNTIME);
    if (fact === undefined || Number(/^nodejs(\d+)\.x$/.exec(fact)?.[1] ?? 0) < 22) {
      Fact.register({ region, name: FactName.LATEST_NODE_RUNTIME, value: 'nodejs22.x' }, true);
    }
  }
}

/** Where the Data API runs statements: a provisioned cluster or a Serverless workgroup. */
export type DataApiTarget = { ClusterIdentifier: string } | { WorkgroupName: string };

/** What the old credentials do after a rotation. */
export enum OldCredentials {
  /** SINGLE_USER: the user's password changed, the previous version no longer logs in. */
  REJECTED = 'REJECTED',
  /** ALTERNATING_USERS: the previous version is the other user, untouched, and still logs in. */
  STILL_WORK = 'STILL_WORK',
}

export interface RotationCheck {
  readonly secret: secretsmanager.ISecret;
  readonly target: DataApiTarget;
  readonly database: string;
  /** The user of AWSCURRENT after two rotations (the original user). */
  readonly currentUser: string;
  /** The user of AWSPREVIOUS after two rotations (the same user for single user, `<user>_clone` for alternating). */
  readonly previousUser: string;
  readonly old: OldCredentials;
}

/** ClientRequestTokens (32 to 64 characters) for the two rotations, so that their version ids are known. */
const FIRST = '00000000-integ-rotation-first-0000000000';
const SECOND = '00000000-integ-rotation-second-000000000';

const WAIT = { totalTimeout: Duration.minutes(15), interval: Duration.seconds(20) };

/**
 * Rotates `check.secret` twice (the second rotation turns the first one's new version into AWSPREVIOUS, under a
 * version id the test knows), then checks through the Data API that AWSCURRENT logs in as `currentUser`, and
 * that the previous version logs in as `previousUser` or is rejected, as the strategy says.
 */
export function rotateAndCheck(integ: IntegTest, id: string, check: RotationCheck): IApiCall {
  const a = integ.assertions;
  const secretId = check.secret.secretArn;

  const rotated = (token: string) => a.awsApiCall('SecretsManager', 'describeSecret', { SecretId: secretId })
    .expect(ExpectedResult.objectLike({ VersionIdsToStages: { [token]: ['AWSCURRENT'] } }))
    .waitForAssertions(WAIT);
  const rotate = (token: string) => {
    const call = a.awsApiCall('SecretsManager', 'rotateSecret', { SecretId: secretId, ClientRequestToken: token });
    // RotateSecret also needs lambda:InvokeFunction on the secret's rotation function
    call.provider.addToRolePolicy({ Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: ['*'] });
    return call;
  };
  const moveCurrent = (to: string, from: string) => a.awsApiCall('SecretsManager', 'updateSecretVersionStage', {
    SecretId: secretId, VersionStage: 'AWSCURRENT', MoveToVersionId: to, RemoveFromVersionId: from,
  });

  const first = rotate(FIRST);
  const chain = first
    .next(rotated(FIRST))
    .next(rotate(SECOND))
    .next(rotated(SECOND));

  // the new AWSCURRENT logs in as its user
  const current = runAs(integ, `${id}Current`, check);
  chain.next(current.execute);
  current.execute.next(current.status).next(current.result!);
  current.status.expect(ExpectedResult.objectLike({ Status: 'FINISHED' })).waitForAssertions(WAIT);
  current.result!.expect(ExpectedResult.objectLike({ Records: [[{ stringValue: check.currentUser }]] }));

  // the previous version, made AWSCURRENT for one statement (the Data API reads AWSCURRENT), then moved back
  const back = moveCurrent(FIRST, SECOND);
  current.result!.next(back);
  const old = runAs(integ, `${id}Previous`, check, check.old === OldCredentials.STILL_WORK);
  back.next(old.execute);
  old.execute.next(old.status);
  if (check.old === OldCredentials.STILL_WORK) {
    old.status.expect(ExpectedResult.objectLike({ Status: 'FINISHED' })).waitForAssertions(WAIT);
    old.status.next(old.result!);
    old.result!.expect(ExpectedResult.objectLike({ Records: [[{ stringValue: check.previousUser }]] }));
  } else {
    old.status.expect(ExpectedResult.objectLike({
      Status: 'FAILED',
      Error: Match.stringLikeRegexp('[Aa]uthentication|[Pp]assword'),
    })).waitForAssertions(WAIT);
  }
  const restore = moveCurrent(SECOND, FIRST);
  (old.result ?? old.status).next(restore);
  return restore;
}

function runAs(integ: IntegTest, id: string, check: RotationCheck, withResult = true) {
  const a = integ.assertions;
  const execute = a.awsApiCall('RedshiftData', 'executeStatement', {
    ...check.target,
    Database: check.database,
    SecretArn: check.secret.secretArn,
    Sql: 'SELECT current_user',
    StatementName: id,
  });
  // the Data API reads the secret with the caller's permissions
  execute.provider.addToRolePolicy({ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: [check.secret.secretArn] });
  const statementId = execute.getAttString('Id');
  const status = a.awsApiCall('RedshiftData', 'describeStatement', { Id: statementId });
  const result = withResult ? a.awsApiCall('RedshiftData', 'getStatementResult', { Id: statementId }) : undefined;
  return { execute, status, result };
}

export interface DatabaseUserProps {
  /** The secret whose `username` and `password` the user gets. */
  readonly userSecret: secretsmanager.ISecret;
  /** The admin's secret, which runs CREATE USER. */
  readonly masterSecret: secretsmanager.ISecret;
  readonly target: DataApiTarget;
  readonly targetArn: string;
  readonly database: string;
}

/**
 * Creates the database user of `userSecret` with that secret's password (as the md5 verifier
 * `'md5' + md5(password + username)`, never the password itself), through the Data API as the master user.
 * Alternating users rotate an existing user: this is what a DBA does once before the first rotation.
 */
export class DatabaseUser extends Construct {
  constructor(scope: Construct, id: string, props: DatabaseUserProps) {
    super(scope, id);
    const onEvent = new lambda.Function(this, 'Handler', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      timeout: Duration.minutes(5),
      code: lambda.Code.fromInline(CREATE_USER_HANDLER),
    });
    props.userSecret.grantRead(onEvent);
    props.masterSecret.grantRead(onEvent);
    onEvent.addToRolePolicy(new iam.PolicyStatement({ actions: ['redshift-data:ExecuteStatement'], resources: [props.targetArn] }));
    onEvent.addToRolePolicy(new iam.PolicyStatement({ actions: ['redshift-data:DescribeStatement'], resources: ['*'] }));
    const provider = new cr.Provider(this, 'Provider', { onEventHandler: onEvent });
    new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      properties: {
        UserSecretArn: props.userSecret.secretArn,
        MasterSecretArn: props.masterSecret.secretArn,
        Database: props.database,
        ...props.target,
      },
    });
  }
}

const CREATE_USER_HANDLER = `
const crypto = require('crypto');
const { SecretsManagerClient, GetSecretValueCommand } = require('@aws-sdk/client-secrets-manager');
const { RedshiftDataClient, ExecuteStatementCommand, DescribeStatementCommand } = require('@aws-sdk/client-redshift-data');
exports.handler = async (event) => {
  if (event.RequestType !== 'Create') return { PhysicalResourceId: event.PhysicalResourceId };
  const p = event.ResourceProperties;
  const secret = JSON.parse((await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: p.UserSecretArn }))).SecretString);
  if (!/^[a-z_][a-z0-9_$]*$/.test(secret.username)) throw new Error('the user secret has no plain username');
  const verifier = 'md5' + crypto.createHash('md5').update(secret.password + secret.username).digest('hex');
  const target = p.ClusterIdentifier ? { ClusterIdentifier: p.ClusterIdentifier } : { WorkgroupName: p.WorkgroupName };
  const data = new RedshiftDataClient({});
  const { Id } = await data.send(new ExecuteStatementCommand({
    ...target, Database: p.Database, SecretArn: p.MasterSecretArn, Sql: 'CREATE USER ' + secret.username + " PASSWORD '" + verifier + "'",
  }));
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const s = await data.send(new DescribeStatementCommand({ Id }));
    if (s.Status === 'FINISHED') return { PhysicalResourceId: secret.username };
    // the error text may quote the statement: never the verifier
    if (s.Status === 'FAILED' || s.Status === 'ABORTED') throw new Error('CREATE USER ' + secret.username + ': ' + s.Status + ' ' + String(s.Error).split(verifier).join('[verifier]'));
  }
};
`;

/**
 * The smallest provisioned cluster (one ra3.xlplus node) in isolated subnets of `vpc`, deleted with the stack
 * (no final snapshot). The Data API reaches it without any network path from the caller.
 */
export function smallCluster(
  scope: Construct, vpc: ec2.IVpc, props: { clusterIdentifier: string; masterUserPassword?: string },
): redshift.CfnCluster {
  const subnets = new redshift.CfnClusterSubnetGroup(scope, 'ClusterSubnets', {
    description: 'integ test cluster subnets',
    subnetIds: vpc.isolatedSubnets.map((s) => s.subnetId),
  });
  const cluster = new redshift.CfnCluster(scope, 'Cluster', {
    clusterIdentifier: props.clusterIdentifier,
    clusterType: 'single-node',
    nodeType: 'ra3.xlplus',
    dbName: 'dev',
    masterUsername: 'admin',
    // when not given, RedshiftSecretRotation's masterUsername sets it (a dynamic reference to the master secret)
    masterUserPassword: props.masterUserPassword,
    clusterSubnetGroupName: subnets.ref,
    encrypted: true,
    publiclyAccessible: false,
  });
  cluster.applyRemovalPolicy(RemovalPolicy.DESTROY);
  return cluster;
}

/** A VPC with isolated subnets only (no NAT gateway, no internet gateway). */
export function isolatedVpc(scope: Construct, maxAzs = 2): ec2.Vpc {
  return new ec2.Vpc(scope, 'Vpc', {
    maxAzs,
    natGateways: 0,
    restrictDefaultSecurityGroup: false, // no custom resource: nothing in these tests uses the default group
    subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
  });
}
