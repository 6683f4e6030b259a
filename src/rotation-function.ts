import * as path from 'path';
import { Annotations, Arn, ArnFormat, CfnResource, Duration, Lazy, Names, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Fact, FactName, RegionInfo } from 'aws-cdk-lib/region-info';
import { Construct, IConstruct } from 'constructs';
import { RotationNetwork } from './network';
import { RedshiftTarget } from './target';

/** Characters Redshift never accepts in a password: `'` `"` `\` `/` `@` and space. */
const REDSHIFT_FORBIDDEN = '\'"\\/@ ';
const DEFAULT_PASSWORD_LENGTH = 32;
/** The probe prefix of every function starts with this; the default adds a stable id of the function. */
const DEFAULT_PROBE_PREFIX_ROOT = 'redshift-rotation-probe/';
/** The probe tag naming the function that made the probe (the handler's PROBE_FUNCTION_TAG). */
const PROBE_FUNCTION_TAG = 'redshift-rotation:probe-for-function';
/** The probe tag naming the rotated secret (the handler's PROBE_TAG). */
const PROBE_SECRET_TAG = 'RotationProbeFor';
/** What a rotation grants the function for its target, and for a master secret the function does not rotate. */
const RUN_STATEMENT_ACTIONS = ['redshift-data:ExecuteStatement', 'redshift-data:BatchExecuteStatement'];
const MASTER_SECRET_ACTIONS = ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'];
/** Lambda's limit on the environment variables of a function, names and values together. */
const ENVIRONMENT_LIMIT_BYTES = 4096;
/** What MASTER_TARGETS appends to a partial secret ARN (as IAM's `-??????`): the handler matches `-` and 6 characters. */
const PARTIAL_ARN_SUFFIX = '-??????';

/** A master secret's ARN as granted and paired: complete, or partial with {@link PARTIAL_ARN_SUFFIX}. */
function masterSecretArn(secret: secretsmanager.ISecret): string {
  return secret.secretFullArn ?? `${secret.secretArn}${PARTIAL_ARN_SUFFIX}`;
}

interface MasterPairing {
  /** a complete ARN, or a partial one with {@link PARTIAL_ARN_SUFFIX} */
  readonly arn: string;
  /** `cluster:<resolved>` → `cluster:<name>` */
  readonly targets: Map<string, string>;
}

/** What the function needs besides one statement of `statementTimeout`: `statementTimeout + this <= timeout`. */
const STATEMENT_TIMEOUT_SPARE = Duration.seconds(30);

/**
 * A function that rotates Redshift secrets: a `RedshiftRotationFunction` of this app or one imported by ARN.
 */
export interface IRedshiftRotationFunction extends IConstruct, ec2.IConnectable, iam.IGrantable {
  /**
   * The ARN of the Lambda function, as the secrets' rotation schedules name it.
   *
   * @attribute
   */
  readonly functionArn: string;

  /**
   * Whether the function runs in a VPC.
   */
  readonly isInVpc: boolean;

  /**
   * Allows the function to run statements on a cluster or workgroup (`redshift-data:ExecuteStatement` and
   * `BatchExecuteStatement` on its ARN). Each distinct target adds one ARN to the role's policy.
   * An imported function adds it to the role given to `fromFunctionAttributes()`, or warns without one.
   */
  addTarget(target: RedshiftTarget): void;

  /**
   * Allows the function to read a master secret (`GetSecretValue`, `DescribeSecret`). Master secrets the function
   * also rotates need no such grant; each other distinct master adds one ARN to the role's policy.
   * An imported function adds it to its given role, or warns without one.
   *
   * With `target`, the function may also use the master against that cluster or workgroup: a master secret whose
   * JSON names no `dbClusterIdentifier` / `workgroupName` (a Redshift-managed admin secret) is used only against the
   * targets it is paired with (the function's `MASTER_TARGETS` environment variable). A master whose JSON names its
   * target needs no pairing.
   *
   * @param secret the master secret
   * @param target the cluster or workgroup the master may be used against
   */
  addMasterSecret(secret: secretsmanager.ISecret, target?: RedshiftTarget): void;

  /**
   * Allows the function to use a KMS key through Secrets Manager only (`kms:Decrypt`, `kms:GenerateDataKey` with
   * `kms:ViaService`), for secrets encrypted with it and their probe secrets. An imported function adds it to its
   * given role, or warns without one.
   */
  addEncryptionKey(key: kms.IKey): void;
}

/**
 * The settings of a rotation function that a `RedshiftSecretRotation` can also take, to pick (or create) the
 * stack's shared function with these settings.
 */
export interface RotationFunctionOptions {
  /**
   * The VPC to place the function in. The function reaches Redshift through the Data API, so it needs a VPC only
   * when your organisation requires one.
   *
   * @default - not in a VPC
   */
  readonly vpc?: ec2.IVpc;

  /**
   * The subnets of `vpc` for the function (and for the endpoints `RotationNetwork.interfaceEndpoints()` creates).
   *
   * @default - the VPC's private subnets (with egress if there are any, else isolated)
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Security groups of the function.
   *
   * @default - a security group of its own that allows only outbound HTTPS to the endpoints
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * How the function reaches the Secrets Manager and Redshift Data API endpoints from `vpc`.
   *
   * @default - `RotationNetwork.interfaceEndpoints()` when any of the subnets is isolated, else
   * `RotationNetwork.natGateway()`; nothing without `vpc`
   */
  readonly network?: RotationNetwork;

  /**
   * Length of the passwords the function draws, 8 to 64 (Redshift's limits).
   *
   * @default 32
   */
  readonly passwordLength?: number;

  /**
   * Characters never used in passwords, in addition to the ones Redshift forbids (`'` `"` `\` `/` `@` and space).
   *
   * @default - only the characters Redshift forbids
   */
  readonly excludeCharacters?: string;

  /**
   * SQL statements that the new credentials must run in the testSecret step, after `SELECT 1`.
   *
   * @default - only `SELECT 1`
   */
  readonly testStatements?: string[];

  /**
   * A customer-managed KMS key (symmetric) that encrypts the function's log group. The key policy of a key defined
   * in this app gets the statement CloudWatch Logs needs (the `logs.<region>.amazonaws.com` principal, for log
   * groups of this account and region only, by `kms:EncryptionContext:aws:logs:arn`); for an imported key a warning
   * says what to add to its policy.
   *
   * @default - the log group is encrypted by CloudWatch Logs' own keys
   */
  readonly logGroupEncryptionKey?: kms.IKey;

  /**
   * Whether the function may give superuser (`CREATEUSER`) to the alternate user of an `ALTERNATING_USERS` secret
   * whose user is a superuser. Without it, such a rotation fails before any change, and a superuser is rotated with
   * `SINGLE_USER`. A setting of the function (environment variable `ALLOW_SUPERUSER_CLONE`), never of a secret.
   *
   * @default false
   */
  readonly allowSuperuserClone?: boolean;
}

/**
 * Properties of a `RedshiftRotationFunction`.
 */
export interface RedshiftRotationFunctionProps extends RotationFunctionOptions {
  /**
   * Name prefix of the probe secrets the function creates (and may only create) to test new credentials.
   * Whatever the prefix, the function may read and delete only the probes tagged with its own name
   * (`redshift-rotation:probe-for-function`).
   *
   * @default - `redshift-rotation-probe/<id>/`, with an id of 16 hex digits derived from the function's construct
   * path: unique per function, and stable across deployments
   */
  readonly probeSecretPrefix?: string;

  /**
   * How long one SQL statement may run before it is cancelled and the step fails.
   *
   * It must fit in `timeout` with 30 seconds to spare (for the Secrets Manager calls, the probe secret and the
   * cleanup the function keeps time for): `statementTimeout + 30 seconds <= timeout`. The function also stops
   * waiting for a statement when the invocation's own time runs out.
   *
   * @default Duration.minutes(1)
   */
  readonly statementTimeout?: Duration;

  /**
   * The Lambda function's timeout. At least `statementTimeout` plus 30 seconds.
   *
   * @default Duration.minutes(5)
   */
  readonly timeout?: Duration;

  /**
   * The Lambda function's memory, in MiB.
   *
   * @default 256
   */
  readonly memorySize?: number;

  /**
   * The Node.js runtime. Set it to pin one (e.g. `lambda.Runtime.NODEJS_22_X`), so that an upgrade of aws-cdk-lib
   * does not change it.
   *
   * @default - the newest Node.js runtime that aws-cdk-lib's region facts say Lambda offers in the stack's region
   * (`determineLatestNodeRuntime`), but never older than `nodejs22.x`; `nodejs22.x` in regions where aws-cdk-lib
   * names an older one (China, GovCloud with aws-cdk-lib 2.176) or knows nothing; for an env-agnostic stack, the
   * runtime every region of its target partitions would get
   */
  readonly runtime?: lambda.Runtime;

  /**
   * How long the function's logs are kept.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * A permissions boundary for the function's role (`iam.PermissionsBoundary.of(scope).apply()` works too).
   *
   * @default - no permissions boundary
   */
  readonly permissionsBoundary?: iam.IManagedPolicy;

  /**
   * A name for the function.
   *
   * @default - a name CloudFormation generates
   */
  readonly functionName?: string;
}

/**
 * The rotation Lambda function (Node.js, arm64) with its role, log group and network placement. One function
 * rotates any number of Redshift secrets, of both strategies, on provisioned clusters and Serverless workgroups;
 * each `RedshiftSecretRotation` shares the stack's function unless it is given one.
 *
 * The role has a constant size: the secret permissions are conditioned on the secret's rotation function being
 * this one (`secretsmanager:resource/AllowRotationLambdaArn`), so adding a secret changes no policy.
 *
 * @example
 * // one function for the secrets of several stacks, in isolated subnets, with its runtime pinned
 * const rotator = new RedshiftRotationFunction(sharedStack, 'Rotator', {
 *   vpc,
 *   vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
 *   runtime: lambda.Runtime.NODEJS_22_X,
 * });
 * rotator.addTarget(RedshiftTarget.cluster('analytics'));
 */
export class RedshiftRotationFunction extends Construct implements IRedshiftRotationFunction {
  /**
   * Uses a rotation function defined elsewhere (another stack or app of the same account), e.g. the
   * `functionArn` of a `RedshiftRotationFunction`. Its role and invoke permission are managed where it is
   * defined: call `addTarget()` / `addMasterSecret()` / `addEncryptionKey()` on it there for the secrets
   * rotated here (each grant a rotation here needs is a warning), or use `fromFunctionAttributes()` with its role.
   */
  public static fromFunctionArn(scope: Construct, id: string, functionArn: string): IRedshiftRotationFunction {
    return new ImportedRedshiftRotationFunction(scope, id, { functionArn });
  }

  /**
   * Uses a rotation function defined elsewhere, with its role (so that the grants the rotations here need are
   * added to it in this stack) and its security groups.
   */
  public static fromFunctionAttributes(scope: Construct, id: string, attrs: RedshiftRotationFunctionAttributes): IRedshiftRotationFunction {
    return new ImportedRedshiftRotationFunction(scope, id, attrs);
  }

  /**
   * The key that identifies the configuration of the function that secrets may share.
   *
   * @internal
   */
  public static _configKey(props: RedshiftRotationFunctionProps): string {
    const parts: string[] = [];
    if (props.vpc) {
      const subnets = props.vpc.selectSubnets(props.vpcSubnets);
      parts.push(props.vpc.node.path, ...subnets.subnets.map((s) => s.node.path));
      parts.push(...(props.securityGroups ?? []).map((sg) => sg.node.path));
      parts.push(props.network?._key ?? 'default');
    }
    if (props.passwordLength !== undefined && props.passwordLength !== DEFAULT_PASSWORD_LENGTH) {
      parts.push(`length=${props.passwordLength}`);
    }
    if (props.excludeCharacters) {
      parts.push(`exclude=${props.excludeCharacters}`);
    }
    if (props.testStatements && props.testStatements.length > 0) {
      parts.push(`tests=${JSON.stringify(props.testStatements)}`);
    }
    if (props.logGroupEncryptionKey) {
      parts.push(`logKey=${props.logGroupEncryptionKey.node.path}`);
    }
    if (props.allowSuperuserClone) {
      parts.push('superuserClone');
    }
    return parts.join('|');
  }

  /** The Lambda function. */
  public readonly lambdaFunction: lambda.Function;

  /** The function's role. */
  public readonly role: iam.IRole;

  /** The function's log group. */
  public readonly logGroup: logs.ILogGroup;

  /** The ARN of the Lambda function. */
  public readonly functionArn: string;

  /** The principal the function runs as. */
  public readonly grantPrincipal: iam.IPrincipal;

  /** Length of the passwords the function draws. */
  public readonly passwordLength: number;

  /** Characters the function never puts in a password, besides the ones Redshift forbids. */
  public readonly excludeCharacters: string;

  /** The SQL statements run in testSecret after `SELECT 1`. */
  public readonly testStatements: string[];

  /** Name prefix of the probe secrets. */
  public readonly probeSecretPrefix: string;

  /** Whether the function runs in a VPC. */
  public readonly isInVpc: boolean;

  /** Whether the function may give superuser to the alternate user of a superuser. */
  public readonly allowSuperuserClone: boolean;

  private readonly policy: iam.Policy;
  private readonly masterPairs = new Map<string, MasterPairing>();
  private readonly grants: RotationGrants;

  constructor(scope: Construct, id: string, props: RedshiftRotationFunctionProps = {}) {
    super(scope, id);
    validateFunctionProps(props);
    const stack = Stack.of(this);

    this.passwordLength = props.passwordLength ?? DEFAULT_PASSWORD_LENGTH;
    this.excludeCharacters = props.excludeCharacters ?? '';
    this.testStatements = props.testStatements ?? [];
    this.probeSecretPrefix = props.probeSecretPrefix ?? `${DEFAULT_PROBE_PREFIX_ROOT}${this.node.addr.slice(2, 18)}/`;
    this.isInVpc = props.vpc !== undefined;
    this.allowSuperuserClone = props.allowSuperuserClone ?? false;

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.logGroupEncryptionKey,
    });
    if (props.logGroupEncryptionKey) {
      allowLogsToUseKey(this, props.logGroupEncryptionKey);
    }

    // Permissions the function needs before it can be created (logs, and ENIs in a VPC) live in the role;
    // the rest, which names the function's ARN, in a separate policy that the rotation schedules wait for.
    const bootstrap = new iam.PolicyDocument({
      statements: [new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      })],
    });
    if (props.vpc) {
      bootstrap.addStatements(new iam.PolicyStatement({
        actions: [
          'ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses',
        ],
        resources: ['*'],
      }));
    }
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Rotates Amazon Redshift secrets through the Redshift Data API',
      inlinePolicies: { Bootstrap: bootstrap },
      permissionsBoundary: props.permissionsBoundary,
    });
    this.role = role;
    this.grantPrincipal = role;

    let securityGroups: ec2.ISecurityGroup[] | undefined;
    let subnets: ec2.SelectedSubnets | undefined;
    if (props.vpc) {
      subnets = props.vpc.selectSubnets(props.vpcSubnets);
      if (subnets.hasPublic) {
        throw new Error('vpcSubnets: the rotation function cannot run in public subnets (a Lambda function gets no public IP there); choose PRIVATE_WITH_EGRESS or PRIVATE_ISOLATED subnets');
      }
      securityGroups = props.securityGroups ?? [new ec2.SecurityGroup(this, 'SecurityGroup', {
        vpc: props.vpc,
        description: 'Redshift rotation function: outbound HTTPS to Secrets Manager and the Redshift Data API only',
        allowAllOutbound: false,
      })];
    }

    this.lambdaFunction = new lambda.Function(this, 'Function', {
      code: lambda.Code.fromAsset(path.join(__dirname, '..', 'assets', 'lambda', 'rotation', 'index')),
      handler: 'index.handler',
      runtime: props.runtime ?? defaultNodeRuntime(this),
      architecture: lambda.Architecture.ARM_64,
      description: 'Rotates Amazon Redshift secrets through the Redshift Data API (cdk-redshift-rotation)',
      functionName: props.functionName,
      role,
      timeout: props.timeout ?? Duration.minutes(5),
      memorySize: props.memorySize ?? 256,
      logGroup: this.logGroup,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups,
      environment: {
        PASSWORD_LENGTH: String(this.passwordLength),
        EXCLUDE_CHARACTERS: this.excludeCharacters,
        PROBE_SECRET_PREFIX: this.probeSecretPrefix,
        TEST_STATEMENTS: JSON.stringify(this.testStatements),
        STATEMENT_TIMEOUT_MS: String((props.statementTimeout ?? Duration.minutes(1)).toMilliseconds()),
        ...(this.allowSuperuserClone ? { ALLOW_SUPERUSER_CLONE: 'true' } : {}),
      },
    });
    this.functionArn = this.lambdaFunction.functionArn;
    this.node.addValidation({ validate: () => this.validateEnvironmentSize() });

    if (props.vpc && subnets) {
      const network = props.network ?? defaultNetwork(props.vpc, subnets);
      const binding = network._bind(this, props.vpc, subnets, {
        connections: this.lambdaFunction.connections,
        roleArn: role.roleArn,
        actions: (service) => this.actionsOf(service),
      });
      for (const dependable of binding.dependables) {
        this.lambdaFunction.node.addDependency(dependable);
      }
      for (const [name, value] of Object.entries(binding.environment)) {
        this.lambdaFunction.addEnvironment(name, value);
      }
    }

    // One invoke permission for every secret of the account: no per-secret resource.
    this.lambdaFunction.addPermission('InvokeBySecretsManager', {
      principal: new iam.ServicePrincipal('secretsmanager.amazonaws.com'),
      action: 'lambda:InvokeFunction',
      sourceAccount: stack.account,
    });

    const secretArn = (name: string) => stack.formatArn({
      service: 'secretsmanager', resource: 'secret', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.policy = new iam.Policy(this, 'Policy', {
      roles: [role],
      statements: [
        new iam.PolicyStatement({
          sid: 'RotatedSecrets',
          actions: [
            'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue',
            'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage',
            // only when an existing alternate user is not proven by AWSPREVIOUS or AWSPENDING: an abandoned rotation's version
            'secretsmanager:ListSecretVersionIds',
          ],
          resources: [secretArn('*')],
          conditions: { StringEquals: { 'secretsmanager:resource/AllowRotationLambdaArn': this.functionArn } },
        }),
        // Probes: made with the function's tag (request tag), then read and deleted only with it (resource tag). The
        // handler makes a probe with CreateSecret (tags given at creation need TagResource too), reads one it finds in
        // the way (GetSecretValue, also the Data API reading it as the caller) and force-deletes it (DeleteSecret).
        new iam.PolicyStatement({
          sid: 'CreateProbeSecrets',
          actions: ['secretsmanager:CreateSecret', 'secretsmanager:TagResource'],
          resources: [secretArn(`${this.probeSecretPrefix}*`)],
          conditions: {
            'StringEquals': { [`aws:RequestTag/${PROBE_FUNCTION_TAG}`]: this.lambdaFunction.functionName },
            'ForAllValues:StringEquals': { 'aws:TagKeys': [PROBE_SECRET_TAG, PROBE_FUNCTION_TAG] },
          },
        }),
        new iam.PolicyStatement({
          sid: 'UseProbeSecrets',
          actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DeleteSecret'],
          resources: [secretArn(`${this.probeSecretPrefix}*`)],
          conditions: { StringEquals: { [`aws:ResourceTag/${PROBE_FUNCTION_TAG}`]: this.lambdaFunction.functionName } },
        }),
        new iam.PolicyStatement({
          sid: 'Unscoped',
          actions: ['secretsmanager:GetRandomPassword'],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'OwnStatements',
          actions: [
            'redshift-data:DescribeStatement', 'redshift-data:GetStatementResult',
            'redshift-data:CancelStatement', 'redshift-data:ListStatements',
          ],
          resources: ['*'],
          conditions: { StringEquals: { 'redshift-data:statement-owner-iam-userid': '${aws:userid}' } },
        }),
      ],
    });

    this.grants = new RotationGrants(this, (statement) => this.policy.addStatements(statement));

    addNagSuppressions(this.policy.node.defaultChild as CfnResource, [{
      id: 'AwsSolutions-IAM5',
      reason: 'Rotated secrets: any secret of the account and region whose rotation function is this one (condition secretsmanager:resource/AllowRotationLambdaArn), so the policy does not grow with the number of secrets. '
        + 'Probe secrets: only names under the function\'s probe prefix, made with and used only with the tag naming this function (aws:RequestTag, aws:ResourceTag). GetRandomPassword supports no resource. '
        + 'DescribeStatement, GetStatementResult, CancelStatement, ListStatements: only statements this role submitted (redshift-data:statement-owner-iam-userid). '
        + 'Serverless workgroups given by name only: IAM knows workgroups by id.',
      appliesTo: [
        { regex: '/^Resource::arn:<AWS::Partition>:secretsmanager:[^:]+:[^:]+:secret:\\*$/' },
        { regex: `/^Resource::arn:<AWS::Partition>:secretsmanager:[^:]+:[^:]+:secret:${escapeRegex(this.probeSecretPrefix)}\\*$/` },
        'Resource::*',
        { regex: '/^Resource::arn:<AWS::Partition>:redshift-serverless:[^:]+:[^:]+:workgroup\\/\\*$/' },
      ],
    }]);
    if (props.vpc) {
      addNagSuppressions(role.node.defaultChild as CfnResource, [{
        id: 'AwsSolutions-IAM5',
        reason: 'ec2:CreateNetworkInterface and the other ENI actions Lambda needs to place the function in a VPC support no resource-level scoping (as in AWSLambdaVPCAccessExecutionRole, written inline).',
        appliesTo: ['Resource::*'],
      }]);
    }
    addNagSuppressions(role.node.defaultChild as CfnResource, [{
      id: 'AwsSolutions-IAM5',
      reason: 'Log streams of the function\'s own log group: stream names are chosen by Lambda at run time.',
      appliesTo: [{ regex: '/^Resource::<.*LogGroup.*\\.Arn>:\\*$/g' } as any],
    }]);
  }

  /**
   * The security groups of the function.
   *
   * Throws when the function is not in a VPC.
   */
  public get connections(): ec2.Connections {
    if (!this.isInVpc) {
      throw new Error(`${this.node.path}: the rotation function is not in a VPC and has no connections; give it a vpc to use its security groups`);
    }
    return this.lambdaFunction.connections;
  }

  public addTarget(target: RedshiftTarget): void {
    this.grants.addTarget(target);
  }

  public addMasterSecret(secret: secretsmanager.ISecret, target?: RedshiftTarget): void {
    this.grants.addMasterSecret(secret);
    if (target) {
      this._pairMaster(this, secret, target);
    }
  }

  public addEncryptionKey(key: kms.IKey): void {
    this.grants.addEncryptionKey(key);
  }

  /**
   * Lets the function use a master secret against a target (`MASTER_TARGETS`), for a rotation in `scope`. A master
   * or target defined by a token in another stack than the function's cannot be written into the function's
   * environment (the two stacks would depend on each other): then a warning says what to put in the master secret.
   *
   * @internal
   */
  public _pairMaster(scope: Construct, secret: secretsmanager.ISecret, target: RedshiftTarget): void {
    const arn = masterSecretArn(secret);
    const name = target.clusterIdentifier ?? target.workgroupName!;
    const kind = target.clusterIdentifier !== undefined ? 'cluster' : 'workgroup';
    if (Stack.of(scope) !== Stack.of(this) && (Token.isUnresolved(arn) || Token.isUnresolved(name))) {
      Annotations.of(scope).addWarningV2('cdk-redshift-rotation:masterTargetUnpaired',
        `masterSecret: the master secret or the ${kind} is defined in another stack than the rotation function, so the function cannot be told at synth that this master `
        + `may be used against this ${kind}; it uses a master only against the target its JSON names: put "${kind === 'cluster' ? 'dbClusterIdentifier' : 'workgroupName'}" in the master secret, `
        + 'or give the master and the target by literal ARN and name');
      return;
    }
    const key = JSON.stringify(Stack.of(this).resolve(arn));
    let pairing = this.masterPairs.get(key);
    if (!pairing) {
      pairing = { arn, targets: new Map() };
      this.masterPairs.set(key, pairing);
      if (this.masterPairs.size === 1) {
        this.lambdaFunction.addEnvironment('MASTER_TARGETS', Lazy.string({ produce: () => this.masterTargetsJson() }));
      }
    }
    pairing.targets.set(`${kind}:${JSON.stringify(Stack.of(this).resolve(name))}`, `${kind}:${name}`);
  }

  /** MASTER_TARGETS: `[[master ARN (or partial ARN + "-??????"), "cluster:<id>" | "workgroup:<name>", …], …]`. */
  private masterTargetsJson(): string {
    const entries = [...this.masterPairs.values()].map((p) => [p.arn, ...p.targets.values()]);
    return Stack.of(this).toJsonString(entries);
  }

  /**
   * Lambda allows 4 KB of environment variables in all (names and values,
   * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). A value known only at deploy time
   * counts as its longest likely length: a secret ARN 200 bytes, a cluster or workgroup name 64, anything else 128.
   */
  private validateEnvironmentSize(): string[] {
    const cfn = this.lambdaFunction.node.defaultChild as lambda.CfnFunction;
    // lambda.Function renders its environment lazily: resolve the property, then read its variables
    const env = Stack.of(this).resolve(cfn.environment) as { variables?: Record<string, unknown>; Variables?: Record<string, unknown> } | undefined;
    const variables = env?.variables ?? env?.Variables ?? {};
    let size = 0;
    for (const [name, value] of Object.entries(variables)) {
      size += Buffer.byteLength(name);
      if (name === 'MASTER_TARGETS') {
        size += this.masterTargetsSize();
      } else {
        size += typeof value === 'string' ? Buffer.byteLength(value) : 128;
      }
    }
    if (size <= ENVIRONMENT_LIMIT_BYTES) {
      return [];
    }
    return [`the rotation function's environment variables would take about ${size} bytes, over Lambda's limit of ${ENVIRONMENT_LIMIT_BYTES} `
      + `(MASTER_TARGETS pairs ${this.masterPairs.size} master secret(s) with their targets; values known only at deploy time are counted at their likely longest: `
      + '200 bytes for a secret ARN, 64 for a name). Use a second RedshiftRotationFunction (rotationFunction) for some of the secrets, '
      + 'give master secrets that name their cluster or workgroup in their JSON (they need no pairing), or shorten testStatements'];
  }

  /**
   * The length of MASTER_TARGETS, exact for literal values: `[` and `]`; per pair `[`, `]`, a comma between pairs and
   * the quoted ARN; per target a comma and the quoted `kind:name`.
   */
  private masterTargetsSize(): number {
    let size = 1;
    for (const p of this.masterPairs.values()) {
      size += 5 + (Token.isUnresolved(p.arn) ? 200 : Buffer.byteLength(p.arn));
      for (const t of p.targets.values()) {
        // `kind:name`: a name known only at deploy time counts 64 bytes
        const name = t.slice(t.indexOf(':') + 1);
        size += 3 + (Token.isUnresolved(name) ? t.length - name.length + 64 : Buffer.byteLength(t));
      }
    }
    return size;
  }

  /**
   * Where a rotation in `scope` adds its grants: this function when `scope` is in the function's stack; else a
   * policy on the function's role in `scope`'s stack, so that the function's stack never refers to the
   * consumer's resources (which would make a cycle with the consumer's reference to the function's ARN).
   *
   * @internal
   */
  public _grantsIn(scope: Construct): IRotationGrants {
    const here = Stack.of(scope);
    const home = Stack.of(this);
    if (here === home) {
      return this;
    }
    if (dependsOn(home, here)) {
      throw new Error(`rotationFunction: the function's stack ${home.node.path} depends on ${here.node.path}, which uses the function, so the two would depend on each other; `
        + `define the function in ${here.node.path} (or in a stack that does not depend on it), or use RedshiftRotationFunction.fromFunctionAttributes() with its role`);
    }
    const id = `RedshiftRotationGrants${Names.uniqueId(this).slice(-8)}`;
    const existing = here.node.tryFindChild(id);
    return existing instanceof CrossStackGrants ? existing : new CrossStackGrants(here, id, this.role);
  }

  /**
   * The actions of the role's rotation policy for one service prefix, as synthesized.
   */
  private actionsOf(service: string): string[] {
    // never empty: the policy is made with its statements
    const document = Stack.of(this).resolve(this.policy.document.toJSON()) as { Statement: Array<{ Action: string | string[] }> };
    // the grants of rotations in other stacks live in their stacks' policies: their actions count too
    const own = document.Statement
      .flatMap((statement) => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]));
    return [...own, ...RUN_STATEMENT_ACTIONS, ...MASTER_SECRET_ACTIONS].filter((action) => action.startsWith(`${service}:`));
  }

  /**
   * The function's errors (each failed rotation step), from the `AWS/Lambda` `Errors` metric, summed over
   * 5 minutes unless `props` say otherwise.
   */
  public metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.lambdaFunction.metricErrors(props);
  }

}

/**
 * Where a rotation adds the grants its secret needs (not part of the public API).
 */
export interface IRotationGrants extends IConstruct {
  addTarget(target: RedshiftTarget): void;
  addMasterSecret(secret: secretsmanager.ISecret): void;
  addEncryptionKey(key: kms.IKey): void;
}

/**
 * The grants of the rotations that use a function: one statement for the Data API targets, one for master secrets,
 * one for KMS keys (through Secrets Manager only), each growing by one ARN per distinct target, master or key.
 */
class RotationGrants {
  private readonly targets = new Set<string>();
  private readonly masters = new Set<string>();
  private readonly keys = new Set<string>();
  private dataApiStatement?: iam.PolicyStatement;
  private masterStatement?: iam.PolicyStatement;
  private kmsStatement?: iam.PolicyStatement;

  constructor(private readonly scope: IConstruct, private readonly addStatement: (statement: iam.PolicyStatement) => void) {}

  public addTarget(target: RedshiftTarget): void {
    const arn = target._dataApiResourceArn(this.scope);
    if (this.targets.has(arn)) {
      return;
    }
    this.targets.add(arn);
    if (!this.dataApiStatement) {
      this.dataApiStatement = new iam.PolicyStatement({
        sid: 'RunStatements',
        actions: RUN_STATEMENT_ACTIONS,
      });
      this.addStatement(this.dataApiStatement);
    }
    this.dataApiStatement.addResources(arn);
  }

  public addMasterSecret(secret: secretsmanager.ISecret): void {
    const arn = masterSecretArn(secret);
    if (this.masters.has(arn)) {
      return;
    }
    this.masters.add(arn);
    if (!this.masterStatement) {
      this.masterStatement = new iam.PolicyStatement({
        sid: 'MasterSecrets',
        actions: MASTER_SECRET_ACTIONS,
      });
      this.addStatement(this.masterStatement);
    }
    this.masterStatement.addResources(arn);
    if (secret.encryptionKey) {
      this.addEncryptionKey(secret.encryptionKey);
    }
  }

  public addEncryptionKey(key: kms.IKey): void {
    if (this.keys.has(key.keyArn)) {
      return;
    }
    this.keys.add(key.keyArn);
    if (!this.kmsStatement) {
      const stack = Stack.of(this.scope);
      this.kmsStatement = new iam.PolicyStatement({
        sid: 'SecretsKeys',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.${stack.urlSuffix}` } },
      });
      this.addStatement(this.kmsStatement);
    }
    this.kmsStatement.addResources(key.keyArn);
  }
}

/**
 * The grants of a function's rotations in another stack (or of an imported function with a role): a policy on the
 * function's role, created in the rotations' stack on first use.
 */
class CrossStackGrants extends Construct implements IRotationGrants {
  private readonly grants: RotationGrants;
  private policy?: iam.Policy;

  constructor(scope: Construct, id: string, role: iam.IRole) {
    super(scope, id);
    this.grants = new RotationGrants(this, (statement) => {
      if (!this.policy) {
        this.policy = new iam.Policy(this, 'Policy', { roles: [role] });
        addNagSuppressions(this.policy.node.defaultChild as CfnResource, [{
          id: 'AwsSolutions-IAM5',
          reason: 'Serverless workgroups given by name only: IAM knows workgroups by id. Master secrets given by partial ARN end in the 6 random characters Secrets Manager adds.',
          appliesTo: [
            { regex: '/^Resource::arn:<AWS::Partition>:redshift-serverless:[^:]+:[^:]+:workgroup\\/\\*$/' },
            { regex: '/^Resource::.*-\\?\\?\\?\\?\\?\\?$/' },
          ],
        }]);
      }
      this.policy.addStatements(statement);
    });
  }

  public addTarget(target: RedshiftTarget): void {
    this.grants.addTarget(target);
  }

  public addMasterSecret(secret: secretsmanager.ISecret): void {
    this.grants.addMasterSecret(secret);
  }

  public addEncryptionKey(key: kms.IKey): void {
    this.grants.addEncryptionKey(key);
  }
}

/**
 * Attributes of a rotation function defined elsewhere, for `RedshiftRotationFunction.fromFunctionAttributes()`.
 */
export interface RedshiftRotationFunctionAttributes {
  /**
   * The ARN of the Lambda function.
   */
  readonly functionArn: string;

  /**
   * The function's role. The grants that rotations here need (targets, master secrets, KMS keys) are added to it
   * as a policy in this stack.
   *
   * @default - no grants can be applied here: each one the rotations need is a warning, and must be added where
   * the function is defined
   */
  readonly role?: iam.IRole;

  /**
   * The function's security groups, when it runs in a VPC (for `connections`).
   *
   * @default - the function has no connections here
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
}

class ImportedRedshiftRotationFunction extends Construct implements IRedshiftRotationFunction {
  public readonly functionArn: string;
  public readonly grantPrincipal: iam.IPrincipal;
  public readonly isInVpc: boolean;
  private readonly securityGroups?: ec2.ISecurityGroup[];
  private readonly grants?: CrossStackGrants;
  private readonly warned = new Set<string>();

  constructor(scope: Construct, id: string, attrs: RedshiftRotationFunctionAttributes) {
    super(scope, id);
    const functionArn = attrs.functionArn;
    if (!Token.isUnresolved(functionArn)) {
      const parsed = Arn.split(functionArn, ArnFormat.COLON_RESOURCE_NAME);
      if (parsed.service !== 'lambda' || parsed.resource !== 'function') {
        throw new Error(`rotationFunction: '${functionArn}' is not the ARN of a Lambda function`);
      }
    }
    this.functionArn = functionArn;
    this.grantPrincipal = attrs.role ?? new iam.UnknownPrincipal({ resource: this });
    this.securityGroups = attrs.securityGroups;
    this.isInVpc = (attrs.securityGroups ?? []).length > 0;
    if (attrs.role) {
      this.grants = new CrossStackGrants(this, 'Grants', attrs.role);
    }
  }

  public get connections(): ec2.Connections {
    if (!this.securityGroups || this.securityGroups.length === 0) {
      throw new Error(`${this.node.path}: an imported rotation function has no connections unless its securityGroups are given to fromFunctionAttributes()`);
    }
    return new ec2.Connections({ securityGroups: this.securityGroups });
  }

  public addTarget(target: RedshiftTarget): void {
    if (this.grants) {
      this.grants.addTarget(target);
    } else {
      const name = target.clusterIdentifier ?? target.workgroupName ?? '';
      const what = target.clusterIdentifier !== undefined ? 'cluster' : 'workgroup';
      this.warnGrant(`redshift-data:ExecuteStatement and BatchExecuteStatement on the ${what}${Token.isUnresolved(name) ? '' : ` ${name}`} (addTarget)`);
    }
  }

  public addMasterSecret(secret: secretsmanager.ISecret, target?: RedshiftTarget): void {
    if (target) {
      const kind = target.clusterIdentifier !== undefined ? 'cluster' : 'workgroup';
      Annotations.of(this).addWarningV2('cdk-redshift-rotation:masterTargetUnpaired',
        `masterSecret: an imported rotation function's environment cannot be changed here, so it cannot be told that this master may be used against this ${kind}; `
        + `it uses a master only against the target its JSON names (put "${kind === 'cluster' ? 'dbClusterIdentifier' : 'workgroupName'}" in the master secret), `
        + 'or call addMasterSecret(secret, target) on the function where it is defined');
    }
    if (this.grants) {
      this.grants.addMasterSecret(secret);
    } else {
      const arn = secret.secretFullArn ?? secret.secretArn;
      this.warnGrant(`secretsmanager:GetSecretValue and DescribeSecret on the master secret ${Token.isUnresolved(arn) ? secret.node.path : arn} (addMasterSecret)`);
    }
  }

  public addEncryptionKey(key: kms.IKey): void {
    if (this.grants) {
      this.grants.addEncryptionKey(key);
    } else {
      this.warnGrant(`kms:Decrypt and kms:GenerateDataKey through Secrets Manager on the key ${Token.isUnresolved(key.keyArn) ? key.node.path : key.keyArn} (addEncryptionKey)`);
    }
  }

  private warnGrant(grant: string): void {
    if (this.warned.has(grant)) {
      return;
    }
    this.warned.add(grant);
    Annotations.of(this).addWarningV2('cdk-redshift-rotation:importedFunctionGrant',
      `rotationFunction: an imported function without its role cannot be granted ${grant}; `
      + 'call it on the function where it is defined, or pass role to RedshiftRotationFunction.fromFunctionAttributes()');
  }
}

/** Whether `stack` depends on `other`, directly or through other stacks. */
function dependsOn(stack: Stack, other: Stack, seen = new Set<Stack>()): boolean {
  if (seen.has(stack)) {
    return false;
  }
  seen.add(stack);
  return stack.dependencies.some((d) => d === other || dependsOn(d, other, seen));
}

/**
 * The oldest Node.js runtime the function uses by default: the handler is bundled for Node.js 20 syntax
 * (esbuild `target: 'node20'`) and tested on Node.js 20, and nodejs22.x is the oldest Node.js runtime Lambda still
 * lets you create (nodejs20.x: deprecated Apr 30, 2026, function create blocked from Aug 31, 2026;
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html).
 */
const NODE_RUNTIME_FLOOR = 'nodejs22.x';

/** The major version of a `nodejsNN.x` runtime name, 0 for anything else. */
function nodeMajor(name: string | undefined): number {
  return Number(/^nodejs(\d+)\.x$/.exec(name ?? '')?.[1] ?? 0);
}

/**
 * The default runtime: the newest Node.js that aws-cdk-lib's region facts (`LATEST_NODE_RUNTIME`, what
 * `determineLatestNodeRuntime` reads) say Lambda offers in the stack's region, never older than the floor; the
 * floor where aws-cdk-lib names an older runtime (China, GovCloud and ISO regions in 2.176) or knows nothing of the
 * region. An env-agnostic stack gets, as a literal, the runtime every region of its target partitions
 * (`@aws-cdk/core:target-partitions`, else all) would get, so that the template deploys in any of them.
 */
function defaultNodeRuntime(scope: Construct): lambda.Runtime {
  const stack = Stack.of(scope);
  const choose = (fact: string | undefined) => (nodeMajor(fact) > nodeMajor(NODE_RUNTIME_FLOOR) ? fact! : NODE_RUNTIME_FLOOR);
  let name: string;
  if (!Token.isUnresolved(stack.region)) {
    name = choose(Fact.find(stack.region, FactName.LATEST_NODE_RUNTIME));
  } else {
    const partitions = stack.node.tryGetContext(cxapi.TARGET_PARTITIONS);
    const facts = Array.isArray(partitions)
      ? RegionInfo.limitedRegionMap(FactName.LATEST_NODE_RUNTIME, partitions)
      : RegionInfo.regionMap(FactName.LATEST_NODE_RUNTIME);
    const names = Object.values(facts).map(choose);
    name = names.length === 0 ? NODE_RUNTIME_FLOOR : names.reduce((a, b) => (nodeMajor(b) < nodeMajor(a) ? b : a));
  }
  return lambda.Runtime.ALL.find((r) => r.name === name && r.family === lambda.RuntimeFamily.NODEJS)
    ?? new lambda.Runtime(name, lambda.RuntimeFamily.NODEJS, { supportsInlineCode: true });
}

/**
 * The key policy statement CloudWatch Logs needs to encrypt a log group with a customer-managed key
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html), for the log groups of the
 * stack's account and region (naming this log group's ARN would make the key depend on the log group that depends
 * on it). A warning for a key whose policy this app does not manage.
 */
function allowLogsToUseKey(scope: Construct, key: kms.IKey): void {
  const stack = Stack.of(scope);
  const statement = new iam.PolicyStatement({
    sid: 'CloudWatchLogsOfRedshiftRotation',
    principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
    conditions: {
      ArnLike: {
        'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
          service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
    },
  });
  if (!key.addToResourcePolicy(statement).statementAdded) {
    const literal = (value: string, placeholder: string) => (Token.isUnresolved(value) ? placeholder : value);
    const region = literal(stack.region, '<region>');
    Annotations.of(scope).addWarningV2('cdk-redshift-rotation:logKeyPolicy',
      `logGroupEncryptionKey: the key is not managed by this app, so its policy cannot be changed here; add a statement that allows the service principal logs.${region}.amazonaws.com `
      + 'kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, kms:GenerateDataKey*, kms:Describe* on the key, with the condition ArnLike kms:EncryptionContext:aws:logs:arn '
      + `arn:${literal(stack.partition, '<partition>')}:logs:${region}:${literal(stack.account, '<account>')}:log-group:*, or the log group cannot be created`);
  }
}

function escapeRegex(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function defaultNetwork(vpc: ec2.IVpc, subnets: ec2.SelectedSubnets): RotationNetwork {
  const isolated = new Set(vpc.isolatedSubnets.map((s) => s.subnetId));
  // an isolated subnet has no way out but endpoints, which serve the subnets with egress as well
  const anyIsolated = subnets.subnets.some((s) => isolated.has(s.subnetId));
  return anyIsolated ? RotationNetwork.interfaceEndpoints() : RotationNetwork.natGateway();
}

/**
 * Throws for settings the rotation function cannot honour, naming the prop.
 *
 * @internal
 */
export function validateFunctionProps(props: RedshiftRotationFunctionProps): void {
  if (props.securityGroups && !props.vpc) {
    throw new Error('securityGroups: security groups need a vpc; set vpc or remove securityGroups');
  }
  if (props.vpcSubnets && !props.vpc) {
    throw new Error('vpcSubnets: subnets need a vpc; set vpc or remove vpcSubnets');
  }
  if (props.network && !props.vpc) {
    throw new Error('network: a network path is only needed in a VPC; set vpc or remove network');
  }
  if (props.passwordLength !== undefined && !Token.isUnresolved(props.passwordLength)
    && (!Number.isInteger(props.passwordLength) || props.passwordLength < 8 || props.passwordLength > 64)) {
    throw new Error(`passwordLength: Redshift passwords have 8 to 64 characters, got ${props.passwordLength}`);
  }
  if (props.excludeCharacters !== undefined && !Token.isUnresolved(props.excludeCharacters)) {
    const excluded = new Set(props.excludeCharacters + REDSHIFT_FORBIDDEN);
    const missing = [['uppercase letter', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'], ['lowercase letter', 'abcdefghijklmnopqrstuvwxyz'], ['digit', '0123456789']]
      .filter(([, chars]) => [...chars].every((c) => excluded.has(c)))
      .map(([what]) => what);
    if (missing.length > 0) {
      throw new Error(`excludeCharacters: excludes every ${missing.join(' and every ')}, so no valid Redshift password remains (it needs an uppercase letter, a lowercase letter and a digit)`);
    }
  }
  if (props.testStatements) {
    props.testStatements.forEach((sql, i) => {
      if (!Token.isUnresolved(sql) && sql.trim().length === 0) {
        throw new Error(`testStatements: statement ${i} is empty`);
      }
    });
  }
  if (props.probeSecretPrefix !== undefined && !Token.isUnresolved(props.probeSecretPrefix)
    && !/^[A-Za-z0-9/_+=.@-]{1,200}$/.test(props.probeSecretPrefix)) {
    throw new Error(`probeSecretPrefix: '${props.probeSecretPrefix}' must be 1 to 200 characters of A-Z a-z 0-9 / _ + = . @ -`);
  }
  if (props.statementTimeout && !props.statementTimeout.isUnresolved()) {
    const ms = props.statementTimeout.toMilliseconds();
    if (ms < 1000 || ms > 840_000) {
      throw new Error(`statementTimeout: must be between 1 second and 14 minutes, got ${props.statementTimeout.toHumanString()}`);
    }
  }
  const statementTimeout = props.statementTimeout ?? Duration.minutes(1);
  const timeout = props.timeout ?? Duration.minutes(5);
  if (!statementTimeout.isUnresolved() && !timeout.isUnresolved()
    && statementTimeout.toMilliseconds() + STATEMENT_TIMEOUT_SPARE.toMilliseconds() > timeout.toMilliseconds()) {
    throw new Error(`statementTimeout: ${statementTimeout.toHumanString()}${props.statementTimeout ? '' : ' (the default)'} does not fit in timeout `
      + `(${timeout.toHumanString()}${props.timeout ? '' : ', the default'}): one statement may run that long and the function needs `
      + `${STATEMENT_TIMEOUT_SPARE.toHumanString()} more for its Secrets Manager calls, its probe secret and cleanup; make timeout at least `
      + `statementTimeout plus ${STATEMENT_TIMEOUT_SPARE.toHumanString()}, or lower statementTimeout`);
  }
}

/**
 * The characters a secret's generated password excludes: Redshift's forbidden ones plus the user's.
 *
 * @internal
 */
export function passwordExclusions(excludeCharacters: string | undefined): string {
  const all = REDSHIFT_FORBIDDEN + (excludeCharacters ?? '');
  return [...new Set(all)].join('');
}

interface NagSuppression {
  readonly id: string;
  readonly reason: string;
  readonly appliesTo?: any[];
}

/**
 * Writes cdk-nag suppressions as resource metadata (the format cdk-nag reads), so that users' cdk-nag runs see
 * the reasons without this library depending on cdk-nag.
 *
 * @internal
 */
export function addNagSuppressions(resource: CfnResource, suppressions: NagSuppression[]): void {
  const existing = resource.getMetadata('cdk_nag')?.rules_to_suppress ?? [];
  resource.addMetadata('cdk_nag', {
    rules_to_suppress: [
      ...existing,
      ...suppressions.map((s) => ({ id: s.id, reason: s.reason, ...(s.appliesTo ? { applies_to: s.appliesTo } : {}) })),
    ],
  });
}

/** The `RotationFunctionOptions` part of props that carry more. */
export function rotationFunctionOptions(props: RotationFunctionOptions): RotationFunctionOptions {
  return {
    vpc: props.vpc,
    vpcSubnets: props.vpcSubnets,
    securityGroups: props.securityGroups,
    network: props.network,
    passwordLength: props.passwordLength,
    excludeCharacters: props.excludeCharacters,
    testStatements: props.testStatements,
    logGroupEncryptionKey: props.logGroupEncryptionKey,
    allowSuperuserClone: props.allowSuperuserClone,
  };
}
