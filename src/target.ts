import { ArnFormat, Stack, Token } from 'aws-cdk-lib';
import * as redshift from 'aws-cdk-lib/aws-redshift';
import * as redshiftserverless from 'aws-cdk-lib/aws-redshiftserverless';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IConstruct } from 'constructs';

/**
 * Options for `RedshiftTarget.workgroup()`.
 */
export interface WorkgroupTargetOptions {
  /**
   * The ARN of the workgroup (`arn:aws:redshift-serverless:<region>:<account>:workgroup/<workgroup id>`).
   *
   * IAM knows a workgroup by its id, not its name, so the rotation function's `redshift-data:ExecuteStatement`
   * permission can name this workgroup only when its ARN is given.
   *
   * @default - the rotation function may run statements on every workgroup of the stack's account and region
   * (a warning says so); it still logs in only with the secrets it rotates
   */
  readonly workgroupArn?: string;
}

/**
 * Options for `RedshiftTarget.fromCfnWorkgroup()`.
 */
export interface CfnWorkgroupTargetOptions {
  /**
   * The namespace of the workgroup. A master secret created from `masterUsername` becomes its admin password.
   *
   * @default - the `CfnNamespace` of this app whose name (or `Ref`) is the workgroup's `namespaceName`
   */
  readonly namespace?: redshiftserverless.CfnNamespace;
}

/**
 * The kind of Redshift endpoint a target is.
 */
export enum RedshiftTargetType {
  /** A provisioned cluster, named in the secret by `dbClusterIdentifier`. */
  PROVISIONED_CLUSTER = 'PROVISIONED_CLUSTER',
  /** A Redshift Serverless workgroup, named in the secret by `workgroupName`. */
  SERVERLESS_WORKGROUP = 'SERVERLESS_WORKGROUP',
}

/**
 * The Redshift cluster or Serverless workgroup whose credentials are rotated.
 *
 * The rotation function reaches it through the Redshift Data API, so it needs no network path to the database.
 *
 * @example
 * const cluster = RedshiftTarget.cluster('analytics');
 * const workgroup = RedshiftTarget.workgroup('analytics-wg', {
 *   workgroupArn: 'arn:aws:redshift-serverless:eu-west-1:123456789012:workgroup/0b7c6a2e-1111-2222-3333-444455556666',
 * });
 */
export class RedshiftTarget {
  /**
   * A provisioned cluster, by its identifier (a cluster defined elsewhere).
   *
   * @param clusterIdentifier the cluster identifier, as in `dbClusterIdentifier` of the secret
   */
  public static cluster(clusterIdentifier: string): RedshiftTarget {
    if (!Token.isUnresolved(clusterIdentifier) && !/^[a-zA-Z][a-zA-Z0-9-]{0,62}$/.test(clusterIdentifier)) {
      throw new Error(`RedshiftTarget.cluster: '${clusterIdentifier}' is not a valid cluster identifier (a letter, then up to 62 letters, digits or hyphens)`);
    }
    const id = Token.isUnresolved(clusterIdentifier) ? clusterIdentifier : clusterIdentifier.toLowerCase();
    return new RedshiftTarget(RedshiftTargetType.PROVISIONED_CLUSTER, id, undefined, {});
  }

  /**
   * A provisioned cluster defined in this app. A master secret created from `masterUsername` becomes its
   * `MasterUserPassword`.
   */
  public static fromCfnCluster(cluster: redshift.CfnCluster): RedshiftTarget {
    const literal = cluster.clusterIdentifier !== undefined && !Token.isUnresolved(cluster.clusterIdentifier)
      ? cluster.clusterIdentifier.toLowerCase()
      : undefined;
    return new RedshiftTarget(RedshiftTargetType.PROVISIONED_CLUSTER, literal ?? cluster.ref, undefined, {
      cfnCluster: cluster,
      literalName: literal,
    });
  }

  /**
   * A provisioned cluster given as a `secretsmanager.ISecretAttachmentTarget`, e.g. `@aws-cdk/aws-redshift-alpha`'s
   * `Cluster`. Its type must be `AWS::Redshift::Cluster`. When it is a construct of this app, rotation waits for it,
   * and its `CfnCluster` (its default child) gives the default database and the endpoint.
   *
   * @param target the cluster, as Secrets Manager attachments know it
   */
  public static fromSecretAttachmentTarget(target: secretsmanager.ISecretAttachmentTarget): RedshiftTarget {
    const props = target.asSecretAttachmentTarget();
    if (props.targetType !== secretsmanager.AttachmentTargetType.REDSHIFT_CLUSTER) {
      throw new Error(`target: RedshiftTarget.fromSecretAttachmentTarget() needs a Redshift cluster (${secretsmanager.AttachmentTargetType.REDSHIFT_CLUSTER}), got ${props.targetType}`);
    }
    const construct = Construct.isConstruct(target) ? target : undefined;
    const child = construct?.node.defaultChild;
    const cfnCluster = child instanceof redshift.CfnCluster ? child : undefined;
    const literal = cfnCluster?.clusterIdentifier !== undefined && !Token.isUnresolved(cfnCluster.clusterIdentifier)
      ? cfnCluster.clusterIdentifier.toLowerCase()
      : undefined;
    const id = literal ?? (Token.isUnresolved(props.targetId) ? props.targetId : props.targetId.toLowerCase());
    return new RedshiftTarget(RedshiftTargetType.PROVISIONED_CLUSTER, id, undefined, {
      cfnCluster,
      literalName: literal,
      construct,
    });
  }

  /**
   * A Redshift Serverless workgroup, by its name (a workgroup defined elsewhere).
   *
   * @param workgroupName the workgroup name, as in `workgroupName` of the secret
   */
  public static workgroup(workgroupName: string, options: WorkgroupTargetOptions = {}): RedshiftTarget {
    if (!Token.isUnresolved(workgroupName) && !/^[a-z0-9-]{3,64}$/.test(workgroupName)) {
      throw new Error(`RedshiftTarget.workgroup: '${workgroupName}' is not a valid workgroup name (3 to 64 lowercase letters, digits or hyphens)`);
    }
    return new RedshiftTarget(RedshiftTargetType.SERVERLESS_WORKGROUP, undefined, workgroupName, {
      workgroupArn: options.workgroupArn,
    });
  }

  /**
   * A Redshift Serverless workgroup defined in this app. A master secret created from `masterUsername` becomes
   * the `AdminUserPassword` of its namespace.
   */
  public static fromCfnWorkgroup(workgroup: redshiftserverless.CfnWorkgroup, options: CfnWorkgroupTargetOptions = {}): RedshiftTarget {
    const literal = Token.isUnresolved(workgroup.workgroupName) ? undefined : workgroup.workgroupName;
    return new RedshiftTarget(RedshiftTargetType.SERVERLESS_WORKGROUP, undefined, literal ?? workgroup.attrWorkgroupWorkgroupName, {
      cfnWorkgroup: workgroup,
      namespace: options.namespace,
      literalName: literal,
      workgroupArn: workgroup.attrWorkgroupWorkgroupArn,
    });
  }

  /** The kind of endpoint. */
  public readonly type: RedshiftTargetType;

  /**
   * The cluster identifier (lowercase) for a provisioned cluster.
   *
   * @default - not a provisioned cluster
   */
  public readonly clusterIdentifier?: string;

  /**
   * The workgroup name for Redshift Serverless.
   *
   * @default - not a Serverless workgroup
   */
  public readonly workgroupName?: string;

  private readonly details: TargetDetails;

  private constructor(type: RedshiftTargetType, clusterIdentifier: string | undefined, workgroupName: string | undefined, details: TargetDetails) {
    this.type = type;
    this.clusterIdentifier = clusterIdentifier;
    this.workgroupName = workgroupName;
    this.details = details;
  }

  /**
   * The fields of the secret JSON that name the endpoint (`dbClusterIdentifier` or `workgroupName`).
   *
   * @internal
   */
  public _secretFields(): { [key: string]: string } {
    return this.clusterIdentifier !== undefined
      ? { dbClusterIdentifier: this.clusterIdentifier }
      : { workgroupName: this.workgroupName! };
  }

  /**
   * The ARN that `redshift-data:ExecuteStatement` is authorized against.
   *
   * @internal
   */
  public _dataApiResourceArn(scope: IConstruct): string {
    const stack = Stack.of(scope);
    if (this.type === RedshiftTargetType.PROVISIONED_CLUSTER) {
      return stack.formatArn({
        service: 'redshift',
        resource: 'cluster',
        resourceName: this.clusterIdentifier,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    }
    return this.details.workgroupArn ?? stack.formatArn({
      service: 'redshift-serverless',
      resource: 'workgroup',
      resourceName: '*',
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }

  /**
   * Whether the Data API permission can only name every workgroup of the account (no workgroup ARN known).
   *
   * @internal
   */
  public get _isWildcardWorkgroup(): boolean {
    return this.type === RedshiftTargetType.SERVERLESS_WORKGROUP && this.details.workgroupArn === undefined;
  }

  /**
   * What is known of the target from the construct tree, seen from `scope`: the construct that rotation waits for,
   * the default database and the endpoint. A target given by literal name is looked up among the `CfnCluster` /
   * `CfnWorkgroup` resources of `scope`'s stack.
   *
   * @internal
   */
  public _lookup(scope: IConstruct): TargetLookup {
    const stack = Stack.of(scope);
    let cluster = this.details.cfnCluster;
    let workgroup = this.details.cfnWorkgroup;
    if (!cluster && !workgroup && !this.details.construct) {
      const name = this.clusterIdentifier ?? this.workgroupName;
      if (name !== undefined && !Token.isUnresolved(name)) {
        const found = stack.node.findAll().find((c) => (this.type === RedshiftTargetType.PROVISIONED_CLUSTER
          ? c instanceof redshift.CfnCluster && typeof c.clusterIdentifier === 'string' && !Token.isUnresolved(c.clusterIdentifier)
            && c.clusterIdentifier.toLowerCase() === name
          : c instanceof redshiftserverless.CfnWorkgroup && c.workgroupName === name));
        cluster = found instanceof redshift.CfnCluster ? found : undefined;
        workgroup = found instanceof redshiftserverless.CfnWorkgroup ? found : undefined;
      }
    }
    const dependency: IConstruct | undefined = this.details.construct ?? cluster ?? workgroup;
    const sameStack = dependency !== undefined && Stack.of(dependency) === stack;
    const literal = (value: string | undefined) => (value !== undefined && !Token.isUnresolved(value) ? value : undefined);
    if (cluster) {
      return {
        dependency: sameStack ? dependency : undefined,
        database: literal(cluster.dbName),
        endpoint: Stack.of(cluster) === stack
          ? { host: cluster.attrEndpointAddress, port: Token.asNumber(cluster.attrEndpointPort) }
          : undefined,
      };
    }
    if (workgroup) {
      const namespace = this.details.namespace ?? findNamespace(workgroup, workgroup);
      return {
        dependency: sameStack ? dependency : undefined,
        database: literal(namespace?.dbName),
        endpoint: Stack.of(workgroup) === stack
          ? { host: workgroup.attrWorkgroupEndpointAddress, port: workgroup.attrWorkgroupEndpointPort }
          : undefined,
      };
    }
    return { dependency: sameStack ? dependency : undefined };
  }

  /**
   * Checks that a master secret created from `masterUsername` can become the admin password of the cluster or
   * namespace (throws with a message naming `masterUsername` when not), and returns the fields of the master
   * secret that name the endpoint and a function that wires the secret's password into the L1 resource.
   *
   * @internal
   */
  public _prepareAdminPassword(scope: IConstruct, masterUsername: string): AdminPasswordWiring {
    if (this.details.cfnCluster) {
      const cluster = this.details.cfnCluster;
      if (this.details.literalName === undefined) {
        throw new Error('masterUsername: the CfnCluster needs a literal clusterIdentifier, so that the master secret can name the cluster whose password it sets without a circular dependency');
      }
      if (cluster.manageMasterPassword === true) {
        throw new Error('masterUsername: the CfnCluster has manageMasterPassword set, so Redshift owns the admin password; pass its secret as masterSecret instead');
      }
      if (cluster.masterUserPassword !== undefined) {
        throw new Error('masterUsername: the CfnCluster already has a masterUserPassword (another RedshiftSecretRotation may have created a master secret for it: pass that one as masterSecret)');
      }
      if (!Token.isUnresolved(cluster.masterUsername) && cluster.masterUsername !== masterUsername) {
        throw new Error(`masterUsername: '${masterUsername}' differs from the CfnCluster's masterUsername '${cluster.masterUsername}'`);
      }
      const fields = { dbClusterIdentifier: this.details.literalName };
      return {
        fields,
        wire: (secret) => {
          const password = secret.secretValueFromJson('password').unsafeUnwrap();
          cluster.masterUserPassword = password;
          return () => (cluster.masterUserPassword === password && cluster.manageMasterPassword !== true
            ? [] : ['masterUsername: the CfnCluster\'s masterUserPassword or manageMasterPassword was changed after the master secret was wired to it']);
        },
      };
    }
    if (this.details.cfnWorkgroup) {
      const namespace = this.details.namespace ?? findNamespace(scope, this.details.cfnWorkgroup);
      if (!namespace) {
        throw new Error(`masterUsername: no CfnNamespace named '${this.details.cfnWorkgroup.namespaceName}' found in this app; pass it as RedshiftTarget.fromCfnWorkgroup(workgroup, { namespace })`);
      }
      if (this.details.literalName === undefined) {
        throw new Error('masterUsername: the CfnWorkgroup needs a literal workgroupName, so that the master secret can name the workgroup');
      }
      if (namespace.manageAdminPassword === true) {
        throw new Error('masterUsername: the CfnNamespace has manageAdminPassword set, so Redshift owns the admin password; pass its secret as masterSecret instead');
      }
      if (namespace.adminUserPassword !== undefined) {
        throw new Error('masterUsername: the CfnNamespace already has an adminUserPassword (another RedshiftSecretRotation may have created a master secret for it: pass that one as masterSecret)');
      }
      if (namespace.adminUsername !== undefined && !Token.isUnresolved(namespace.adminUsername) && namespace.adminUsername !== masterUsername) {
        throw new Error(`masterUsername: '${masterUsername}' differs from the CfnNamespace's adminUsername '${namespace.adminUsername}'`);
      }
      const fields = { workgroupName: this.details.literalName };
      return {
        fields,
        wire: (secret) => {
          const password = secret.secretValueFromJson('password').unsafeUnwrap();
          namespace.adminUsername = masterUsername;
          namespace.adminUserPassword = password;
          return () => (namespace.adminUserPassword === password && namespace.manageAdminPassword !== true
            ? [] : ['masterUsername: the CfnNamespace\'s adminUserPassword or manageAdminPassword was changed after the master secret was wired to it']);
        },
      };
    }
    const factory = this.type === RedshiftTargetType.PROVISIONED_CLUSTER ? 'RedshiftTarget.fromCfnCluster()' : 'RedshiftTarget.fromCfnWorkgroup()';
    throw new Error(`masterUsername: a master secret can only be created for a target defined in this app (${factory}); for a database defined elsewhere pass its admin secret as masterSecret`);
  }
}

/**
 * How a created master secret becomes the admin password of a target (not part of the public API).
 */
export interface AdminPasswordWiring {
  /** Fields of the master secret that name the endpoint. */
  readonly fields: { [key: string]: string };
  /** Sets the admin password to the secret's password; returns a validation of the wiring at synth. */
  readonly wire: (secret: secretsmanager.ISecret) => () => string[];
}

/**
 * What the construct tree tells about a target (not part of the public API).
 */
export interface TargetLookup {
  /** The construct rotation waits for, when it is in the same stack. */
  readonly dependency?: IConstruct;
  /** The target's database (`CfnCluster.dbName`, `CfnNamespace.dbName`), when literal. */
  readonly database?: string;
  /** The endpoint of the target, when it is in the same stack. */
  readonly endpoint?: { readonly host: string; readonly port: number };
}

interface TargetDetails {
  readonly construct?: IConstruct;
  readonly cfnCluster?: redshift.CfnCluster;
  readonly cfnWorkgroup?: redshiftserverless.CfnWorkgroup;
  readonly namespace?: redshiftserverless.CfnNamespace;
  readonly literalName?: string;
  readonly workgroupArn?: string;
}

function findNamespace(scope: IConstruct, workgroup: redshiftserverless.CfnWorkgroup): redshiftserverless.CfnNamespace | undefined {
  const wanted = workgroup.namespaceName;
  if (wanted === undefined) {
    return undefined;
  }
  return scope.node.root.node.findAll()
    .filter((c): c is redshiftserverless.CfnNamespace => c instanceof redshiftserverless.CfnNamespace)
    .find((ns) => ns.namespaceName === wanted || ns.ref === wanted || ns.attrNamespaceNamespaceName === wanted);
}
