import { Names, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct, IDependable } from 'constructs';

/**
 * The kind of network path a rotation function in a VPC uses to reach Secrets Manager and the Redshift Data API.
 */
export enum RotationNetworkType {
  /** Interface VPC endpoints created for the VPC. */
  INTERFACE_ENDPOINTS = 'INTERFACE_ENDPOINTS',
  /** A route to the internet through a NAT gateway (or another egress) of the subnets. */
  NAT_GATEWAY = 'NAT_GATEWAY',
  /** Interface VPC endpoints that already exist. */
  EXISTING_ENDPOINTS = 'EXISTING_ENDPOINTS',
}

/**
 * How a rotation function placed in a VPC reaches the Secrets Manager and Redshift Data API endpoints.
 *
 * The function never connects to the database itself (all SQL goes through the Data API), so without a VPC it
 * needs no network configuration at all.
 */
export class RotationNetwork {
  /**
   * Create interface VPC endpoints for `secretsmanager` and `redshift-data` (private DNS enabled) in the function's
   * subnets, reachable on port 443 from the rotation functions' security groups only. One pair per VPC and stack,
   * shared by every rotation function of the stack placed in that VPC.
   *
   * The default for subnets without egress (`PRIVATE_ISOLATED`). The VPC must not already have endpoints with
   * private DNS for these services: use `existingEndpoints()` then.
   */
  public static interfaceEndpoints(): RotationNetwork {
    return new RotationNetwork(RotationNetworkType.INTERFACE_ENDPOINTS, []);
  }

  /**
   * Reach the public endpoints through the subnets' egress (a NAT gateway). The subnets must have egress
   * (`PRIVATE_WITH_EGRESS`); the function's security group allows outbound HTTPS only.
   *
   * The default for subnets with egress.
   */
  public static natGateway(): RotationNetwork {
    return new RotationNetwork(RotationNetworkType.NAT_GATEWAY, []);
  }

  /**
   * Use interface endpoints that already exist in the VPC (with private DNS enabled); the function's security group
   * is allowed to reach them on port 443.
   *
   * @param secretsManager the `com.amazonaws.<region>.secretsmanager` endpoint
   * @param redshiftData the `com.amazonaws.<region>.redshift-data` endpoint
   */
  public static existingEndpoints(secretsManager: ec2.IInterfaceVpcEndpoint, redshiftData: ec2.IInterfaceVpcEndpoint): RotationNetwork {
    return new RotationNetwork(RotationNetworkType.EXISTING_ENDPOINTS, [secretsManager, redshiftData]);
  }

  /** The kind of network path. */
  public readonly type: RotationNetworkType;

  private readonly endpoints: ec2.IInterfaceVpcEndpoint[];

  private constructor(type: RotationNetworkType, endpoints: ec2.IInterfaceVpcEndpoint[]) {
    this.type = type;
    this.endpoints = endpoints;
  }

  /**
   * A stable description of the placement, for the id of the shared function.
   *
   * @internal
   */
  public get _key(): string {
    return [this.type, ...this.endpoints.map((e) => e.node.path)].join(',');
  }

  /**
   * Checks the subnets, creates or connects the endpoints, and opens the function's security group for them.
   * Returns what the function must wait for.
   *
   * @internal
   */
  public _bind(scope: Construct, vpc: ec2.IVpc, subnets: ec2.SelectedSubnets, connections: ec2.Connections): IDependable[] {
    const isolatedIds = new Set(vpc.isolatedSubnets.map((s) => s.subnetId));
    const isolated = subnets.subnets.filter((s) => isolatedIds.has(s.subnetId));
    switch (this.type) {
      case RotationNetworkType.NAT_GATEWAY:
        if (isolated.length > 0) {
          throw new Error(`network: RotationNetwork.natGateway() needs subnets with egress, but ${isolated.length} of the selected subnets are isolated (${isolated.map((s) => s.node.path).join(', ')}); `
            + 'choose PRIVATE_WITH_EGRESS subnets in vpcSubnets, or use RotationNetwork.interfaceEndpoints()');
        }
        connections.allowToAnyIpv4(ec2.Port.tcp(443), 'HTTPS to Secrets Manager and the Redshift Data API through the NAT gateway');
        return [subnets.internetConnectivityEstablished];
      case RotationNetworkType.EXISTING_ENDPOINTS:
        for (const endpoint of this.endpoints) {
          connections.allowTo(endpoint, ec2.Port.tcp(443), 'HTTPS to the Secrets Manager and Redshift Data API endpoints');
        }
        return this.endpoints;
      default: {
        const shared = RotationEndpoints.of(scope, vpc, subnets);
        connections.allowTo(shared.securityGroup, ec2.Port.tcp(443), 'HTTPS to the Secrets Manager and Redshift Data API endpoints');
        return [shared];
      }
    }
  }
}

/**
 * The secretsmanager and redshift-data interface endpoints of one VPC, shared by the rotation functions of a stack.
 */
class RotationEndpoints extends Construct {
  public static of(scope: Construct, vpc: ec2.IVpc, subnets: ec2.SelectedSubnets): RotationEndpoints {
    const stack = Stack.of(scope);
    const id = `RedshiftRotationEndpoints${Names.uniqueId(vpc).slice(-8)}`;
    const existing = stack.node.tryFindChild(id);
    if (existing instanceof RotationEndpoints) {
      return existing;
    }
    return new RotationEndpoints(stack, id, vpc, subnets);
  }

  public readonly securityGroup: ec2.SecurityGroup;

  private constructor(scope: Construct, id: string, vpc: ec2.IVpc, subnets: ec2.SelectedSubnets) {
    super(scope, id);
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: 'Secrets Manager and Redshift Data API endpoints of the Redshift rotation functions',
      allowAllOutbound: false,
    });
    const subnetSelection: ec2.SubnetSelection = { subnets: subnets.subnets, onePerAz: true };
    for (const [name, service] of [
      ['SecretsManager', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER],
      ['RedshiftData', ec2.InterfaceVpcEndpointAwsService.REDSHIFT_DATA],
    ] as const) {
      new ec2.InterfaceVpcEndpoint(this, name, {
        vpc,
        service,
        subnets: subnetSelection,
        privateDnsEnabled: true,
        securityGroups: [this.securityGroup],
        open: false,
      });
    }
  }
}
