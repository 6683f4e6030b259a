import * as cdk from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as redshift from 'aws-cdk-lib/aws-redshift';
import * as redshiftserverless from 'aws-cdk-lib/aws-redshiftserverless';
import { Construct } from 'constructs';

/** Masks asset hashes so that a change of the handler bundle does not churn every snapshot. */
export const assetHashSerializer: jest.SnapshotSerializerPlugin = {
  test: (value: unknown) => typeof value === 'string' && /[A-Fa-f0-9]{64}/.test(value),
  serialize: (value: string) => JSON.stringify(value.replace(/[A-Fa-f0-9]{64}(\.zip)?/g, '[HASH REMOVED]$1')),
};

export function newStack(id = 'TestStack'): cdk.Stack {
  const app = new cdk.App();
  return new cdk.Stack(app, id, { env: { account: '123456789012', region: 'eu-west-1' } });
}

export function newCluster(scope: Construct, id = 'Cluster', props: Partial<redshift.CfnClusterProps> = {}): redshift.CfnCluster {
  return new redshift.CfnCluster(scope, id, {
    clusterIdentifier: 'analytics',
    clusterType: 'single-node',
    nodeType: 'ra3.xlplus',
    dbName: 'dev',
    masterUsername: 'admin',
    encrypted: true,
    publiclyAccessible: false,
    ...props,
  });
}

export function newServerless(stack: cdk.Stack, props: { adminUsername?: string } = {}) {
  const namespace = new redshiftserverless.CfnNamespace(stack, 'Namespace', {
    namespaceName: 'analytics',
    dbName: 'dev',
    adminUsername: props.adminUsername,
  });
  const workgroup = new redshiftserverless.CfnWorkgroup(stack, 'Workgroup', {
    workgroupName: 'analytics-wg',
    namespaceName: namespace.ref,
  });
  workgroup.addDependency(namespace);
  return { namespace, workgroup };
}

export function isolatedVpc(stack: cdk.Stack): ec2.Vpc {
  return new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
  });
}

export function natVpc(stack: cdk.Stack): ec2.Vpc {
  return new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 1,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
      { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    ],
  });
}

export function resourceCount(stack: cdk.Stack): number {
  return Object.keys(Template.fromStack(stack).toJSON().Resources ?? {}).length;
}

export function countOfType(stack: cdk.Stack, type: string): number {
  return Object.values(Template.fromStack(stack).findResources(type)).length;
}

/** The JSON of every policy attached to the rotation function's role (inline and AWS::IAM::Policy). */
export function rolePolicyJson(stack: cdk.Stack): string {
  const template = Template.fromStack(stack);
  const roles = template.findResources('AWS::IAM::Role');
  const policies = template.findResources('AWS::IAM::Policy');
  return JSON.stringify([
    ...Object.values(roles).map((r) => r.Properties.Policies ?? []),
    ...Object.values(policies).map((p) => p.Properties.PolicyDocument),
  ]);
}

/** The texts of the stack's warnings whose acknowledgement id is `cdk-redshift-rotation:<id>`. */
export function warningsOf(stack: cdk.Stack, id: string): string[] {
  return Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp(`\\[ack: cdk-redshift-rotation:${id}\\]`))
    .map((w) => String(w.entry.data));
}

/** The acknowledgement ids of all the stack's warnings (the whole text of a warning without one). */
export function warningIds(stack: cdk.Stack): string[] {
  return Annotations.fromStack(stack).findWarning('*', Match.anyValue())
    .map((w) => /\[ack: ([^\]]+)\]/.exec(String(w.entry.data))?.[1] ?? String(w.entry.data));
}
