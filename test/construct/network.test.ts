/**
 * RotationNetwork's own decisions (src/network.ts): the type and private DNS each factory gives, the key that decides
 * whether two rotations may share one function (and one set of endpoints), how another endpoint of the same VPC is
 * found, and what the endpoints and security groups are given.
 */
import * as cdk from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { isolatedVpc, natVpc, newStack } from './helpers';
import { RedshiftSecretRotation, RedshiftTarget, RotationNetwork, RotationNetworkType } from '../../src';

test.each([
  [RotationNetwork.interfaceEndpoints(), RotationNetworkType.INTERFACE_ENDPOINTS, false, 'INTERFACE_ENDPOINTS'],
  [RotationNetwork.interfaceEndpoints({ privateDns: false }), RotationNetworkType.INTERFACE_ENDPOINTS, false, 'INTERFACE_ENDPOINTS'],
  [RotationNetwork.interfaceEndpoints({ privateDns: true }), RotationNetworkType.INTERFACE_ENDPOINTS, true, 'INTERFACE_ENDPOINTS,privateDns'],
  [RotationNetwork.natGateway(), RotationNetworkType.NAT_GATEWAY, false, 'NAT_GATEWAY'],
])('%#: type, private DNS and key', (network, type, privateDns, key) => {
  expect([network.type, network.privateDns, network._key]).toEqual([type, privateDns, key]);
});

test('existingEndpoints: private DNS is the endpoints\' own; the key names both endpoints, in order', () => {
  const stack = newStack();
  const endpoint = (id: string) => ec2.InterfaceVpcEndpoint.fromInterfaceVpcEndpointAttributes(stack, id, { vpcEndpointId: `vpce-${id}`, port: 443 });
  const network = RotationNetwork.existingEndpoints(endpoint('Sm'), endpoint('Data'));
  expect([network.type, network.privateDns]).toEqual([RotationNetworkType.EXISTING_ENDPOINTS, true]);
  // private DNS is not part of the key here: the endpoints decide it
  expect(network._key).toBe('EXISTING_ENDPOINTS,TestStack/Sm,TestStack/Data');
});

test('endpoints with and without private DNS in one VPC are two sets, not one shared', () => {
  const stack = newStack();
  const vpc = isolatedVpc(stack);
  new RedshiftSecretRotation(stack, 'Plain', { target: RedshiftTarget.cluster('analytics'), username: 'app_one', vpc });
  new RedshiftSecretRotation(stack, 'Dns', {
    target: RedshiftTarget.cluster('analytics'), username: 'app_two', vpc, network: RotationNetwork.interfaceEndpoints({ privateDns: true }),
  });
  const endpoints = Object.values(Template.fromStack(stack).findResources('AWS::EC2::VPCEndpoint'));
  expect(endpoints.map((e) => e.Properties.PrivateDnsEnabled === true).sort()).toEqual([false, false, true, true]);
});

test('an endpoint made as a bare CfnVPCEndpoint is named by its own path in the warning', () => {
  const stack = newStack();
  const vpc = isolatedVpc(stack);
  new ec2.CfnVPCEndpoint(stack, 'RawSm', {
    vpcId: vpc.vpcId, serviceName: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER.name, vpcEndpointType: 'Interface', privateDnsEnabled: true,
  });
  new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), username: 'app_user', vpc });
  const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('already has a secretsmanager endpoint'));
  expect(warnings.map((w) => String(w.entry.data).includes('(TestStack/RawSm);'))).toEqual([true]);
});

describe('another endpoint of the same VPC, wherever it is written', () => {
  const VPC_ID = 'vpc-0a1b2c3d';
  const env = { account: '123456789012', region: 'eu-west-1' };
  const importedVpc = (scope: cdk.Stack) => ec2.Vpc.fromVpcAttributes(scope, 'Vpc', {
    vpcId: VPC_ID, availabilityZones: ['eu-west-1a', 'eu-west-1b'], isolatedSubnetIds: ['subnet-0aaa', 'subnet-0bbb'],
  });
  const secretsManagerEndpoint = (scope: Construct, id: string, vpcId: string) => new ec2.CfnVPCEndpoint(scope, id, {
    vpcId, serviceName: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER.name, vpcEndpointType: 'Interface',
  });
  const rotate = (stack: cdk.Stack, vpc: ec2.IVpc) => new RedshiftSecretRotation(stack, 'Rotation', { target: RedshiftTarget.cluster('analytics'), username: 'app_user', vpc });
  const endpointWarnings = (stack: cdk.Stack) => Annotations.fromStack(stack)
    .findWarning('*', Match.stringLikeRegexp('already has a')).map((w) => String(w.entry.data));

  test('a VPC imported by its id: an endpoint in another stack with that id is found, one of another VPC id is not', () => {
    const app = new cdk.App();
    const network = new cdk.Stack(app, 'Network', { env });
    secretsManagerEndpoint(network, 'Shared', VPC_ID);
    secretsManagerEndpoint(network, 'Elsewhere', 'vpc-0ffffff');
    const stack = new cdk.Stack(app, 'App', { env });
    rotate(stack, importedVpc(stack));
    expect(endpointWarnings(stack)).toEqual([
      'network: the VPC already has a secretsmanager endpoint (Network/Shared); RotationNetwork.interfaceEndpoints() creates another one. '
      + 'Use RotationNetwork.existingEndpoints() to reuse it [ack: cdk-redshift-rotation:endpointExists]',
    ]);
  });

  test('a VPC id given as a token that resolves to the literal id is the same VPC', () => {
    const stack = newStack();
    secretsManagerEndpoint(stack, 'Lazy', cdk.Lazy.string({ produce: () => VPC_ID }));
    rotate(stack, importedVpc(stack));
    expect(endpointWarnings(stack).map((w) => w.includes('(TestStack/Lazy)'))).toEqual([true]);
  });

  test('a Ref to the VPC written by hand is the same VPC as the VPC\'s own id', () => {
    const stack = newStack();
    const vpc = isolatedVpc(stack);
    secretsManagerEndpoint(stack, 'ByRef', cdk.Fn.ref(stack.getLogicalId(vpc.node.defaultChild as ec2.CfnVPC)));
    rotate(stack, vpc);
    expect(endpointWarnings(stack).map((w) => w.includes('(TestStack/ByRef)'))).toEqual([true]);
  });

  test('a VPC at the same path in another stack is another VPC', () => {
    const app = new cdk.App();
    const other = new cdk.Stack(app, 'Other', { env });
    secretsManagerEndpoint(other, 'Theirs', isolatedVpc(other).vpcId);
    const stack = new cdk.Stack(app, 'App', { env });
    rotate(stack, isolatedVpc(stack));
    expect(endpointWarnings(stack)).toEqual([]);
    expect(endpointWarnings(other)).toEqual([]);
  });

  test('a second private-DNS endpoint is reported once, with what to do instead', () => {
    const stack = newStack();
    const vpc = isolatedVpc(stack);
    vpc.addInterfaceEndpoint('Data', { service: ec2.InterfaceVpcEndpointAwsService.REDSHIFT_DATA });
    new RedshiftSecretRotation(stack, 'Rotation', {
      target: RedshiftTarget.cluster('analytics'), username: 'app_user', vpc, network: RotationNetwork.interfaceEndpoints({ privateDns: true }),
    });
    let message = '';
    try {
      cdk.App.of(stack)!.synth();
    } catch (e) {
      message = (e as Error).message;
    }
    const error = 'network: the VPC already has a redshift-data endpoint with private DNS (TestStack/Vpc/Data); a second one fails the deployment. '
      + 'Use RotationNetwork.existingEndpoints() with it, or interfaceEndpoints() without privateDns';
    expect(message.split(error).length - 1).toBe(1);
  });
});

test('the endpoints take one subnet per Availability Zone (a VPC endpoint takes no more), the function all it is given', () => {
  const stack = newStack();
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [{ name: 'one', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }, { name: 'two', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
  });
  new RedshiftSecretRotation(stack, 'Rotation', {
    target: RedshiftTarget.cluster('analytics'), username: 'app_user', vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
  });
  const template = Template.fromStack(stack);
  const endpoints = Object.values(template.findResources('AWS::EC2::VPCEndpoint'));
  expect(endpoints.map((e) => e.Properties.SubnetIds.length)).toEqual([2, 2]);
  const functions = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { VpcConfig: Match.anyValue() } }));
  expect(functions.map((f) => f.Properties.VpcConfig.SubnetIds.length)).toEqual([4]);
});

test('the endpoints are in the function\'s subnets, not in the VPC\'s default ones', () => {
  const stack = newStack();
  const vpc = natVpc(stack);
  new RedshiftSecretRotation(stack, 'Rotation', {
    target: RedshiftTarget.cluster('analytics'), username: 'app_user', vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
  });
  const template = Template.fromStack(stack);
  const isolated = vpc.isolatedSubnets.map((subnet) => stack.resolve(subnet.subnetId));
  const [fn] = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { VpcConfig: Match.anyValue() } }));
  expect(fn.Properties.VpcConfig.SubnetIds).toEqual(isolated);
  expect(Object.values(template.findResources('AWS::EC2::VPCEndpoint')).map((e) => e.Properties.SubnetIds)).toEqual([isolated, isolated]);
});

describe('the security groups say why each rule is there', () => {
  const descriptions = (stack: cdk.Stack) => {
    const json = JSON.stringify(Template.fromStack(stack).toJSON());
    return [...json.matchAll(/"(?:Group)?Description":"([^"]*)"/g)].map((m) => m[1]).filter((d) => /Secrets Manager|endpoints/.test(d)).sort();
  };

  // each rule between two security groups is written twice: egress of the function's, ingress of the endpoints'
  const toEndpoints = 'HTTPS to the Secrets Manager and Redshift Data API endpoints';
  const functionGroup = 'Redshift rotation function: outbound HTTPS to Secrets Manager and the Redshift Data API only';
  test.each([
    [false, [toEndpoints, toEndpoints, functionGroup, 'Secrets Manager and Redshift Data API endpoints of the Redshift rotation functions']],
    [true, [
      'HTTPS from the whole VPC: the endpoints have private DNS, so every workload of the VPC uses them',
      toEndpoints, toEndpoints, functionGroup,
      'Secrets Manager and Redshift Data API endpoints (private DNS) for the VPC, created for the Redshift rotation functions',
    ]],
  ])('interface endpoints, private DNS %p', (privateDns, expected) => {
    const stack = newStack();
    new RedshiftSecretRotation(stack, 'Rotation', {
      target: RedshiftTarget.cluster('analytics'), username: 'app_user', vpc: isolatedVpc(stack), network: RotationNetwork.interfaceEndpoints({ privateDns }),
    });
    expect(descriptions(stack)).toEqual(expected);
  });

  test('NAT gateway', () => {
    const stack = newStack();
    new RedshiftSecretRotation(stack, 'Rotation', {
      target: RedshiftTarget.cluster('analytics'), username: 'app_user', vpc: natVpc(stack), network: RotationNetwork.natGateway(),
    });
    expect(descriptions(stack)).toEqual(['HTTPS to Secrets Manager and the Redshift Data API through the NAT gateway', functionGroup]);
  });

  test('existing endpoints', () => {
    const stack = newStack();
    const vpc = isolatedVpc(stack);
    const sm = vpc.addInterfaceEndpoint('Sm', { service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER, open: false });
    const data = vpc.addInterfaceEndpoint('Data', { service: ec2.InterfaceVpcEndpointAwsService.REDSHIFT_DATA, open: false });
    new RedshiftSecretRotation(stack, 'Rotation', {
      target: RedshiftTarget.cluster('analytics'), username: 'app_user', vpc, network: RotationNetwork.existingEndpoints(sm, data),
    });
    expect(descriptions(stack)).toEqual([toEndpoints, toEndpoints, toEndpoints, toEndpoints, functionGroup]);
  });
});
