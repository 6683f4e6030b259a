import * as crypto from 'crypto';
import { Annotations, Duration, RemovalPolicy, Stack, Tags, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct, IConstruct } from 'constructs';
import {
  IRedshiftRotationFunction, IRotationGrants, RedshiftRotationFunction, RotationFunctionOptions, passwordExclusions, rotationFunctionOptions,
  validateFunctionProps,
} from './rotation-function';
import { RotationSchedule, rateExpression } from './schedule';
import { RotationStrategy } from './strategy';
import { RedshiftTarget } from './target';

/**
 * Properties of a `RedshiftSecretRotation`.
 */
export interface RedshiftSecretRotationProps extends RotationFunctionOptions {
  /**
   * The cluster or Serverless workgroup the credentials are for.
   */
  readonly target: RedshiftTarget;

  /**
   * The database the rotation function connects to (`dbname` of a created secret). Cannot be given with `secret`,
   * whose own `dbname` is used.
   *
   * @default - the target's database when this app defines it (`CfnCluster.dbName`, or `CfnNamespace.dbName` of a
   * workgroup's namespace), else 'dev'
   */
  readonly database?: string;

  /**
   * The database user whose credentials a new secret holds. With a master secret (`ALTERNATING_USERS`), the first
   * rotation creates the user when it does not exist (`createUser`); otherwise it must exist with the secret's
   * password (or be the admin user of a cluster or namespace whose password the secret sets). Give `username` or
   * `secret`.
   *
   * @default - none: `secret` must be given
   */
  readonly username?: string;

  /**
   * An existing secret to rotate, used as is: a JSON secret with `username`, `password`, and `dbClusterIdentifier`
   * or `workgroupName` (and `masterarn` for alternating users). Give `username` or `secret`.
   *
   * @default - none: a secret is created for `username`
   */
  readonly secret?: secretsmanager.ISecret;

  /**
   * How the credentials are rotated.
   *
   * @default - `ALTERNATING_USERS` when `masterSecret` or `masterUsername` is given, else `SINGLE_USER`
   */
  readonly strategy?: RotationStrategy;

  /**
   * An existing secret of a user that may create and alter users (the admin), for `ALTERNATING_USERS`.
   *
   * @default - none, or the one created from `masterUsername`
   */
  readonly masterSecret?: secretsmanager.ISecret;

  /**
   * Create the master secret for this admin user, wire it as the admin password of the target (the
   * `MasterUserPassword` of a `CfnCluster`, or the `AdminUserPassword` of the namespace of a `CfnWorkgroup`,
   * defined in this app) through a dynamic reference, and rotate it too, with `SINGLE_USER`.
   *
   * @default - no master secret is created
   */
  readonly masterUsername?: string;

  /**
   * Rotate after this interval, from 4 hours to 1000 days. Give `automaticallyAfter` or `schedule`.
   *
   * @default - `Duration.days(30)` when `schedule` is not given
   */
  readonly automaticallyAfter?: Duration;

  /**
   * When to rotate: a rate or a cron expression (UTC). Give `automaticallyAfter` or `schedule`.
   *
   * @default - every `automaticallyAfter`
   */
  readonly schedule?: RotationSchedule;

  /**
   * How long the rotation window lasts after the schedule starts it, in whole hours (1 to 24).
   *
   * @default - Secrets Manager's default: one hour for schedules in hours, the rest of the UTC day otherwise
   */
  readonly rotationWindow?: Duration;

  /**
   * Whether to rotate as soon as the rotation is deployed or its configuration changes.
   *
   * @default true
   */
  readonly rotateImmediatelyOnUpdate?: boolean;


  /**
   * The KMS key that encrypts the secret (and a created master secret). For a given `secret`, the key the
   * function must be allowed to use when it is not known from the secret.
   *
   * @default - the secret's own key if known, else the AWS managed key `aws/secretsmanager`
   */
  readonly encryptionKey?: kms.IKey;


  /**
   * The rotation function to use, e.g. one shared by secrets of several stacks, or one imported with
   * `RedshiftRotationFunction.fromFunctionArn()`. Then `vpc`, `vpcSubnets`, `securityGroups`, `network`,
   * `testStatements` and `logGroupEncryptionKey` cannot be given (they are settings of the function).
   *
   * @default - the stack's shared function for this network placement and password settings, created on first use
   */
  readonly rotationFunction?: IRedshiftRotationFunction;


  /**
   * An SNS topic told about each failed rotation of the secret (and of a created master secret).
   *
   * @default - no notification; see `metricRotationFailures()`
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * Whether the first rotation creates the database user when it does not exist: the user with the secret's
   * password, then its alternate user (`<username>_clone`). Needs `ALTERNATING_USERS` (the master secret creates
   * the users). The construct tells the function through the secret's tag `redshift-rotation:create-user` = `true`;
   * the function only ever creates users that do not exist, never alters one that does because of it.
   *
   * Without it (or with `SINGLE_USER`), the user must exist with the secret's password before the first rotation
   * (a warning says how to create it).
   *
   * @default - true for a created secret rotated with `ALTERNATING_USERS`; false for a given secret
   */
  readonly createUser?: boolean;

  /**
   * A name for the created secret.
   *
   * @default - a name CloudFormation generates
   */
  readonly secretName?: string;

  /**
   * What happens to the created secret and the created master secret when they are removed from the stack (or the
   * stack is deleted). A created master secret is the source of the admin password of the cluster or namespace, so
   * deleting it loses that password. Given secrets are never affected.
   *
   * Every rotated secret of the app (created or given) also denies `secretsmanager:DeleteSecret` to the account
   * root in its resource policy, as aws-cdk-lib's rotation does, so that no one deletes it by hand while it rotates.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

const WARNING_PREFIX = 'cdk-redshift-rotation';

/**
 * Rotates the credentials of an Amazon Redshift user (provisioned cluster or Serverless workgroup) kept in a
 * Secrets Manager secret, with the stack's shared Node.js rotation function, which runs all of its SQL through
 * the Redshift Data API.
 *
 * Adds the secret (unless given), its rotation schedule and, with `alarmTopic`, one EventBridge rule to the
 * stack; the function, its role and network resources are created once per stack and shared.
 *
 * @example
 * // user `etl` of cluster `analytics`, alternating with `etl_clone` every 30 days
 * const admin = secretsmanager.Secret.fromSecretCompleteArn(this, 'Admin', adminSecretArn);
 * const etl = new RedshiftSecretRotation(this, 'Etl', {
 *   target: RedshiftTarget.cluster('analytics'),
 *   username: 'etl',
 *   masterSecret: admin,
 * });
 * etl.grantRead(new iam.ServicePrincipal('ecs-tasks.amazonaws.com'));
 */
export class RedshiftSecretRotation extends Construct implements ec2.IConnectable {
  /**
   * The tag that tells the rotation function the strategy of a secret (`SINGLE_USER` or `ALTERNATING_USERS`).
   */
  public static readonly STRATEGY_TAG_KEY = 'redshift-rotation:strategy';

  /**
   * The tag that asks the rotation function to create the secret's database users that do not exist (`true`).
   */
  public static readonly CREATE_USER_TAG_KEY = 'redshift-rotation:create-user';

  /** The rotated secret. */
  public readonly secret: secretsmanager.ISecret;

  /**
   * The master secret used for alternating users, given or created.
   *
   * @default - none (single user)
   */
  public readonly masterSecret?: secretsmanager.ISecret;

  /** The function that rotates the secret. */
  public readonly rotationFunction: IRedshiftRotationFunction;

  /** The strategy the secret is rotated with. */
  public readonly strategy: RotationStrategy;

  /** The target of the credentials. */
  public readonly target: RedshiftTarget;

  /**
   * The database of a created secret (`dbname`).
   *
   * @default - a given secret: its own `dbname`
   */
  public readonly database?: string;

  /** The secret's rotation schedule. */
  public readonly rotationSchedule: secretsmanager.CfnRotationSchedule;

  /**
   * The rotation schedule of the created master secret.
   *
   * @default - no master secret was created
   */
  public readonly masterRotationSchedule?: secretsmanager.CfnRotationSchedule;

  private failureRule?: events.Rule;
  private readonly targetDependency?: IConstruct;
  private readonly grants: IRotationGrants;
  private readonly monitoredSecrets: secretsmanager.ISecret[];

  constructor(scope: Construct, id: string, props: RedshiftSecretRotationProps) {
    super(scope, id);
    validateProps(props);
    this.target = props.target;
    const lookup = this.target._lookup(this);
    const database = props.database ?? lookup.database ?? 'dev';
    this.database = props.secret ? undefined : database;
    this.targetDependency = lookup.dependency;
    const hasMaster = props.masterSecret !== undefined || props.masterUsername !== undefined;
    this.strategy = props.strategy ?? (hasMaster ? RotationStrategy.ALTERNATING_USERS : RotationStrategy.SINGLE_USER);
    if (this.strategy === RotationStrategy.ALTERNATING_USERS && !hasMaster) {
      throw new Error('strategy: ALTERNATING_USERS needs a master secret to create and alter the alternate user; give masterSecret or masterUsername');
    }
    if (this.strategy === RotationStrategy.SINGLE_USER && hasMaster) {
      Annotations.of(this).addWarningV2(`${WARNING_PREFIX}:masterUnused`,
        'strategy is SINGLE_USER: the master secret is not used to rotate this secret (a created master secret is still wired and rotated)');
    }
    if (props.username !== undefined && !Token.isUnresolved(props.username)) {
      validateUsername(props.username, 'username', this.strategy === RotationStrategy.ALTERNATING_USERS);
    }

    // The rotation function: given, or the stack's shared one for this placement and password settings.
    this.rotationFunction = props.rotationFunction ?? sharedFunction(this, rotationFunctionOptions(props));
    const fn = this.rotationFunction;
    if (props.rotationFunction) {
      assertSameEnvironment(this, props.rotationFunction);
    }
    if (props.rotationFunction instanceof RedshiftRotationFunction) {
      if (props.passwordLength !== undefined && props.passwordLength !== props.rotationFunction.passwordLength) {
        throw new Error(`passwordLength: the rotationFunction draws passwords of ${props.rotationFunction.passwordLength} characters; set passwordLength on the function instead`);
      }
      if (props.excludeCharacters !== undefined && props.excludeCharacters !== props.rotationFunction.excludeCharacters) {
        throw new Error('excludeCharacters: differs from the rotationFunction\'s excludeCharacters; set it on the function instead');
      }
    }
    if (this.target._isWildcardWorkgroup) {
      Annotations.of(this).addWarningV2(`${WARNING_PREFIX}:workgroupArnUnknown`,
        'target: a workgroup given by name only lets the rotation function run statements on every workgroup of the account and region; '
        + 'pass workgroupArn to RedshiftTarget.workgroup() to scope it (the function still logs in only with the secrets it rotates)');
    }
    // grants go where they make no cycle: into the function's policy, or a policy of this stack for a function of another
    const grants: IRotationGrants = fn instanceof RedshiftRotationFunction ? fn._grantsIn(this) : fn;
    this.grants = grants;
    grants.addTarget(this.target);

    const schedule = this.rotationRules(props);
    const rotateImmediately = props.rotateImmediatelyOnUpdate;

    // The master secret: given, or created and wired as the admin password.
    this.monitoredSecrets = [];
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    if (props.masterSecret) {
      this.masterSecret = props.masterSecret;
      // SINGLE_USER never reads a given master: the function gets no access to it
      if (this.strategy === RotationStrategy.ALTERNATING_USERS) {
        if (fn instanceof RedshiftRotationFunction) {
          // a master without target fields is used only against the targets it is paired with (MASTER_TARGETS)
          grants.addMasterSecret(props.masterSecret);
          fn._pairMaster(this, props.masterSecret, this.target);
        } else {
          fn.addMasterSecret(props.masterSecret, this.target);
        }
      }
      denyAccountRootDelete(props.masterSecret);
    } else if (props.masterUsername !== undefined) {
      const wiring = this.target._prepareAdminPassword(this, props.masterUsername);
      const master = new secretsmanager.Secret(this, 'MasterSecret', {
        removalPolicy,
        description: `Admin credentials of ${describeTarget(this.target)} (rotated by cdk-redshift-rotation)`,
        encryptionKey: props.encryptionKey,
        generateSecretString: {
          secretStringTemplate: Stack.of(this).toJsonString({
            engine: 'redshift', username: props.masterUsername, dbname: database, ...wiring.fields,
          }),
          generateStringKey: 'password',
          excludeCharacters: passwordExclusions(props.excludeCharacters),
          passwordLength: props.passwordLength ?? passwordLengthOf(fn),
          requireEachIncludedType: true,
        },
      });
      Tags.of(master).add(RedshiftSecretRotation.STRATEGY_TAG_KEY, RotationStrategy.SINGLE_USER);
      denyAccountRootDelete(master);
      registerRotation(this, master);
      const validation = wiring.wire(master);
      this.node.addValidation({ validate: validation });
      this.masterSecret = master;
      this.masterRotationSchedule = this.addSchedule('MasterRotationSchedule', master, schedule, rotateImmediately);
      this.monitoredSecrets.push(master);
    }

    // The secret: given, or created with a password drawn under Redshift's rules.
    if (props.secret) {
      this.secret = props.secret;
      registerRotation(this, props.secret);
      this.checkGivenSecret(props.secret);
    } else {
      const template: { [key: string]: string | number } = {
        engine: 'redshift',
        username: props.username!,
        dbname: database,
        ...this.target._secretFields(),
      };
      if (lookup.endpoint) {
        // what clients need to connect (the function itself uses the Data API and ignores them)
        template.host = lookup.endpoint.host;
        template.port = lookup.endpoint.port;
      }
      if (this.strategy === RotationStrategy.ALTERNATING_USERS) {
        template.masterarn = this.masterSecret!.secretArn;
      }
      const created = new secretsmanager.Secret(this, 'Secret', {
        secretName: props.secretName,
        removalPolicy,
        description: `Credentials of ${props.username} on ${describeTarget(this.target)} (rotated by cdk-redshift-rotation, ${this.strategy})`,
        encryptionKey: props.encryptionKey,
        generateSecretString: {
          secretStringTemplate: Stack.of(this).toJsonString(template),
          generateStringKey: 'password',
          excludeCharacters: passwordExclusions(props.excludeCharacters),
          passwordLength: props.passwordLength ?? passwordLengthOf(fn),
          requireEachIncludedType: true,
        },
      });
      Tags.of(created).add(RedshiftSecretRotation.STRATEGY_TAG_KEY, this.strategy);
      this.secret = created;
    }
    this.configureUserCreation(props);
    denyAccountRootDelete(this.secret);
    const key = props.encryptionKey ?? this.secret.encryptionKey;
    if (key) {
      grants.addEncryptionKey(key);
    }

    this.rotationSchedule = this.addSchedule('RotationSchedule', this.secret, schedule, rotateImmediately);
    if (this.masterRotationSchedule && this.strategy === RotationStrategy.ALTERNATING_USERS) {
      // the first alternating rotation logs in as the master: let the master's own first rotation go first
      this.rotationSchedule.node.addDependency(this.masterRotationSchedule);
    }
    this.monitoredSecrets.unshift(this.secret);

    if (props.alarmTopic) {
      this.failureEventRule().addTarget(new targets.SnsTopic(props.alarmTopic, {
        message: events.RuleTargetInput.fromText(
          `Rotation of the Redshift secret ${events.EventField.fromPath('$.detail.additionalEventData.SecretId')} failed: `
          + `${events.EventField.fromPath('$.detail.errorMessage')}`),
      }));
    }
  }

  /**
   * The security groups of the rotation function. Throws when the function is not in a VPC.
   */
  public get connections(): ec2.Connections {
    return this.rotationFunction.connections;
  }

  /**
   * Grants reading the secret (`GetSecretValue`, `DescribeSecret`, and decrypting with its key).
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.secret.grantRead(grantee);
  }

  /**
   * The number of failed rotations of the secret (and of a created master secret).
   *
   * Counts the Secrets Manager `RotationFailed` events (delivered to EventBridge through CloudTrail) that an
   * EventBridge rule of this construct matches: the `AWS/Events` `TriggeredRules` metric of that rule, summed over
   * 5 minutes unless `props` say otherwise. The first call adds the rule (no target) when `alarmTopic` did not.
   * The metric has no data points until a rotation fails: alarm on it with
   * `treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING`.
   */
  public metricRotationFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    const rule = this.failureEventRule();
    return new cloudwatch.Metric({
      namespace: 'AWS/Events',
      metricName: 'TriggeredRules',
      dimensionsMap: { RuleName: rule.ruleName },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.minutes(5),
      ...props,
    });
  }

  private failureEventRule(): events.Rule {
    if (!this.failureRule) {
      this.failureRule = new events.Rule(this, 'RotationFailedRule', {
        description: `RotationFailed events of the Redshift secret ${this.node.path}`,
        eventPattern: {
          source: ['aws.secretsmanager'],
          detailType: ['AWS Service Event via CloudTrail'],
          detail: {
            eventSource: ['secretsmanager.amazonaws.com'],
            eventName: ['RotationFailed'],
            additionalEventData: {
              SecretId: this.monitoredSecrets.flatMap((s) => (s.secretFullArn
                ? [s.secretFullArn]
                : events.Match.prefix(`${s.secretArn}-`))),
            },
          },
        },
      });
    }
    return this.failureRule;
  }

  private rotationRules(props: RedshiftSecretRotationProps): secretsmanager.CfnRotationSchedule.RotationRulesProperty {
    const expression = props.schedule
      ? props.schedule.expressionString
      : rateExpression(props.automaticallyAfter ?? Duration.days(30), 'automaticallyAfter');
    let duration: string | undefined;
    if (props.rotationWindow) {
      const hours = props.rotationWindow.toHours({ integral: false });
      if (!Number.isInteger(hours) || hours < 1 || hours > 24) {
        throw new Error(`rotationWindow: must be a whole number of hours from 1 to 24, got ${props.rotationWindow.toHumanString()}`);
      }
      const rate = /^rate\((\d+) hours?\)$/.exec(expression);
      if (rate && hours >= Number(rate[1])) {
        throw new Error(`rotationWindow: ${hours}h must be shorter than the rotation interval (${expression})`);
      }
      duration = `${hours}h`;
    }
    return { scheduleExpression: expression, duration };
  }

  private addSchedule(id: string, secret: secretsmanager.ISecret, rules: secretsmanager.CfnRotationSchedule.RotationRulesProperty,
    rotateImmediatelyOnUpdate: boolean | undefined): secretsmanager.CfnRotationSchedule {
    const schedule = new secretsmanager.CfnRotationSchedule(this, id, {
      secretId: secret.secretArn,
      rotationLambdaArn: this.rotationFunction.functionArn,
      rotationRules: rules,
      rotateImmediatelyOnUpdate,
    });
    // the first rotation runs at deployment: wait for the function, its permissions and endpoints, and the database
    schedule.node.addDependency(this.rotationFunction);
    if (this.grants !== this.rotationFunction) {
      schedule.node.addDependency(this.grants);
    }
    if (this.targetDependency) {
      schedule.node.addDependency(this.targetDependency);
    }
    return schedule;
  }

  /**
   * A given secret: tagged with the strategy when this app manages it, and checked against the target, the
   * strategy and the master where its JSON is known; otherwise a warning says what the secret must hold.
   */
  private checkGivenSecret(secret: secretsmanager.ISecret): void {
    const cfn = secret.node.defaultChild;
    const expected = this.expectedFields();
    const alternating = this.strategy === RotationStrategy.ALTERNATING_USERS;
    const masterArn = alternating && this.masterSecret && !Token.isUnresolved(this.masterSecret.secretArn) ? this.masterSecret.secretArn : undefined;
    const wanted = [
      ...Object.entries(expected).map(([k, v]) => `"${k}": "${v}"`),
      alternating ? `"masterarn": "${masterArn ?? 'the ARN of the master secret'}"` : 'no "masterarn"',
    ].join(', ');
    if (!(cfn instanceof secretsmanager.CfnSecret)) {
      // an imported secret cannot be tagged: the function picks the strategy from its JSON (masterarn or not)
      Annotations.of(this).addWarningV2(`${WARNING_PREFIX}:importedSecret`,
        'secret: an imported secret cannot be tagged or read here, so the rotation function takes the strategy from its JSON (ALTERNATING_USERS when it holds masterarn). '
        + `For ${this.strategy} it must hold ${wanted}; or tag it ${RedshiftSecretRotation.STRATEGY_TAG_KEY}=${this.strategy} where it is defined`);
      return;
    }
    Tags.of(secret).add(RedshiftSecretRotation.STRATEGY_TAG_KEY, this.strategy);
    const json = literalSecretJson(cfn);
    if (json === undefined) {
      Annotations.of(this).addWarningV2(`${WARNING_PREFIX}:givenSecretFields`,
        `secret: its JSON is not known at synth, so it cannot be checked against the target; it must hold ${wanted}`);
      return;
    }
    const wrong = Object.entries(expected).filter(([k, v]) => json[k] !== v).map(([k, v]) => `${k} is ${JSON.stringify(json[k])}, not "${v}"`);
    // the target's own kind, whether its name is literal or a token (a token name is not compared above)
    const targetFields = Object.keys(this.target._secretFields());
    for (const other of ['dbClusterIdentifier', 'workgroupName']) {
      if (!targetFields.includes(other) && json[other] !== undefined) {
        wrong.push(`${other} is set, but the target is ${describeTarget(this.target)}`);
      }
    }
    if (alternating && json.masterarn === undefined) {
      wrong.push('masterarn is missing (ALTERNATING_USERS needs it)');
    } else if (alternating && masterArn !== undefined && json.masterarn !== masterArn) {
      wrong.push(`masterarn is ${JSON.stringify(json.masterarn)}, not the masterSecret`);
    } else if (!alternating && json.masterarn !== undefined) {
      wrong.push('masterarn is set, but the strategy is SINGLE_USER');
    }
    if (wrong.length > 0) {
      throw new Error(`secret: its JSON does not match this rotation: ${wrong.join('; ')}`);
    }
  }

  /**
   * The create-user tag (created secrets with a master, by default; given ones on request), or a warning that says
   * how the user must be created.
   */
  private configureUserCreation(props: RedshiftSecretRotationProps): void {
    const alternating = this.strategy === RotationStrategy.ALTERNATING_USERS;
    const createUser = props.createUser ?? (props.secret === undefined && alternating);
    if (createUser) {
      if (!alternating) {
        throw new Error('createUser: the function creates users with the master secret, which only ALTERNATING_USERS uses; give masterSecret or masterUsername '
          + '(and no strategy, or ALTERNATING_USERS), or create the user yourself');
      }
      if (props.secret && !(props.secret.node.defaultChild instanceof secretsmanager.CfnSecret)) {
        throw new Error(`createUser: an imported secret cannot be tagged here; tag it ${RedshiftSecretRotation.CREATE_USER_TAG_KEY}=true where it is defined, or create the user yourself`);
      }
      Tags.of(this.secret).add(RedshiftSecretRotation.CREATE_USER_TAG_KEY, 'true');
      return;
    }
    if (props.secret === undefined) {
      const user = props.username !== undefined && !Token.isUnresolved(props.username) ? props.username : '<username>';
      Annotations.of(this).addWarningV2(`${WARNING_PREFIX}:createUserManually`,
        `username: the rotation function does not create the database user ${user}${alternating ? '' : ' (SINGLE_USER has no master secret to create it with)'}, `
        + 'so the first rotation fails unless it exists with the secret\'s password: after deploying, read the password from the secret and run, as an admin, '
        + `CREATE USER ${user} PASSWORD '<the secret's password>' (and the GRANTs it needs)${alternating ? '' : ', then rotate the secret'}; `
        + 'or give masterSecret or masterUsername so that the first rotation creates it (createUser)');
    }
  }

  /** The fields a secret of this target must hold, where they are literal. */
  private expectedFields(): { [key: string]: string } {
    const fields: { [key: string]: string } = {};
    for (const [k, v] of Object.entries(this.target._secretFields())) {
      if (!Token.isUnresolved(v)) {
        fields[k] = v;
      }
    }
    return fields;
  }
}

function validateProps(props: RedshiftSecretRotationProps): void {
  if (props.username !== undefined && props.secret !== undefined) {
    throw new Error('username: give username (a secret is created) or secret (an existing one), not both');
  }
  if (props.username === undefined && props.secret === undefined) {
    throw new Error('username: give username (a secret is created) or secret (an existing one)');
  }
  if (props.masterSecret !== undefined && props.masterUsername !== undefined) {
    throw new Error('masterUsername: give masterSecret (an existing one) or masterUsername (one is created), not both');
  }
  if (props.masterUsername !== undefined && !Token.isUnresolved(props.masterUsername)) {
    validateUsername(props.masterUsername, 'masterUsername', false);
  }
  if (props.automaticallyAfter !== undefined && props.schedule !== undefined) {
    throw new Error('schedule: give automaticallyAfter or schedule, not both');
  }
  if (props.secret !== undefined && props.database !== undefined) {
    throw new Error('database: sets the dbname of a created secret; a given secret is used with its own dbname (change it in the secret)');
  }
  if (props.secret !== undefined && props.removalPolicy !== undefined) {
    throw new Error('removalPolicy: applies to created secrets; set the removal policy of a given secret where it is defined');
  }
  if (props.secret !== undefined && props.secretName !== undefined) {
    throw new Error('secretName: names a created secret; it cannot rename the given secret');
  }
  if (props.database !== undefined && !Token.isUnresolved(props.database) && !/^[a-z_][a-z0-9_$]{0,126}$/.test(props.database)) {
    throw new Error(`database: '${props.database}' is not a plain Redshift database name`);
  }
  if (props.rotationFunction) {
    for (const [name, value] of [['vpc', props.vpc], ['vpcSubnets', props.vpcSubnets], ['securityGroups', props.securityGroups],
      ['network', props.network], ['testStatements', props.testStatements], ['logGroupEncryptionKey', props.logGroupEncryptionKey],
      ['allowSuperuserClone', props.allowSuperuserClone]] as const) {
      if (value !== undefined) {
        throw new Error(`${name}: a setting of the rotation function; with rotationFunction, set it on that function instead`);
      }
    }
  }
  validateFunctionProps(rotationFunctionOptions(props));
}

function validateUsername(username: string, prop: string, alternating: boolean): void {
  const max = alternating ? 121 : 127;
  if (!/^[a-z_][a-z0-9_$]*$/.test(username)) {
    throw new Error(`${prop}: '${username}' must be a plain lowercase Redshift identifier (^[a-z_][a-z0-9_$]*$)`);
  }
  if (Buffer.byteLength(username) > max) {
    throw new Error(`${prop}: '${username}' is longer than ${max} bytes${alternating ? ' (the alternate user appends _clone)' : ''}`);
  }
}

/**
 * Secrets Manager invokes only a rotation function of the secret's own account and region.
 */
function assertSameEnvironment(scope: Construct, fn: IRedshiftRotationFunction): void {
  const here = Stack.of(scope);
  let account: string | undefined;
  let region: string | undefined;
  if (fn instanceof RedshiftRotationFunction) {
    account = Stack.of(fn).account;
    region = Stack.of(fn).region;
  } else if (!Token.isUnresolved(fn.functionArn)) {
    const parts = fn.functionArn.split(':');
    account = parts[4];
    region = parts[3];
  }
  const differs = (a: string | undefined, b: string) => a !== undefined && !Token.isUnresolved(a) && !Token.isUnresolved(b) && a !== b;
  if (differs(account, here.account) || differs(region, here.region)) {
    throw new Error(`rotationFunction: the function is in ${account}/${region}, but Secrets Manager only invokes a rotation function of the secret's own account and region (${here.account}/${here.region})`);
  }
}

function sharedFunction(scope: Construct, props: RotationFunctionOptions): RedshiftRotationFunction {
  const stack = Stack.of(scope);
  const key = RedshiftRotationFunction._configKey(props);
  const id = key === '' ? 'RedshiftRotationFunction' : `RedshiftRotationFunction${shortHash(key)}`;
  const existing = stack.node.tryFindChild(id);
  if (existing instanceof RedshiftRotationFunction) {
    return existing;
  }
  return new RedshiftRotationFunction(stack, id, props);
}

/** The secret JSON of a secret whose template or value is a literal JSON object, else undefined. */
function literalSecretJson(cfn: secretsmanager.CfnSecret): { [key: string]: unknown } | undefined {
  const stack = Stack.of(cfn);
  const generate = stack.resolve(cfn.generateSecretString);
  const text = stack.resolve(cfn.secretString) ?? generate?.secretStringTemplate;
  if (typeof text !== 'string') {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

const rotations = new WeakMap<IConstruct, Map<string, string>>();

/**
 * Fails when a secret already has a rotation in this app: Secrets Manager keeps one rotation configuration per
 * secret, so the second would silently replace the first.
 */
function registerRotation(scope: Construct, secret: secretsmanager.ISecret): void {
  const root = scope.node.root;
  const seen = rotations.get(root) ?? new Map<string, string>();
  rotations.set(root, seen);
  const key = secret.node.defaultChild instanceof secretsmanager.CfnSecret
    ? `path:${secret.node.path}`
    : `arn:${JSON.stringify(Stack.of(scope).resolve(secret.secretArn))}`;
  const other = seen.get(key);
  if (other !== undefined) {
    throw new Error(`secret: ${secret.node.path} is already rotated by ${other}; a secret has one rotation (Secrets Manager keeps one rotation function and schedule per secret)`);
  }
  seen.set(key, scope.node.path);
}

const denied = new WeakSet<secretsmanager.ISecret>();

/**
 * Denies `secretsmanager:DeleteSecret` to the account root in the secret's resource policy, once per secret, as
 * aws-cdk-lib's `RotationSchedule` and `SecretRotation` do (nothing for an imported secret, whose policy this app
 * does not manage).
 */
function denyAccountRootDelete(secret: secretsmanager.ISecret): void {
  if (!denied.has(secret)) {
    denied.add(secret);
    secret.denyAccountRootDelete();
  }
}

function shortHash(value: string): string {
  return crypto.createHash('sha256').update(value).digest('hex').slice(0, 8).toUpperCase();
}

function passwordLengthOf(fn: IRedshiftRotationFunction): number | undefined {
  return fn instanceof RedshiftRotationFunction ? fn.passwordLength : undefined;
}

function describeTarget(target: RedshiftTarget): string {
  const name = target.clusterIdentifier ?? target.workgroupName ?? '';
  const literal = Token.isUnresolved(name) ? '' : ` ${name}`;
  return target.clusterIdentifier !== undefined ? `Redshift cluster${literal}` : `Redshift Serverless workgroup${literal}`;
}
