/**
 * RedshiftTarget on its own (src/target.ts): the identifiers it keeps, the fields it writes into a secret, the Data
 * API resource it names, what it finds in the app, and the admin-password wiring with each of its refusals. Nothing
 * here synthesizes a template: these are the decisions the construct builds on.
 */
import * as cdk from 'aws-cdk-lib';
import * as redshiftserverless from 'aws-cdk-lib/aws-redshiftserverless';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { newCluster, newServerless, newStack } from './helpers';
import { RedshiftTarget, RedshiftTargetType } from '../../src';

const resolved = (stack: cdk.Stack, value: unknown) => stack.resolve(value);

describe('identifiers', () => {
  test('a cluster identifier is kept in lower case (Redshift stores it so); a token is kept as it is', () => {
    expect(RedshiftTarget.cluster('My-Cluster-1').clusterIdentifier).toBe('my-cluster-1');
    const stack = newStack();
    const token = new cdk.CfnParameter(stack, 'Id').valueAsString;
    expect(RedshiftTarget.cluster(token).clusterIdentifier).toBe(token);
  });

  test.each(['1cluster', 'my_cluster', '', 'a'.repeat(64), 'my cluster'])('cluster(%p) is refused', (id) => {
    expect(() => RedshiftTarget.cluster(id)).toThrow(new Error(`RedshiftTarget.cluster: '${id}' is not a valid cluster identifier (a letter, then up to 62 letters, digits or hyphens)`));
  });

  test.each(['a', 'a'.repeat(63), 'A-9'])('cluster(%p) is taken', (id) => {
    expect(RedshiftTarget.cluster(id).type).toBe(RedshiftTargetType.PROVISIONED_CLUSTER);
  });

  test.each(['ab', 'Analytics', 'a_b', 'x'.repeat(65), 'wg one'])('workgroup(%p) is refused', (name) => {
    expect(() => RedshiftTarget.workgroup(name)).toThrow(new Error(`RedshiftTarget.workgroup: '${name}' is not a valid workgroup name (3 to 64 lowercase letters, digits or hyphens)`));
  });

  test.each(['abc', 'x'.repeat(64), 'wg-1'])('workgroup(%p) is taken, as it is', (name) => {
    const target = RedshiftTarget.workgroup(name);
    expect([target.type, target.workgroupName, target.clusterIdentifier]).toEqual([RedshiftTargetType.SERVERLESS_WORKGROUP, name, undefined]);
  });

  test('fromCfnCluster: the literal identifier in lower case, else the cluster\'s Ref', () => {
    const stack = newStack();
    expect(RedshiftTarget.fromCfnCluster(newCluster(stack, 'A', { clusterIdentifier: 'Big-One' })).clusterIdentifier).toBe('big-one');
    const unnamed = newCluster(stack, 'B', { clusterIdentifier: undefined });
    expect(resolved(stack, RedshiftTarget.fromCfnCluster(unnamed).clusterIdentifier)).toEqual({ Ref: 'B' });
    const param = new cdk.CfnParameter(stack, 'Name').valueAsString;
    expect(resolved(stack, RedshiftTarget.fromCfnCluster(newCluster(stack, 'C', { clusterIdentifier: param })).clusterIdentifier)).toEqual({ Ref: 'C' });
  });

  test('fromCfnWorkgroup: the literal name as it is, else the workgroup\'s name attribute', () => {
    const stack = newStack();
    const { workgroup } = newServerless(stack);
    expect(RedshiftTarget.fromCfnWorkgroup(workgroup).workgroupName).toBe('analytics-wg');
    const other = new redshiftserverless.CfnWorkgroup(stack, 'Other', { workgroupName: new cdk.CfnParameter(stack, 'Wg').valueAsString });
    expect(resolved(stack, RedshiftTarget.fromCfnWorkgroup(other).workgroupName)).toEqual({ 'Fn::GetAtt': ['Other', 'Workgroup.WorkgroupName'] });
  });
});

describe('fromSecretAttachmentTarget', () => {
  const attachment = (targetId: string,
    targetType = secretsmanager.AttachmentTargetType.REDSHIFT_CLUSTER): secretsmanager.ISecretAttachmentTarget => ({
    asSecretAttachmentTarget: () => ({ targetId, targetType }),
  });

  test('another kind of target is refused, naming the kind', () => {
    expect(() => RedshiftTarget.fromSecretAttachmentTarget(attachment('db', secretsmanager.AttachmentTargetType.RDS_DB_INSTANCE)))
      .toThrow(new Error('target: RedshiftTarget.fromSecretAttachmentTarget() needs a Redshift cluster (AWS::Redshift::Cluster), got AWS::RDS::DBInstance'));
  });

  test('a plain attachment target: its id in lower case, or as it is when a token', () => {
    expect(RedshiftTarget.fromSecretAttachmentTarget(attachment('Warehouse')).clusterIdentifier).toBe('warehouse');
    const stack = newStack();
    const token = new cdk.CfnParameter(stack, 'Id').valueAsString;
    expect(RedshiftTarget.fromSecretAttachmentTarget(attachment(token)).clusterIdentifier).toBe(token);
  });

  test('a construct whose default child is a CfnCluster: the CfnCluster\'s literal identifier, and the construct is the dependency', () => {
    const stack = newStack();
    class Wrapped extends Construct implements secretsmanager.ISecretAttachmentTarget {
      constructor(scope: Construct, id: string) {
        super(scope, id);
        newCluster(this, 'Resource', { clusterIdentifier: 'Inner-Name' });
      }
      public asSecretAttachmentTarget() {
        return { targetId: 'ref-ignored', targetType: secretsmanager.AttachmentTargetType.REDSHIFT_CLUSTER };
      }
    }
    const wrapped = new Wrapped(stack, 'Wrapped');
    const target = RedshiftTarget.fromSecretAttachmentTarget(wrapped);
    expect(target.clusterIdentifier).toBe('inner-name');
    expect(target._lookup(stack).dependency).toBe(wrapped);
  });
});

describe('what goes into a secret and the role policy', () => {
  test('secret fields: dbClusterIdentifier for a cluster, workgroupName for a workgroup', () => {
    expect(RedshiftTarget.cluster('c1')._secretFields()).toEqual({ dbClusterIdentifier: 'c1' });
    expect(RedshiftTarget.workgroup('wg-1')._secretFields()).toEqual({ workgroupName: 'wg-1' });
  });

  test('the Data API resource: the cluster\'s ARN; the workgroup\'s ARN when known, else every workgroup of the account', () => {
    const stack = newStack();
    expect(resolved(stack, RedshiftTarget.cluster('c1')._dataApiResourceArn(stack)))
      .toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':redshift:eu-west-1:123456789012:cluster:c1']] });
    const arn = 'arn:aws:redshift-serverless:eu-west-1:123456789012:workgroup/0000-1111';
    const known = RedshiftTarget.workgroup('wg-1', { workgroupArn: arn });
    expect([known._dataApiResourceArn(stack), known._isWildcardWorkgroup]).toEqual([arn, false]);
    const unknown = RedshiftTarget.workgroup('wg-1');
    expect(resolved(stack, unknown._dataApiResourceArn(stack)))
      .toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':redshift-serverless:eu-west-1:123456789012:workgroup/*']] });
    expect(unknown._isWildcardWorkgroup).toBe(true);
    expect(RedshiftTarget.cluster('c1')._isWildcardWorkgroup).toBe(false);
  });
});

describe('_lookup: what the target finds in the app', () => {
  test('a cluster named by identifier is found in the stack (any case): its database, endpoint and dependency', () => {
    const stack = newStack();
    newCluster(stack, 'Other', { clusterIdentifier: 'other' });
    const cluster = newCluster(stack, 'Cluster', { clusterIdentifier: 'Analytics', dbName: 'warehouse' });
    const lookup = RedshiftTarget.cluster('analytics')._lookup(stack);
    expect(lookup.dependency).toBe(cluster);
    expect(lookup.database).toBe('warehouse');
    expect(resolved(stack, lookup.endpoint)).toEqual({
      host: { 'Fn::GetAtt': ['Cluster', 'Endpoint.Address'] },
      port: { 'Fn::GetAtt': ['Cluster', 'Endpoint.Port'] },
    });
  });

  test('nothing of that name, or a name that is a token: nothing found', () => {
    const stack = newStack();
    newCluster(stack, 'Cluster', { clusterIdentifier: 'analytics' });
    expect(RedshiftTarget.cluster('elsewhere')._lookup(stack)).toEqual({ dependency: undefined });
    expect(RedshiftTarget.workgroup('analytics')._lookup(stack)).toEqual({ dependency: undefined });
    const token = new cdk.CfnParameter(stack, 'Id').valueAsString;
    expect(RedshiftTarget.cluster(token)._lookup(stack)).toEqual({ dependency: undefined });
  });

  test('a cluster whose identifier or database is a token: not matched by name; its database is not taken', () => {
    const stack = newStack();
    const param = new cdk.CfnParameter(stack, 'Id').valueAsString;
    newCluster(stack, 'ByToken', { clusterIdentifier: param });
    expect(RedshiftTarget.cluster('analytics')._lookup(stack).dependency).toBeUndefined();
    const cluster = newCluster(stack, 'Cluster', { dbName: new cdk.CfnParameter(stack, 'Db').valueAsString });
    const lookup = RedshiftTarget.fromCfnCluster(cluster)._lookup(stack);
    expect([lookup.dependency, lookup.database]).toEqual([cluster, undefined]);
  });

  test('a workgroup named by name is found, with its namespace\'s database', () => {
    const stack = newStack();
    const { workgroup } = newServerless(stack);
    const lookup = RedshiftTarget.workgroup('analytics-wg')._lookup(stack);
    expect([lookup.dependency, lookup.database]).toEqual([workgroup, 'dev']);
    expect(resolved(stack, lookup.endpoint)).toEqual({
      host: { 'Fn::GetAtt': ['Workgroup', 'Workgroup.Endpoint.Address'] },
      port: { 'Fn::GetAtt': ['Workgroup', 'Workgroup.Endpoint.Port'] },
    });
  });

  test('a workgroup is found by its own name, not another one\'s', () => {
    const stack = newStack();
    new redshiftserverless.CfnWorkgroup(stack, 'Other', { workgroupName: 'other-wg' });
    expect(RedshiftTarget.workgroup('analytics-wg')._lookup(stack).dependency).toBeUndefined();
    const { workgroup } = newServerless(stack);
    expect(RedshiftTarget.workgroup('analytics-wg')._lookup(stack).dependency).toBe(workgroup);
  });

  test('an attachment-target construct without a CfnCluster inside is still the dependency', () => {
    const stack = newStack();
    class Plain extends Construct implements secretsmanager.ISecretAttachmentTarget {
      public asSecretAttachmentTarget() {
        return { targetId: 'plain', targetType: secretsmanager.AttachmentTargetType.REDSHIFT_CLUSTER };
      }
    }
    const plain = new Plain(stack, 'Plain');
    expect(RedshiftTarget.fromSecretAttachmentTarget(plain)._lookup(stack)).toEqual({ dependency: plain });
  });

  test('a cluster of another stack: no dependency, no endpoint (a cross-stack reference), its literal database still', () => {
    const app = new cdk.App();
    const env = { account: '123456789012', region: 'eu-west-1' };
    const dbStack = new cdk.Stack(app, 'Db', { env });
    const appStack = new cdk.Stack(app, 'App', { env });
    const lookup = RedshiftTarget.fromCfnCluster(newCluster(dbStack))._lookup(appStack);
    expect(lookup).toEqual({ dependency: undefined, database: 'dev', endpoint: undefined });
    const { workgroup } = newServerless(dbStack);
    expect(RedshiftTarget.fromCfnWorkgroup(workgroup)._lookup(appStack)).toEqual({ dependency: undefined, database: 'dev', endpoint: undefined });
  });
});

describe('_prepareAdminPassword', () => {
  const secretIn = (stack: cdk.Stack, id = 'Master') => new secretsmanager.Secret(stack, id);

  test('a CfnCluster: the secret names the cluster, the wiring sets its password and notices a later change', () => {
    const stack = newStack();
    const cluster = newCluster(stack, 'Cluster', { clusterIdentifier: 'Analytics' });
    const wiring = RedshiftTarget.fromCfnCluster(cluster)._prepareAdminPassword(stack, 'admin');
    expect(wiring.fields).toEqual({ dbClusterIdentifier: 'analytics' });
    const check = wiring.wire(secretIn(stack));
    expect(resolved(stack, cluster.masterUserPassword)).toEqual(expect.objectContaining({ 'Fn::Join': expect.anything() }));
    expect(check()).toEqual([]);
    cluster.manageMasterPassword = true;
    expect(check()).toEqual(['masterUsername: the CfnCluster\'s masterUserPassword or manageMasterPassword was changed after the master secret was wired to it']);
    cluster.manageMasterPassword = false;
    expect(check()).toEqual([]);
    cluster.masterUserPassword = 'changed';
    expect(check()).toHaveLength(1);
  });

  test.each([
    [{ clusterIdentifier: undefined }, 'admin', 'masterUsername: the CfnCluster needs a literal clusterIdentifier, so that the master secret can name the cluster whose password it sets without a circular dependency'],
    [{ manageMasterPassword: true }, 'admin', 'masterUsername: the CfnCluster has manageMasterPassword set, so Redshift owns the admin password; pass its secret as masterSecret instead'],
    [{ masterUserPassword: 'x' }, 'admin', 'masterUsername: the CfnCluster already has a masterUserPassword (another RedshiftSecretRotation may have created a master secret for it: pass that one as masterSecret)'],
    [{}, 'root', 'masterUsername: \'root\' differs from the CfnCluster\'s masterUsername \'admin\''],
  ])('a CfnCluster with %p, master %s: refused', (props, masterUsername, message) => {
    const stack = newStack();
    const target = RedshiftTarget.fromCfnCluster(newCluster(stack, 'Cluster', props));
    expect(() => target._prepareAdminPassword(stack, masterUsername)).toThrow(new Error(message));
  });

  test('a CfnCluster whose masterUsername is a token takes any master user name', () => {
    const stack = newStack();
    const cluster = newCluster(stack, 'Cluster', { masterUsername: new cdk.CfnParameter(stack, 'User').valueAsString });
    expect(RedshiftTarget.fromCfnCluster(cluster)._prepareAdminPassword(stack, 'root').fields).toEqual({ dbClusterIdentifier: 'analytics' });
  });

  test('a CfnWorkgroup: the secret names the workgroup, the wiring sets the namespace\'s admin user and password and notices a later change', () => {
    const stack = newStack();
    const { namespace, workgroup } = newServerless(stack);
    const wiring = RedshiftTarget.fromCfnWorkgroup(workgroup)._prepareAdminPassword(stack, 'root');
    expect(wiring.fields).toEqual({ workgroupName: 'analytics-wg' });
    const check = wiring.wire(secretIn(stack));
    expect(namespace.adminUsername).toBe('root');
    expect(namespace.adminUserPassword).toBeDefined();
    expect(check()).toEqual([]);
    namespace.manageAdminPassword = true;
    expect(check()).toEqual(['masterUsername: the CfnNamespace\'s adminUserPassword or manageAdminPassword was changed after the master secret was wired to it']);
    namespace.manageAdminPassword = undefined;
    namespace.adminUserPassword = 'changed';
    expect(check()).toHaveLength(1);
  });

  test('a CfnWorkgroup whose namespace is given, or found by its name', () => {
    const stack = newStack();
    const namespace = new redshiftserverless.CfnNamespace(stack, 'Ns', { namespaceName: 'by-name' });
    const byName = new redshiftserverless.CfnWorkgroup(stack, 'ByName', { workgroupName: 'wg-by-name', namespaceName: 'by-name' });
    RedshiftTarget.fromCfnWorkgroup(byName)._prepareAdminPassword(stack, 'admin').wire(secretIn(stack));
    expect(namespace.adminUsername).toBe('admin');
    const given = new redshiftserverless.CfnNamespace(stack, 'Given', { namespaceName: 'given' });
    const unnamed = new redshiftserverless.CfnWorkgroup(stack, 'Unnamed', { workgroupName: 'wg-unnamed', namespaceName: 'given' });
    expect(() => RedshiftTarget.fromCfnWorkgroup(unnamed, { namespace: given })._prepareAdminPassword(stack, 'admin')).not.toThrow();
  });

  test('a CfnWorkgroup naming its namespace by the namespace\'s Ref or NamespaceName attribute: found', () => {
    const stack = newStack();
    for (const [id, nameOf] of [['ByRef', (ns: redshiftserverless.CfnNamespace) => ns.ref], ['ByAttr', (ns: redshiftserverless.CfnNamespace) => ns.attrNamespaceNamespaceName]] as const) {
      const namespace = new redshiftserverless.CfnNamespace(stack, `${id}Ns`, { namespaceName: id.toLowerCase() });
      const workgroup = new redshiftserverless.CfnWorkgroup(stack, `${id}Wg`, { workgroupName: `wg-${id.toLowerCase()}`, namespaceName: nameOf(namespace) });
      RedshiftTarget.fromCfnWorkgroup(workgroup)._prepareAdminPassword(stack, 'admin').wire(secretIn(stack, `${id}Master`));
      expect([id, namespace.adminUsername]).toEqual([id, 'admin']);
    }
  });

  test.each([
    [(ns: redshiftserverless.CfnNamespace) => { ns.manageAdminPassword = true; }, 'root',
      'masterUsername: the CfnNamespace has manageAdminPassword set, so Redshift owns the admin password; pass its secret as masterSecret instead'],
    [(ns: redshiftserverless.CfnNamespace) => { ns.adminUserPassword = 'x'; }, 'root',
      'masterUsername: the CfnNamespace already has an adminUserPassword (another RedshiftSecretRotation may have created a master secret for it: pass that one as masterSecret)'],
    [(ns: redshiftserverless.CfnNamespace) => { ns.adminUsername = 'admin'; }, 'root', 'masterUsername: \'root\' differs from the CfnNamespace\'s adminUsername \'admin\''],
  ])('a CfnNamespace set up so (%#): refused', (setUp, masterUsername, message) => {
    const stack = newStack();
    const { namespace, workgroup } = newServerless(stack);
    setUp(namespace);
    expect(() => RedshiftTarget.fromCfnWorkgroup(workgroup)._prepareAdminPassword(stack, masterUsername)).toThrow(new Error(message));
  });

  test('a CfnWorkgroup without a namespace in the app, or without a literal name: refused', () => {
    const stack = newStack();
    const lonely = new redshiftserverless.CfnWorkgroup(stack, 'Lonely', { workgroupName: 'lonely', namespaceName: 'missing' });
    expect(() => RedshiftTarget.fromCfnWorkgroup(lonely)._prepareAdminPassword(stack, 'admin'))
      .toThrow(new Error('masterUsername: no CfnNamespace named \'missing\' found in this app; pass it as RedshiftTarget.fromCfnWorkgroup(workgroup, { namespace })'));
    const { namespace } = newServerless(stack);
    const byToken = new redshiftserverless.CfnWorkgroup(stack, 'ByToken', { workgroupName: new cdk.CfnParameter(stack, 'Wg').valueAsString, namespaceName: 'analytics' });
    expect(() => RedshiftTarget.fromCfnWorkgroup(byToken, { namespace })._prepareAdminPassword(stack, 'admin'))
      .toThrow(new Error('masterUsername: the CfnWorkgroup needs a literal workgroupName, so that the master secret can name the workgroup'));
  });

  test.each([
    [() => RedshiftTarget.cluster('c1'), 'RedshiftTarget.fromCfnCluster()'],
    [() => RedshiftTarget.workgroup('wg-1'), 'RedshiftTarget.fromCfnWorkgroup()'],
  ])('a target named only by its identifier: refused, naming the factory to use (%#)', (make, factory) => {
    const stack = newStack();
    expect(() => make()._prepareAdminPassword(stack, 'admin')).toThrow(new Error(`masterUsername: a master secret can only be created for a target defined in this app (${factory}); for a database defined elsewhere pass its admin secret as masterSecret`));
  });
});
