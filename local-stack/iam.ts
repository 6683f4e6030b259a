/**
 * IAM for the local stack: the rotation function's calls are authorized against the role policy synthesized from
 * the construct, evaluated by `@cloud-copilot/iam-simulate` (a maintained IAM policy evaluator: actions, resources,
 * every condition operator, explicit denies, permissions boundaries), never by a home-made matcher.
 *
 * - {@link rolePolicies} takes a synthesized CloudFormation template and the logical id of a role, and returns the
 *   role's inline policies and the `AWS::IAM::Policy` documents attached to it, with CloudFormation intrinsics
 *   (`Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`, `Fn::Select`, `Fn::Split`, pseudo parameters) resolved to the
 *   local stack's values. Managed policy ARNs are not expanded (the construct attaches only CloudWatch Logs and
 *   VPC access ones, which no local call needs).
 * - {@link PolicyAuthorizer} answers, for one role session, whether an action on a resource with given condition
 *   keys is allowed, and builds the AccessDeniedException message AWS sends.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';

/** An IAM policy document (JSON). */
export type PolicyDocument = Readonly<Record<string, unknown>>;

export interface NamedPolicy {
  readonly name: string;
  readonly document: PolicyDocument;
}

/** What `Ref` / `Fn::GetAtt` of a logical id resolve to; undefined when unknown (resolving then fails). */
export type ReferenceResolver = (logicalId: string, attribute?: string) => string | undefined;

export interface Pseudo {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

const PSEUDO_PARAMETERS = (p: Pseudo): Record<string, string> => ({
  'AWS::Partition': p.partition,
  'AWS::Region': p.region,
  'AWS::AccountId': p.account,
  'AWS::URLSuffix': p.partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com',
  'AWS::NoValue': '',
});

/** Resolves the CloudFormation intrinsics in `value`; throws naming what it cannot resolve. */
export function resolveIntrinsics(value: unknown, refs: ReferenceResolver, pseudo: Pseudo): unknown {
  const resolveString = (v: unknown, where: string): string => {
    const r = resolveIntrinsics(v, refs, pseudo);
    if (typeof r !== 'string') throw new Error(`${where} did not resolve to a string`);
    return r;
  };
  if (Array.isArray(value)) return value.map((v) => resolveIntrinsics(v, refs, pseudo));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [key, arg] = entries[0];
    if (key === 'Ref') {
      const name = String(arg);
      const pseudoValue = PSEUDO_PARAMETERS(pseudo)[name];
      if (pseudoValue !== undefined) return pseudoValue;
      const ref = refs(name);
      if (ref === undefined) throw new Error(`cannot resolve { Ref: ${name} }`);
      return ref;
    }
    if (key === 'Fn::GetAtt') {
      const [id, attribute] = Array.isArray(arg) ? arg.map(String) : String(arg).split('.');
      const ref = refs(id, attribute);
      if (ref === undefined) throw new Error(`cannot resolve { Fn::GetAtt: [${id}, ${attribute}] }`);
      return ref;
    }
    if (key === 'Fn::Join') {
      const [separator, parts] = arg as [string, unknown[]];
      const resolved = resolveIntrinsics(parts, refs, pseudo);
      if (!Array.isArray(resolved)) throw new Error('Fn::Join: the list did not resolve to a list');
      return resolved.map((p) => String(p)).join(separator);
    }
    if (key === 'Fn::Select') {
      const [index, list] = arg as [unknown, unknown];
      const resolved = resolveIntrinsics(list, refs, pseudo);
      if (!Array.isArray(resolved)) throw new Error('Fn::Select: the list did not resolve to a list');
      return resolved[Number(resolveIntrinsics(index, refs, pseudo))];
    }
    if (key === 'Fn::Split') {
      const [separator, source] = arg as [string, unknown];
      return resolveString(source, 'Fn::Split').split(separator);
    }
    if (key === 'Fn::Sub') {
      const [template, variables] = Array.isArray(arg) ? arg as [string, Record<string, unknown>] : [String(arg), {}];
      return template.replace(/\$\{([^}!][^}]*)\}/g, (_m, name: string) => {
        if (variables && name in variables) return resolveString(variables[name], `Fn::Sub \${${name}}`);
        if (name.includes('.')) {
          const [id, attribute] = name.split('.');
          return resolveString({ 'Fn::GetAtt': [id, attribute] }, `Fn::Sub \${${name}}`);
        }
        return resolveString({ Ref: name }, `Fn::Sub \${${name}}`);
      });
    }
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolveIntrinsics(v, refs, pseudo)]));
}

interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

/**
 * The policies of role `roleLogicalId` in a synthesized template: its inline `Policies` and every `AWS::IAM::Policy`
 * whose `Roles` name it, resolved. Also its permissions boundary document, when the boundary is a managed policy
 * of the same template.
 */
export function rolePolicies(
  template: { readonly Resources?: Readonly<Record<string, TemplateResource>> },
  roleLogicalId: string,
  refs: ReferenceResolver,
  pseudo: Pseudo,
): { policies: NamedPolicy[]; boundary?: PolicyDocument } {
  const resources = template.Resources ?? {};
  const role = resources[roleLogicalId];
  if (!role || role.Type !== 'AWS::IAM::Role') throw new Error(`${roleLogicalId} is not an AWS::IAM::Role of the template`);
  const policies: NamedPolicy[] = [];
  for (const p of (role.Properties?.Policies as Array<{ PolicyName: string; PolicyDocument: unknown }> | undefined) ?? []) {
    policies.push({ name: p.PolicyName, document: resolveIntrinsics(p.PolicyDocument, refs, pseudo) as PolicyDocument });
  }
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    const roles = (resource.Properties?.Roles as unknown[] | undefined) ?? [];
    if (!roles.some((r) => typeof r === 'object' && r !== null && (r as { Ref?: string }).Ref === roleLogicalId)) continue;
    const document = resolveIntrinsics(resource.Properties?.PolicyDocument, refs, pseudo) as PolicyDocument;
    policies.push({ name: String(resource.Properties?.PolicyName ?? id), document });
  }
  let boundary: PolicyDocument | undefined;
  const boundaryRef = role.Properties?.PermissionsBoundary as { Ref?: string } | undefined;
  if (boundaryRef && typeof boundaryRef === 'object' && boundaryRef.Ref && resources[boundaryRef.Ref]?.Type === 'AWS::IAM::ManagedPolicy') {
    boundary = resolveIntrinsics(resources[boundaryRef.Ref].Properties?.PolicyDocument, refs, pseudo) as PolicyDocument;
  }
  return { policies, boundary };
}

/** One request to authorize. */
export interface IamRequest {
  /** `service:Action`, e.g. `secretsmanager:GetSecretValue` */
  readonly action: string;
  /** the resource ARN, or `*` for actions that take none */
  readonly resource: string;
  /** request-specific condition keys (`aws:ResourceTag/k`, `secretsmanager:resource/AllowRotationLambdaArn`, ...) */
  readonly context?: Readonly<Record<string, string | string[]>>;
  /**
   * the resource's policy. For a KMS key without one, the default key policy (the account may delegate to IAM
   * policies), since KMS honours identity policies only when the key policy lets the account do so.
   */
  readonly resourcePolicy?: PolicyDocument;
}

export interface IamDecision {
  readonly allowed: boolean;
  /** `Allowed`, `ImplicitlyDenied`, `ExplicitlyDenied`, or the simulator's validation error */
  readonly result: string;
}

/** The key policy KMS gives a key created without one: the account's IAM policies decide. */
export function defaultKeyPolicy(account: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' }],
  };
}

/** The session of one role, as the rotation function's calls carry it. */
export interface RoleSession {
  readonly account: string;
  readonly roleName: string;
  /** the session name (Lambda uses the function name) */
  readonly sessionName: string;
  /** the role's unique id (`AROA…`); `aws:userid` is `${roleId}:${sessionName}` */
  readonly roleId?: string;
}

/** Authorizes the calls of one role session against its identity policies (and boundary). */
export class PolicyAuthorizer {
  /** `aws:userid` of the session, as `redshift-data:statement-owner-iam-userid` compares it. */
  readonly userId: string;
  readonly principalArn: string;
  private readonly cache = new Map<string, Promise<IamDecision>>();

  constructor(
    readonly session: RoleSession,
    private readonly policies: readonly NamedPolicy[],
    private readonly boundary?: PolicyDocument,
  ) {
    this.userId = `${session.roleId ?? 'AROALOCALSTACKROLE00001'}:${session.sessionName}`;
    this.principalArn = `arn:aws:sts::${session.account}:assumed-role/${session.roleName}/${session.sessionName}`;
  }

  /** The decision for a request (the same request is evaluated once). */
  async authorize(request: IamRequest): Promise<IamDecision> {
    const key = JSON.stringify([request.action, request.resource, request.context ?? {}, request.resourcePolicy ?? null]);
    let decision = this.cache.get(key);
    if (!decision) {
      decision = this.evaluate(request);
      this.cache.set(key, decision);
    }
    return decision;
  }

  /** The message of AWS's AccessDeniedException for a denied request. */
  deniedMessage(request: IamRequest, decision: IamDecision): string {
    const why = decision.result === 'ExplicitlyDenied' ? 'with an explicit deny in an identity-based policy' : 'because no identity-based policy allows the ' + request.action + ' action';
    return `User: ${this.principalArn} is not authorized to perform: ${request.action} on resource: ${request.resource} ${why}`;
  }

  private async evaluate(request: IamRequest): Promise<IamDecision> {
    const resourceAccount = /^arn:[^:]+:[^:]*:[^:]*:(\d{12}):/.exec(request.resource)?.[1] ?? this.session.account;
    const response = await runSimulation({
      request: {
        principal: this.principalArn,
        action: request.action,
        resource: { resource: request.resource, accountId: resourceAccount },
        contextVariables: {
          'aws:userid': this.userId,
          'aws:PrincipalArn': `arn:aws:iam::${this.session.account}:role/${this.session.roleName}`,
          'aws:PrincipalAccount': this.session.account,
          ...request.context,
        },
      },
      identityPolicies: this.policies.map((p) => ({ name: p.name, policy: p.document })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      permissionBoundaryPolicies: this.boundary ? [{ name: 'boundary', policy: this.boundary }] : undefined,
      resourcePolicy: request.resourcePolicy ?? (request.action.startsWith('kms:') ? defaultKeyPolicy(resourceAccount) : undefined),
    }, {});
    if (response.resultType === 'error') {
      return { allowed: false, result: `simulation error: ${JSON.stringify(response.errors).slice(0, 500)}` };
    }
    return { allowed: response.overallResult === 'Allowed', result: String(response.overallResult) };
  }
}

/**
 * A {@link ReferenceResolver} for a template deployed "locally": each resource gets a deterministic name from its
 * logical id (or `names[logicalId]`), and its ARN is built the way the service builds it.
 */
export function localReferences(
  template: { readonly Resources?: Readonly<Record<string, TemplateResource>> },
  pseudo: Pseudo,
  names: Readonly<Record<string, string>> = {},
): ReferenceResolver {
  const resources = template.Resources ?? {};
  const { partition, region, account } = pseudo;
  return (id, attribute) => {
    const resource = resources[id];
    if (!resource) return undefined;
    const name = names[id] ?? id.toLowerCase();
    const arn = (() => {
      switch (resource.Type) {
        case 'AWS::Lambda::Function': return `arn:${partition}:lambda:${region}:${account}:function:${name}`;
        case 'AWS::IAM::Role': return `arn:${partition}:iam::${account}:role/${name}`;
        case 'AWS::IAM::ManagedPolicy': return `arn:${partition}:iam::${account}:policy/${name}`;
        case 'AWS::SecretsManager::Secret': return names[id] ?? `arn:${partition}:secretsmanager:${region}:${account}:secret:${name}-AbCdEf`;
        case 'AWS::Logs::LogGroup': return `arn:${partition}:logs:${region}:${account}:log-group:${name}:*`;
        case 'AWS::KMS::Key': return names[id] ?? `arn:${partition}:kms:${region}:${account}:key/${name}`;
        case 'AWS::SNS::Topic': return `arn:${partition}:sns:${region}:${account}:${name}`;
        case 'AWS::Redshift::Cluster': return `arn:${partition}:redshift:${region}:${account}:cluster:${name}`;
        case 'AWS::RedshiftServerless::Workgroup': return `arn:${partition}:redshift-serverless:${region}:${account}:workgroup/${name}`;
        case 'AWS::RedshiftServerless::Namespace': return `arn:${partition}:redshift-serverless:${region}:${account}:namespace/${name}`;
        default: return `arn:${partition}:local:${region}:${account}:${name}`;
      }
    })();
    if (attribute === undefined) {
      // what Ref returns per type
      return ['AWS::SecretsManager::Secret', 'AWS::SNS::Topic', 'AWS::IAM::ManagedPolicy'].includes(resource.Type) ? arn : name;
    }
    if (attribute === 'Arn' || attribute.endsWith('Arn')) return arn;
    return undefined;
  };
}

/** What IAM sees of a secret: its ARN, tags, rotation function and KMS key. */
export interface SecretFacts {
  readonly arn: string;
  readonly tags: ReadonlyArray<{ readonly Key: string; readonly Value: string }>;
  readonly rotationLambdaArn?: string;
  readonly kmsKeyId?: string;
}

function tagContext(prefix: string, tags: SecretFacts['tags']): Record<string, string | string[]> {
  const context: Record<string, string | string[]> = {};
  for (const t of tags) context[`${prefix}${t.Key}`] = t.Value;
  return context;
}

/** A customer managed key's ARN as a resource, or undefined for the AWS managed key (no grant needed). */
function customerKeyArn(kmsKeyId: string | undefined, pseudo: Pseudo): string | undefined {
  if (!kmsKeyId || kmsKeyId === 'alias/aws/secretsmanager') return undefined;
  if (kmsKeyId.startsWith('arn:')) return kmsKeyId;
  return `arn:${pseudo.partition}:kms:${pseudo.region}:${pseudo.account}:${kmsKeyId.startsWith('alias/') ? kmsKeyId : `key/${kmsKeyId}`}`;
}

function viaSecretsManager(action: 'kms:Decrypt' | 'kms:GenerateDataKey', keyArn: string, pseudo: Pseudo): IamRequest {
  return { action, resource: keyArn, context: { 'kms:ViaService': `secretsmanager.${pseudo.region}.amazonaws.com`, 'kms:CallerAccount': pseudo.account } };
}

/**
 * The IAM requests one Secrets Manager call makes, as AWS evaluates them: the action on the secret (with its
 * tags and `secretsmanager:resource/AllowRotationLambdaArn`), TagResource for tags given at creation, and the KMS
 * calls Secrets Manager makes on the caller's behalf with a customer managed key. `secret` is the secret the call
 * names (undefined for CreateSecret, GetRandomPassword, ListSecrets).
 */
export function secretsManagerRequests(
  operation: string, input: Readonly<Record<string, unknown>>, secret: SecretFacts | undefined, pseudo: Pseudo,
): IamRequest[] {
  const action = `secretsmanager:${operation}`;
  if (operation === 'GetRandomPassword' || operation === 'ListSecrets') return [{ action, resource: '*' }];
  if (operation === 'CreateSecret') {
    const name = String(input.Name ?? '');
    const tags = (input.Tags as SecretFacts['tags'] | undefined) ?? [];
    const resource = `arn:${pseudo.partition}:secretsmanager:${pseudo.region}:${pseudo.account}:secret:${name}-AbCdEf`;
    const context = { ...tagContext('aws:RequestTag/', tags), ...(tags.length > 0 ? { 'aws:TagKeys': tags.map((t) => t.Key) } : {}) };
    const out: IamRequest[] = [{ action, resource, context }];
    if (tags.length > 0) out.push({ action: 'secretsmanager:TagResource', resource, context });
    const key = customerKeyArn(input.KmsKeyId as string | undefined, pseudo);
    if (key && (input.SecretString !== undefined || input.SecretBinary !== undefined)) out.push(viaSecretsManager('kms:GenerateDataKey', key, pseudo));
    return out;
  }
  if (!secret) return [];
  const context: Record<string, string | string[]> = {
    // (iam-simulate knows the global aws:ResourceTag key, not the service's own secretsmanager:ResourceTag alias)
    ...tagContext('aws:ResourceTag/', secret.tags),
    ...(secret.rotationLambdaArn ? { 'secretsmanager:resource/AllowRotationLambdaArn': secret.rotationLambdaArn } : {}),
  };
  const out: IamRequest[] = [{ action, resource: secret.arn, context }];
  const key = customerKeyArn(secret.kmsKeyId, pseudo);
  if (key && operation === 'GetSecretValue') out.push(viaSecretsManager('kms:Decrypt', key, pseudo));
  if (key && operation === 'PutSecretValue') out.push(viaSecretsManager('kms:GenerateDataKey', key, pseudo));
  return out;
}

/**
 * The IAM requests one Redshift Data API call makes: ExecuteStatement / BatchExecuteStatement on the cluster or
 * workgroup ARN, plus reading the given secret as the caller (GetSecretValue and its KMS key); the statement
 * operations on `*` with `redshift-data:statement-owner-iam-userid` of the statement's submitter.
 */
export function dataApiRequests(
  operation: string,
  target: { readonly clusterArn?: string; readonly workgroupArn?: string },
  secret: SecretFacts | undefined,
  statementOwner: string | undefined,
  pseudo: Pseudo,
): IamRequest[] {
  const action = `redshift-data:${operation}`;
  if (operation === 'ExecuteStatement' || operation === 'BatchExecuteStatement') {
    const resource = target.clusterArn ?? target.workgroupArn;
    if (!resource) return [];
    return [{ action, resource }, ...(secret ? secretsManagerRequests('GetSecretValue', {}, secret, pseudo) : [])];
  }
  return [{ action, resource: '*', context: statementOwner ? { 'redshift-data:statement-owner-iam-userid': statementOwner } : {} }];
}

/**
 * The IAM a local function runs with: the identity policies of its role (and boundary), as {@link rolePolicies}
 * returns them. A function without one is not checked (the local stack's default).
 */
export interface FunctionIam {
  readonly policies: readonly NamedPolicy[];
  readonly boundary?: PolicyDocument;
  /** the role's name, for `aws:PrincipalArn` and the denial messages. @default 'local-rotation-role' */
  readonly roleName?: string;
  /** the role's unique id. @default a fixed `AROA…` id */
  readonly roleId?: string;
}

/** The authorizer of one function's calls (its session name is the function's name, as in Lambda). */
export function functionAuthorizer(functionArn: string, iam: FunctionIam): PolicyAuthorizer {
  const [, , , , account, , name] = functionArn.split(':');
  return new PolicyAuthorizer({ account, roleName: iam.roleName ?? 'local-rotation-role', sessionName: name, roleId: iam.roleId }, iam.policies, iam.boundary);
}

/** Throws the service's AccessDeniedException for the first request the authorizer denies. */
export async function authorizeAll(
  authorizer: PolicyAuthorizer, requests: readonly IamRequest[], denied: (message: string) => Error,
): Promise<void> {
  for (const request of requests) {
    const decision = await authorizer.authorize(request);
    if (!decision.allowed) {
      const message = authorizer.deniedMessage(request, decision);
      throw denied(request.action.startsWith('kms:') ? `Access to KMS is not allowed. ${message}` : message);
    }
  }
}

/**
 * What a synthesized construct gives a local function: the rotation function's environment (resolved) and its
 * role's policies. `functionArn` is the local ARN the function gets (its name becomes the Lambda function's name,
 * which the probe tag conditions compare); `names` gives other resources' local names or ARNs (e.g. created secrets).
 */
export function functionFromTemplate(
  template: { readonly Resources?: Readonly<Record<string, TemplateResource>> },
  functionArn: string,
  pseudo: Pseudo,
  names: Readonly<Record<string, string>> = {},
  functionLogicalId?: string,
): { env: Record<string, string>; iam: FunctionIam } {
  const resources = Object.entries(template.Resources ?? {});
  const functions = resources.filter(([id, r]) => r.Type === 'AWS::Lambda::Function' && (functionLogicalId === undefined || id === functionLogicalId)
    && typeof (r.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables?.PROBE_SECRET_PREFIX !== 'undefined');
  if (functions.length !== 1) throw new Error(`expected one rotation function in the template, found ${functions.length}; give its logical id`);
  const [fnId, fn] = functions[0];
  const roleId = ((fn.Properties?.Role as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'] ?? [])[0];
  if (!roleId) throw new Error(`${fnId}: its Role is not a role of the template`);
  const functionName = functionArn.split(':')[6];
  const roleName = `${functionName}-role`;
  const refs = localReferences(template, pseudo, { [fnId]: functionName, [roleId]: roleName, ...names });
  const env = resolveIntrinsics((fn.Properties?.Environment as { Variables: unknown }).Variables, refs, pseudo) as Record<string, string>;
  const { policies, boundary } = rolePolicies(template, roleId, refs, pseudo);
  return { env, iam: { policies, boundary, roleName } };
}
