/**
 * Synthesis benchmark: N rotated Redshift secrets in one stack, with this library and with aws-cdk-lib's own
 * rotation constructs.
 *
 *   npx ts-node --project bench/tsconfig.json bench/synth.ts [runs]
 *
 * For N in 1, 10, 50, 100, 150 it synthesizes, in one stack each:
 * - ours-single:        RedshiftSecretRotation, SINGLE_USER, no VPC (the stack's shared function)
 * - ours-alternating:   RedshiftSecretRotation, ALTERNATING_USERS with one given master secret
 * - cdk-multi-user:     secretsmanager.SecretRotation with SecretRotationApplication.REDSHIFT_ROTATION_MULTI_USER
 *                       (a Serverless Application Repository app per secret; needs a VPC and a connectable target)
 * - cdk-single-user:    secretsmanager.SecretRotation with REDSHIFT_ROTATION_SINGLE_USER
 *                       (what @aws-cdk/aws-redshift-alpha's Cluster.addRotationSingleUser() builds)
 * - cdk-hosted-single:  secret.addRotationSchedule() with HostedRotation.redshiftSingleUser()
 *                       (the AWS::SecretsManager-2020-07-23 transform makes a nested stack with a function per secret)
 * and reports the resources in the synthesized template, the template's bytes, the Lambda functions that the
 * deployment runs (in the template, or one per SAR application / hosted rotation), the median synth time over
 * `runs` (default 5), and whether the template fits CloudFormation's limits (500 resources, 1 MB template).
 * Prints a table, then one JSON line.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import * as cdk from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { RedshiftSecretRotation, RedshiftTarget } from '../src';

const SIZES = [1, 10, 50, 100, 150];
const RUNS = Number(process.argv[2] ?? 5);
const RESOURCE_LIMIT = 500;
const TEMPLATE_BYTES_LIMIT = 1_000_000;
const ENV = { account: '123456789012', region: 'eu-west-1' };
const MASTER_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift/admin-AbCdEf';

type Variant = 'ours-single' | 'ours-alternating' | 'cdk-multi-user' | 'cdk-single-user' | 'cdk-hosted-single';
const VARIANTS: Variant[] = ['ours-single', 'ours-alternating', 'cdk-multi-user', 'cdk-single-user', 'cdk-hosted-single'];

function build(stack: cdk.Stack, variant: Variant, n: number): void {
  const master = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Master', MASTER_ARN);
  if (variant.startsWith('ours')) {
    const target = RedshiftTarget.cluster('analytics');
    for (let i = 0; i < n; i++) {
      new RedshiftSecretRotation(stack, `User${i}`, {
        target,
        username: `user_${i}`,
        masterSecret: variant === 'ours-alternating' ? master : undefined,
      });
    }
    return;
  }
  if (variant === 'cdk-hosted-single') {
    for (let i = 0; i < n; i++) {
      const secret = new secretsmanager.Secret(stack, `User${i}`, {
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ engine: 'redshift', username: `user_${i}`, host: 'analytics.example', port: 5439 }),
          generateStringKey: 'password',
        },
      });
      secret.addRotationSchedule('Rotation', { hostedRotation: secretsmanager.HostedRotation.redshiftSingleUser() });
    }
    return;
  }
  // SecretRotation needs the rotation function in the cluster's network (it connects to port 5439)
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
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
    new secretsmanager.SecretRotation(stack, `Rotation${i}`, {
      application: variant === 'cdk-multi-user'
        ? secretsmanager.SecretRotationApplication.REDSHIFT_ROTATION_MULTI_USER
        : secretsmanager.SecretRotationApplication.REDSHIFT_ROTATION_SINGLE_USER,
      secret,
      masterSecret: variant === 'cdk-multi-user' ? master : undefined,
      target: cluster,
      vpc,
    });
  }
}

interface Result {
  readonly variant: Variant;
  readonly secrets: number;
  readonly resources: number;
  readonly templateBytes: number;
  readonly lambdaFunctions: number;
  readonly synthMsMedian: number;
  readonly fitsCloudFormation: boolean;
}

function measure(variant: Variant, n: number): Result {
  const times: number[] = [];
  let template: any;
  let templateBytes = 0;
  for (let run = 0; run < RUNS; run++) {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-synth-'));
    const started = performance.now();
    // aws-cdk-lib refuses to synthesize more than 500 resources; lift that check to measure, and report it below
    const app = new cdk.App({ outdir, context: { '@aws-cdk/core:stackResourceLimit': 0 } });
    const stack = new cdk.Stack(app, 'Bench', { env: ENV });
    build(stack, variant, n);
    const assembly = app.synth();
    times.push(performance.now() - started);
    const file = path.join(outdir, assembly.getStackByName('Bench').templateFile);
    templateBytes = fs.statSync(file).size;
    template = JSON.parse(fs.readFileSync(file, 'utf8'));
    fs.rmSync(outdir, { recursive: true, force: true });
  }
  const resources = Object.values<any>(template.Resources ?? {});
  const lambdaFunctions = resources.filter((r) => r.Type === 'AWS::Lambda::Function').length
    + resources.filter((r) => r.Type === 'AWS::Serverless::Application').length
    + resources.filter((r) => r.Type === 'AWS::SecretsManager::RotationSchedule' && r.Properties?.HostedRotationLambda).length;
  times.sort((a, b) => a - b);
  return {
    variant,
    secrets: n,
    resources: resources.length,
    templateBytes,
    lambdaFunctions,
    synthMsMedian: Math.round(times[Math.floor(times.length / 2)]),
    fitsCloudFormation: resources.length <= RESOURCE_LIMIT && templateBytes <= TEMPLATE_BYTES_LIMIT,
  };
}

function main(): void {
  // warm up module loading and the JIT so that the first measurement is not the slowest
  for (const variant of VARIANTS) {
    measure(variant, 1);
  }
  const results: Result[] = [];
  for (const n of SIZES) {
    for (const variant of VARIANTS) {
      results.push(measure(variant, n));
    }
  }

  const header = ['secrets', 'variant', 'resources', 'template bytes', 'Lambda functions', 'synth ms (median)', 'resources vs ours', 'fits CloudFormation'];
  const rows = results.map((r) => {
    const ours = results.find((o) => o.secrets === r.secrets && o.variant === (r.variant === 'cdk-multi-user' ? 'ours-alternating' : 'ours-single'))!;
    return [
      String(r.secrets), r.variant, String(r.resources), String(r.templateBytes), String(r.lambdaFunctions), String(r.synthMsMedian),
      r.variant.startsWith('ours') ? '' : `${(r.resources / ours.resources).toFixed(2)}x`,
      r.fitsCloudFormation ? 'yes' : `NO (${r.resources > RESOURCE_LIMIT ? `${r.resources} > ${RESOURCE_LIMIT} resources` : 'template > 1 MB'})`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  process.stdout.write(`${line(header)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n`);
  for (const row of rows) {
    process.stdout.write(`${line(row)}\n`);
  }
  process.stdout.write(`${JSON.stringify({
    bench: 'synth',
    runs: RUNS,
    awsCdkLib: JSON.parse(fs.readFileSync(require.resolve('aws-cdk-lib/package.json'), 'utf8')).version,
    node: process.version,
    results,
  })}\n`);
}

main();
