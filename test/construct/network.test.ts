/**
 * RotationNetwork's own decisions (src/network.ts) without synthesis: the type and private DNS each factory gives,
 * and the key that decides whether two rotations may share one function (and one set of endpoints).
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { newStack } from './helpers';
import { RotationNetwork, RotationNetworkType } from '../../src';

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
