import { Annotations, Aspects, Fn, Lazy, Names, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct, IConstruct, IDependable } from 'constructs';

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
 * Options for `RotationNetwork.interfaceEndpoints()`.
 */
export interface InterfaceEndpointsOptions {
  /**
   * Enable private DNS on the endpoints, so that every workload of the VPC resolves `secretsmanager` and
   * `redshift-data` to them. Their security group then admits HTTPS from the whole VPC CIDR (not only the rotation
   * functions), and the VPC must not already have private-DNS endpoints for these services.
   *
   * Without private DNS, no other workload of the VPC is affected: the rotation function reaches the endpoints by
   * their own DNS names, through the SDK's `AWS_ENDPOINT_URL_SECRETS_MANAGER` and `AWS_ENDPOINT_URL_REDSHIFT_DATA`
   * environment variables, and only the rotation functions may connect to them.
   *
   * @default false
   */
  readonly privateDns?: boolean;
}

/**
 * What a rotation function gives the network path it binds to (not part of the public API).
 */
export interface RotationFunctionBinding {
  /** The function's security groups. */
  readonly connections: ec2.Connections;
  /** The ARN of the function's role. */
  readonly roleArn: string;
  /** The actions of the function's role for a service prefix (`secretsmanager`, `redshift-data`), resolved at synth. */
  readonly actions: (service: string) => string[];
}

/**
 * What binding a network path produces (not part of the public API).
 */
export interface RotationNetworkBinding {
  /** What the function must wait for. */
  readonly dependables: IDependable[];
  /** Environment variables of the function (endpoint URLs). */
  readonly environment: { [key: string]: string };
}

/**
 * How a rotation function placed in a VPC reaches the Secrets Manager and Redshift Data API endpoints.
 *
 * The function never connects to the database itself (all SQL goes through the Data API), so without a VPC it
 * needs no network configuration at all.
 *
 * @example
 * // a VPC that already has interface endpoints for both services
 * new RedshiftSecretRotation(this, 'App', {
 *   target: RedshiftTarget.cluster('analytics'),
 *   username: 'app',
 *   vpc,
 *   network: RotationNetwork.existingEndpoints(secretsManagerEndpoint, redshiftDataEndpoint),
 * });
 */
export class RotationNetwork {
  /**
   * Create interface VPC endpoints for `secretsmanager` and `redshift-data` in the function's subnets. One pair per
   * VPC, stack and DNS setting, shared by every rotation function of the stack placed in that VPC. Each endpoint's
   * policy admits only the Secrets Manager or Data API actions of the rotation functions' roles.
   *
   * By default the endpoints have no private DNS, so that no other workload of the VPC loses the services: the
   * function reaches them through `AWS_ENDPOINT_URL_SECRETS_MANAGER` / `AWS_ENDPOINT_URL_REDSHIFT_DATA` set to the
   * endpoints' own DNS names, and only the rotation functions (by security group and by the endpoint policy's
   * `aws:PrincipalArn`) may use them. With `{ privateDns: true }` the endpoints serve the whole VPC (443 open to
   * the VPC CIDR).
   *
   * The default when any of the subnets has no egress (`PRIVATE_ISOLATED`). If the VPC already has endpoints for these
   * services, use `existingEndpoints()` (synth warns, or fails where the deployment would).
   */
  public static interfaceEndpoints(options: InterfaceEndpointsOptions = {}): RotationNetwork {
    return new RotationNetwork(RotationNetworkType.INTERFACE_ENDPOINTS, [], options.privateDns ?? false);
  }

  /**
   * Reach the public endpoints through the subnets' egress (a NAT gateway). The subnets must have egress
   * (`PRIVATE_WITH_EGRESS`); the function's security group allows outbound HTTPS only.
   *
   * The default when every subnet has egress.
   */
  public static natGateway(): RotationNetwork {
    return new RotationNetwork(RotationNetworkType.NAT_GATEWAY, [], false);
  }

  /**
   * Use interface endpoints that already exist in the VPC (with private DNS enabled); the function's security group
   * is allowed to reach them on port 443.
   *
   * @param secretsManager the `com.amazonaws.<region>.secretsmanager` endpoint
   * @param redshiftData the `com.amazonaws.<region>.redshift-data` endpoint
   */
  public static existingEndpoints(secretsManager: ec2.IInterfaceVpcEndpoint, redshiftData: ec2.IInterfaceVpcEndpoint): RotationNetwork {
    return new RotationNetwork(RotationNetworkType.EXISTING_ENDPOINTS, [secretsManager, redshiftData], true);
  }

  /** The kind of network path. */
  public readonly type: RotationNetworkType;

  /** Whether the service names resolve to the endpoints through private DNS (interface or existing endpoints). */
  public readonly privateDns: boolean;

  private readonly endpoints: ec2.IInterfaceVpcEndpoint[];

  private constructor(type: RotationNetworkType, endpoints: ec2.IInterfaceVpcEndpoint[], privateDns: boolean) {
    this.type = type;
    this.endpoints = endpoints;
    this.privateDns = privateDns;
  }

  /**
   * A stable description of the placement, for the id of the shared function.
   *
   * @internal
   */
  public get _key(): string {
    const dns = this.type === RotationNetworkType.INTERFACE_ENDPOINTS && this.privateDns ? ['privateDns'] : [];
    return [this.type, ...dns, ...this.endpoints.map((e) => e.node.path)].join(',');
  }

  /**
   * Checks the subnets, creates or connects the endpoints, and opens the function's security group for them.
   * Returns what the function must wait for and the environment it needs.
   *
   * @internal
   */
  public _bind(scope: Construct, vpc: ec2.IVpc, subnets: ec2.SelectedSubnets, fn: RotationFunctionBinding): RotationNetworkBinding {
    const isolatedIds = new Set(vpc.isolatedSubnets.map((s) => s.subnetId));
    const isolated = subnets.subnets.filter((s) => isolatedIds.has(s.subnetId));
    switch (this.type) {
      case RotationNetworkType.NAT_GATEWAY:
        if (isolated.length > 0) {
          throw new Error(`network: RotationNetwork.natGateway() needs subnets with egress, but ${isolated.length} of the selected subnets are isolated (${isolated.map((s) => s.node.path).join(', ')}); `
            + 'choose PRIVATE_WITH_EGRESS subnets in vpcSubnets, or use RotationNetwork.interfaceEndpoints()');
        }
        fn.connections.allowToAnyIpv4(ec2.Port.tcp(443), 'HTTPS to Secrets Manager and the Redshift Data API through the NAT gateway');
        return { dependables: [subnets.internetConnectivityEstablished], environment: {} };
      case RotationNetworkType.EXISTING_ENDPOINTS:
        for (const endpoint of this.endpoints) {
          fn.connections.allowTo(endpoint, ec2.Port.tcp(443), 'HTTPS to the Secrets Manager and Redshift Data API endpoints');
        }
        return { dependables: this.endpoints, environment: {} };
      default: {
        const shared = RotationEndpoints.of(scope, vpc, subnets, this.privateDns);
        shared._addFunction(fn);
        fn.connections.allowTo(shared.securityGroup, ec2.Port.tcp(443), 'HTTPS to the Secrets Manager and Redshift Data API endpoints');
        return { dependables: [shared], environment: shared.environment };
      }
    }
  }
}

/** The services the rotation function calls, with their endpoint service and SDK endpoint variable. */
const SERVICES = [
  { id: 'SecretsManager', prefix: 'secretsmanager', service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER, variable: 'AWS_ENDPOINT_URL_SECRETS_MANAGER' },
  { id: 'RedshiftData', prefix: 'redshift-data', service: ec2.InterfaceVpcEndpointAwsService.REDSHIFT_DATA, variable: 'AWS_ENDPOINT_URL_REDSHIFT_DATA' },
] as const;

/**
 * The secretsmanager and redshift-data interface endpoints of one VPC, shared by the rotation functions of a stack.
 */
class RotationEndpoints extends Construct {
  public static of(scope: Construct, vpc: ec2.IVpc, subnets: ec2.SelectedSubnets, privateDns: boolean): RotationEndpoints {
    const stack = Stack.of(scope);
    const id = `RedshiftRotationEndpoints${privateDns ? 'Dns' : ''}${Names.uniqueId(vpc).slice(-8)}`;
    const existing = stack.node.tryFindChild(id);
    if (existing instanceof RotationEndpoints) {
      return existing;
    }
    return new RotationEndpoints(stack, id, vpc, subnets, privateDns);
  }

  public readonly securityGroup: ec2.SecurityGroup;

  /** The endpoint URLs the functions use when there is no private DNS. */
  public readonly environment: { [key: string]: string } = {};

  private readonly functions: RotationFunctionBinding[] = [];

  private readonly vpc: ec2.IVpc;
  private readonly privateDns: boolean;

  private constructor(scope: Construct, id: string, vpc: ec2.IVpc, subnets: ec2.SelectedSubnets, privateDns: boolean) {
    super(scope, id);
    this.vpc = vpc;
    this.privateDns = privateDns;
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: privateDns
        ? 'Secrets Manager and Redshift Data API endpoints (private DNS) for the VPC, created for the Redshift rotation functions'
        : 'Secrets Manager and Redshift Data API endpoints of the Redshift rotation functions',
      allowAllOutbound: false,
    });
    if (privateDns) {
      this.securityGroup.addIngressRule(ec2.Peer.ipv4(vpc.vpcCidrBlock), ec2.Port.tcp(443),
        'HTTPS from the whole VPC: the endpoints have private DNS, so every workload of the VPC uses them');
    }
    // an interface endpoint takes at most one subnet per Availability Zone (onePerAz is ignored next to explicit subnets)
    const subnetSelection: ec2.SubnetSelection = { subnets: ec2.SubnetFilter.onePerAz().selectSubnets(subnets.subnets) };
    for (const { id: name, prefix, service, variable } of SERVICES) {
      const endpoint = new ec2.InterfaceVpcEndpoint(this, name, {
        vpc,
        service,
        subnets: subnetSelection,
        privateDnsEnabled: privateDns,
        securityGroups: [this.securityGroup],
        open: false,
      });
      (endpoint.node.defaultChild as ec2.CfnVPCEndpoint).policyDocument = Lazy.any({ produce: () => this.endpointPolicy(prefix) });
      if (!privateDns) {
        // DnsEntries: "<hosted zone id>:<DNS name>", the regional name first
        this.environment[variable] = `https://${Fn.select(1, Fn.split(':', Fn.select(0, endpoint.vpcEndpointDnsEntries)))}`;
      }
    }
    Aspects.of(this).add({ visit: (node) => (node === this ? this.checkOtherEndpoints() : undefined) });
  }

  /** @internal */
  public _addFunction(fn: RotationFunctionBinding): void {
    this.functions.push(fn);
  }

  /**
   * Only the actions of the rotation functions' roles for this service; without private DNS, only for those roles.
   */
  private endpointPolicy(prefix: string): any {
    const actions = [...new Set(this.functions.flatMap((fn) => fn.actions(prefix)))].sort();
    const statement: { [key: string]: any } = { Effect: 'Allow', Principal: { AWS: '*' }, Action: actions, Resource: '*' };
    if (!this.privateDns) {
      statement.Condition = { ArnEquals: { 'aws:PrincipalArn': this.functions.map((fn) => fn.roleArn) } };
    }
    return { Version: '2012-10-17', Statement: [statement] };
  }

  /**
   * Another endpoint for the same service in the same VPC: a second private-DNS endpoint fails the deployment
   * (error), any other is a duplicate to replace with `existingEndpoints()` (warning).
   */
  private checkOtherEndpoints(): void {
    const ours = new Set(this.node.findAll().filter((c) => c instanceof ec2.CfnVPCEndpoint));
    const resolved = (value: unknown, scope: IConstruct) => JSON.stringify(Stack.of(scope).resolve(value));
    // a VPC id given as a token refers to a resource of its own stack: tokens of two stacks are two VPCs
    const sameVpc = (other: ec2.CfnVPCEndpoint) => (!Token.isUnresolved(other.vpcId) && !Token.isUnresolved(this.vpc.vpcId)
      ? other.vpcId === this.vpc.vpcId
      : Stack.of(other) === Stack.of(this) && resolved(other.vpcId, other) === resolved(this.vpc.vpcId, this));
    for (const other of this.node.root.node.findAll()) {
      if (!(other instanceof ec2.CfnVPCEndpoint) || ours.has(other) || !sameVpc(other)) {
        continue;
      }
      // a service name refers to no resource (only the Region of its stack), so it compares across stacks
      const service = SERVICES.find((s) => resolved(other.serviceName, other) === resolved(s.service.name, this));
      if (!service) {
        continue;
      }
      const otherDns = other.privateDnsEnabled === true;
      const where = (other.node.id === 'Resource' ? other.node.scope ?? other : other).node.path;
      if (otherDns && this.privateDns) {
        this.node.addValidation({
          validate: () => [`network: the VPC already has a ${service.prefix} endpoint with private DNS (${where}); `
            + 'a second one fails the deployment. Use RotationNetwork.existingEndpoints() with it, or interfaceEndpoints() without privateDns'],
        });
      } else {
        Annotations.of(this).addWarningV2('cdk-redshift-rotation:endpointExists',
          `network: the VPC already has a ${service.prefix} endpoint (${where}); RotationNetwork.interfaceEndpoints() creates another one. `
          + 'Use RotationNetwork.existingEndpoints() to reuse it');
      }
    }
  }
}
