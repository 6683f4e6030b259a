/**
 * RotationNetwork's own decisions (src/network.ts) without synthesis: the type and private DNS each factory gives,
 * and the key that decides whether two rotations may share one function (and one set of endpoints).
 */
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { isolatedVpc, newStack } from './helpers';
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
