/**
 * Synthesis benchmark: N rotated Redshift secrets (alternating users) in one stack, in an isolated VPC, with this
 * library and with aws-cdk-lib's own constructs, in the same run.
 *
 *   npm run bench -- synth [--quick]           (BENCH_SYNTH_RUNS=n overrides the synth runs per point)
 *
 * For N in 1, 10, 50, 100, 150, 300 (quick: 1, 10, 100) it synthesizes, in one stack each, a VPC with isolated
 * subnets only (no NAT) and:
 * - ours:        RedshiftSecretRotation, ALTERNATING_USERS with one given master secret; the stack's shared function
 *                in the isolated subnets, reaching Secrets Manager and the Data API through interface endpoints
 *                (RotationNetwork.interfaceEndpoints(), the default there);
 * - cdk-sar:     secretsmanager.SecretRotation with SecretRotationApplication.REDSHIFT_ROTATION_MULTI_USER (a
 *                Serverless Application Repository application per secret) and one shared Secrets Manager
 *                interface endpoint;
 * - cdk-hosted:  secret.addRotationSchedule() with HostedRotation.redshiftMultiUser() (the AWS::SecretsManager
 *                transform makes the function of each rotation in a nested stack) and the same shared endpoint.
 * It reports the template's resources, the Lambda functions the deployment runs (in the template, or one per SAR
 * application or hosted rotation), the template's KB, the characters of every IAM policy document in the template
 * (AWS::IAM::Policy, AWS::IAM::ManagedPolicy and the inline policies of AWS::IAM::Role, as minified JSON) and the
 * largest aggregate of inline policies of one role (IAM allows 10,240 characters), the median synth time, whether
 * the template fits CloudFormation's 500 resources, and, from the per-secret slope, the most secrets per stack
 * and the stacks 300 secrets need. Every comparison with ours is a `ratio`. Prints tables, then one JSON line.
 *
 * The function's and roles' resources that SAR applications and hosted rotations create live in nested stacks:
 * they count against neither the template's resources nor its IAM characters here.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import * as cdk from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { RedshiftSecretRotation, RedshiftTarget } from '../src';
import { envInt, median, printJson, printTable, QUICK, ratio, ratioCell, round, say } from './support';

const SIZES = QUICK ? [1, 10, 100] : [1, 10, 50, 100, 150, 300];
const RUNS = envInt('BENCH_SYNTH_RUNS', QUICK ? 1 : 3);
const RESOURCE_LIMIT = 500;
const ROLE_POLICY_LIMIT = 10_240;
const SECRETS_TO_PLACE = 300;
const ENV = { account: '123456789012', region: 'eu-west-1' };
const MASTER_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift/admin-AbCdEf';

type Variant = 'ours' | 'cdk-sar' | 'cdk-hosted';
const VARIANTS: Variant[] = ['ours', 'cdk-sar', 'cdk-hosted'];

function build(stack: cdk.Stack, variant: Variant, n: number): void {
  const master = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Master', MASTER_ARN);
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
  });
  const vpcSubnets = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  if (variant === 'ours') {
    const target = RedshiftTarget.cluster('analytics');
    for (let i = 0; i < n; i++) {
      new RedshiftSecretRotation(stack, `User${i}`, { target, username: `user_${i}`, masterSecret: master, vpc, vpcSubnets });
    }
    return;
  }
  // aws-cdk-lib's functions connect to the cluster (port 5439) and call Secrets Manager through an endpoint
  const endpoint = vpc.addInterfaceEndpoint('SecretsManager', { service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER, subnets: vpcSubnets });
  const clusterSecurityGroup = new ec2.SecurityGroup(stack, 'ClusterSg', { vpc });
  const cluster: ec2.IConnectable = {
    connections: new ec2.Connections({ securityGroups: [clusterSecurityGroup], defaultPort: ec2.Port.tcp(5439) }),
  };
  for (let i = 0; i < n; i++) {
    const secret = new secretsmanager.Secret(stack, `User${i}`, {
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ engine: 'redshift', username: `user_${i}`, host: 'analytics.example', port: 5439, masterarn: MASTER_ARN }),
        generateStringKey: 'password',
      },
    });
    if (variant === 'cdk-sar') {
      new secretsmanager.SecretRotation(stack, `Rotation${i}`, {
        application: secretsmanager.SecretRotationApplication.REDSHIFT_ROTATION_MULTI_USER,
        secret,
        masterSecret: master,
        target: cluster,
        vpc,
        vpcSubnets,
        endpoint,
      });
    } else {
      const hosted = secretsmanager.HostedRotation.redshiftMultiUser({ masterSecret: master, vpc, vpcSubnets });
      secret.addRotationSchedule('Rotation', { hostedRotation: hosted });
      cluster.connections.allowDefaultPortFrom(hosted);
    }
  }
}

interface Point {
  readonly variant: Variant;
  readonly secrets: number;
  readonly resources: number;
  readonly lambdaFunctions: number;
  readonly templateKb: number;
  readonly iamPolicyChars: number;
  readonly largestRolePolicyChars: number;
  readonly synthMsMedian: number;
  readonly fits500: boolean;
}

/** Characters of the policy documents (minified JSON), all of them and the largest inline aggregate of one role. */
function iamCharacters(resources: Record<string, any>): { total: number; largestRole: number } {
  const len = (doc: unknown) => JSON.stringify(doc ?? {}).length;
  const perRole = new Map<string, number>();
  let total = 0;
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::IAM::Role') {
      const n = (r.Properties?.Policies ?? []).reduce((s: number, p: any) => s + len(p.PolicyDocument), 0);
      total += n;
      perRole.set(id, (perRole.get(id) ?? 0) + n);
    } else if (r.Type === 'AWS::IAM::Policy') {
      const n = len(r.Properties?.PolicyDocument);
      total += n;
      for (const role of r.Properties?.Roles ?? []) {
        const roleId = typeof role === 'object' && role?.Ref ? role.Ref : JSON.stringify(role);
        perRole.set(roleId, (perRole.get(roleId) ?? 0) + n);
      }
    } else if (r.Type === 'AWS::IAM::ManagedPolicy') {
      total += len(r.Properties?.PolicyDocument);
    }
  }
  return { total, largestRole: Math.max(0, ...perRole.values()) };
}

function measure(variant: Variant, n: number, runs: number): Point {
  const times: number[] = [];
  let template: any;
  let bytes = 0;
  for (let run = 0; run < runs; run++) {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-synth-'));
    try {
      const started = performance.now();
      // aws-cdk-lib refuses to synthesize more than 500 resources; lift that check to measure, and report it below
      const app = new cdk.App({ outdir, context: { '@aws-cdk/core:stackResourceLimit': 0 } });
      const stack = new cdk.Stack(app, 'Bench', { env: ENV });
      build(stack, variant, n);
      const assembly = app.synth();
      times.push(performance.now() - started);
      const file = path.join(outdir, assembly.getStackByName('Bench').templateFile);
      bytes = fs.statSync(file).size;
      template = JSON.parse(fs.readFileSync(file, 'utf8'));
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  }
  const resources: Record<string, any> = template.Resources ?? {};
  const all = Object.values<any>(resources);
  const count = (type: string, f: (r: any) => boolean = () => true) => all.filter((r) => r.Type === type && f(r)).length;
  const iam = iamCharacters(resources);
  return {
    variant,
    secrets: n,
    resources: all.length,
    lambdaFunctions: count('AWS::Lambda::Function') + count('AWS::Serverless::Application')
      + count('AWS::SecretsManager::RotationSchedule', (r) => r.Properties?.HostedRotationLambda !== undefined),
    templateKb: round(bytes / 1024, 1),
    iamPolicyChars: iam.total,
    largestRolePolicyChars: iam.largestRole,
    synthMsMedian: round(median(times)),
    fits500: all.length <= RESOURCE_LIMIT,
  };
}

interface Capacity {
  readonly variant: Variant;
  readonly fixedResources: number;
  readonly resourcesPerSecret: number;
  readonly maxSecretsPerStack: number;
  readonly stacksFor300: number;
}

/** The line through the smallest and the largest N: fixed resources, resources per secret, and what fits. */
function capacity(variant: Variant, points: readonly Point[]): Capacity {
  const own = points.filter((p) => p.variant === variant).sort((a, b) => a.secrets - b.secrets);
  const [lo, hi] = [own[0], own[own.length - 1]];
  const perSecret = (hi.resources - lo.resources) / (hi.secrets - lo.secrets);
  const fixed = lo.resources - perSecret * lo.secrets;
  const maxSecretsPerStack = Math.floor((RESOURCE_LIMIT - fixed) / perSecret);
  return {
    variant,
    fixedResources: round(fixed, 1),
    resourcesPerSecret: round(perSecret, 2),
    maxSecretsPerStack,
    stacksFor300: Math.ceil(SECRETS_TO_PLACE / maxSecretsPerStack),
  };
}

function main(): void {
  for (const variant of VARIANTS) measure(variant, 1, 1); // warm up module loading and the JIT
  const points: Point[] = [];
  for (const n of SIZES) {
    for (const variant of VARIANTS) {
      points.push(measure(variant, n, RUNS));
      process.stderr.write(`  ${variant} ${n}\n`);
    }
  }
  const caps = VARIANTS.map((v) => capacity(v, points));

  say(`synthesis, alternating users in an isolated VPC, aws-cdk-lib ${cdkVersion()}, median of ${RUNS} synth run(s)`);
  printTable(
    ['secrets', 'variant', 'resources', 'ratio', 'Lambda functions', 'template KB', 'ratio', 'IAM policy chars', 'ratio',
      'largest role policy', 'synth ms', 'ratio', 'fits 500'],
    points.map((p) => {
      const ours = points.find((o) => o.secrets === p.secrets && o.variant === 'ours')!;
      const r = (a: number, b: number) => (p.variant === 'ours' ? '' : ratioCell(ratio(a, b)));
      return [
        p.secrets, p.variant, p.resources, r(p.resources, ours.resources), p.lambdaFunctions, p.templateKb, r(p.templateKb, ours.templateKb),
        p.iamPolicyChars, p.iamPolicyChars === 0 ? '-' : r(p.iamPolicyChars, ours.iamPolicyChars),
        `${p.largestRolePolicyChars}${p.largestRolePolicyChars > ROLE_POLICY_LIMIT ? ' (> 10,240)' : ''}`,
        p.synthMsMedian, r(p.synthMsMedian, ours.synthMsMedian), p.fits500 ? 'yes' : 'NO',
      ];
    }),
  );
  say('IAM policy chars: minified JSON of every policy document in the template; cdk-sar and cdk-hosted keep a role per secret in its nested stack (not counted).');
  say('cdk-hosted: the AWS::SecretsManager transform adds the nested stack of each hosted rotation to the processed template (not counted here).');
  say('');
  say('capacity (500 resources per stack; the floor is 2 resources per created secret: the secret and its schedule)');
  const ours = caps.find((c) => c.variant === 'ours')!;
  printTable(
    ['variant', 'fixed resources', 'per secret', 'max secrets per stack', 'ratio', `stacks for ${SECRETS_TO_PLACE}`, 'ratio'],
    caps.map((c) => [
      c.variant, c.fixedResources, c.resourcesPerSecret, c.maxSecretsPerStack, ratioCell(ratio(c.maxSecretsPerStack, ours.maxSecretsPerStack)),
      c.stacksFor300, ratioCell(ratio(c.stacksFor300, ours.stacksFor300)),
    ]),
  );
  const floorMax = Math.floor((RESOURCE_LIMIT - ours.fixedResources) / 2);
  say(`ours: ${ours.maxSecretsPerStack} secrets per stack; at the floor of 2 resources per secret it would be ${floorMax} (ratio ${ratioCell(ratio(ours.maxSecretsPerStack, floorMax))})`);
  const largest = Math.max(...SIZES);
  for (const v of VARIANTS.filter((x) => x !== 'ours')) {
    const p = points.find((x) => x.variant === v && x.secrets === largest)!;
    const o = points.find((x) => x.variant === 'ours' && x.secrets === largest)!;
    say(`${largest} secrets, ${v} / ours: resources ratio ${ratioCell(ratio(p.resources, o.resources))}, Lambda functions ratio ${ratioCell(ratio(p.lambdaFunctions, o.lambdaFunctions))}, `
      + `template KB ratio ${ratioCell(ratio(p.templateKb, o.templateKb))}, `
      + `IAM characters ratio ${p.iamPolicyChars === 0 ? '- (its roles are in nested stacks)' : ratioCell(ratio(p.iamPolicyChars, o.iamPolicyChars))}, `
      + `synth ms ratio ${ratioCell(ratio(p.synthMsMedian, o.synthMsMedian))}`);
  }
  printJson('synth', { runs: RUNS, awsCdkLib: cdkVersion(), resourceLimit: RESOURCE_LIMIT, points, capacity: caps });
}

function cdkVersion(): string {
  return JSON.parse(fs.readFileSync(require.resolve('aws-cdk-lib/package.json'), 'utf8')).version;
}

main();
