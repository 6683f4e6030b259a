/**
 * The function's runtime exists in the stack's partition and region: the newest Node.js where aws-cdk-lib's region
 * facts say Lambda offers it, the library's floor (nodejs22.x) elsewhere, and `runtime` pins it.
 */
import * as cdk from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Fact, FactName, RegionInfo } from 'aws-cdk-lib/region-info';
import { RedshiftRotationFunction, RedshiftSecretRotation, RedshiftTarget } from '../../src';

const FLOOR = 'nodejs22.x';

function stackIn(region?: string, context?: Record<string, unknown>): cdk.Stack {
  const app = new cdk.App({ context });
  return new cdk.Stack(app, 'Stack', region ? { env: { account: '123456789012', region } } : {});
}

function runtimeOf(stack: cdk.Stack): unknown {
  const functions = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'));
  expect(functions).toHaveLength(1);
  return functions[0].Properties.Runtime;
}

/** What a newer aws-cdk-lib would say: Lambda offers `value` in `regions`. Undone after each test. */
const registered: Array<{ region: string; previous?: string; value: string }> = [];
function latestNodeRuntimeFact(regions: string[], value: string): void {
  for (const region of regions) {
    registered.push({ region, previous: Fact.find(region, FactName.LATEST_NODE_RUNTIME), value });
    Fact.register({ region, name: FactName.LATEST_NODE_RUNTIME, value }, true);
  }
}
afterEach(() => {
  for (const { region, previous, value } of registered.reverse()) {
    Fact.unregister(region, FactName.LATEST_NODE_RUNTIME, value);
    if (previous !== undefined) {
      Fact.register({ region, name: FactName.LATEST_NODE_RUNTIME, value: previous }, true);
    }
  }
  registered.length = 0;
});

describe('the facts of the installed aws-cdk-lib (2.176)', () => {
  // what these tests rely on: commercial regions name nodejs20.x, China and GovCloud nodejs18.x
  test.each([
    ['eu-west-1', 'nodejs20.x'], ['us-east-1', 'nodejs20.x'], ['cn-north-1', 'nodejs18.x'], ['us-gov-west-1', 'nodejs18.x'],
  ])('%s: %s', (region, runtime) => {
    expect(Fact.find(region, FactName.LATEST_NODE_RUNTIME)).toBe(runtime);
  });
});

describe('the runtime exists in the partition and region of the stack', () => {
  test.each(['eu-west-1', 'us-east-1'])('commercial %s: the floor, since aws-cdk-lib names a runtime Lambda no longer creates', (region) => {
    const stack = stackIn(region);
    new RedshiftRotationFunction(stack, 'Fn');
    expect(runtimeOf(stack)).toBe(FLOOR);
  });

  test.each(['cn-north-1', 'cn-northwest-1'])('China %s: the floor, never nodejs18.x', (region) => {
    const stack = stackIn(region);
    new RedshiftRotationFunction(stack, 'Fn');
    expect(runtimeOf(stack)).toBe(FLOOR);
  });

  test.each(['us-gov-west-1', 'us-gov-east-1'])('GovCloud %s: the floor, never nodejs18.x', (region) => {
    const stack = stackIn(region);
    new RedshiftRotationFunction(stack, 'Fn');
    expect(runtimeOf(stack)).toBe(FLOOR);
  });

  test('a region aws-cdk-lib has no facts for: the floor', () => {
    expect(Fact.find('eu-future-7', FactName.LATEST_NODE_RUNTIME)).toBeUndefined();
    const stack = stackIn('eu-future-7');
    new RedshiftRotationFunction(stack, 'Fn');
    expect(runtimeOf(stack)).toBe(FLOOR);
  });

  test('the newest Node.js where aws-cdk-lib says Lambda has it, and only there', () => {
    // GIVEN a newer aws-cdk-lib: a NODEJS_24_X constant, and nodejs24.x in the commercial regions' facts only
    new lambda.Runtime('nodejs24.x', lambda.RuntimeFamily.NODEJS, { supportsInlineCode: true });
    latestNodeRuntimeFact(['eu-west-1', 'us-east-1'], 'nodejs24.x');

    // THEN commercial stacks get it, China and GovCloud stacks the floor
    const expected: Record<string, string> = {
      'eu-west-1': 'nodejs24.x', 'us-east-1': 'nodejs24.x', 'cn-north-1': FLOOR, 'us-gov-west-1': FLOOR,
    };
    const actual: Record<string, unknown> = {};
    for (const region of Object.keys(expected)) {
      const stack = stackIn(region);
      new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), username: 'app_user' });
      actual[region] = runtimeOf(stack);
    }
    expect(actual).toEqual(expected);
  });

  test('env-agnostic: the runtime of every region aws-cdk-lib knows, as a literal (no mapping, no region lookup)', () => {
    const stack = stackIn(undefined);
    new RedshiftRotationFunction(stack, 'Fn');
    expect(runtimeOf(stack)).toBe(FLOOR);
    expect(Template.fromStack(stack).toJSON().Mappings).toBeUndefined();
  });

  test('env-agnostic: a newer runtime only when every known region of the target partitions has it', () => {
    const commercial = RegionInfo.regions
      .filter((r) => r.partition === 'aws')
      .map((r) => r.name);
    expect(commercial.length).toBeGreaterThan(20);
    latestNodeRuntimeFact(commercial, 'nodejs24.x');

    // every partition: China and GovCloud do not have it
    const all = stackIn(undefined);
    new RedshiftRotationFunction(all, 'Fn');
    expect(runtimeOf(all)).toBe(FLOOR);

    // only the commercial partition (@aws-cdk/core:target-partitions): every region has it
    const aws = stackIn(undefined, { '@aws-cdk/core:target-partitions': ['aws'] });
    new RedshiftRotationFunction(aws, 'Fn');
    expect(runtimeOf(aws)).toBe('nodejs24.x');
  });

  test('env-agnostic with an empty list of target partitions: the floor', () => {
    const stack = stackIn(undefined, { '@aws-cdk/core:target-partitions': [] });
    new RedshiftRotationFunction(stack, 'Fn');
    expect(runtimeOf(stack)).toBe(FLOOR);
  });

  test('a fact older than the floor never wins, even when it is the only one', () => {
    latestNodeRuntimeFact(['eu-west-1'], 'nodejs16.x');
    const stack = stackIn('eu-west-1');
    new RedshiftRotationFunction(stack, 'Fn');
    expect(runtimeOf(stack)).toBe(FLOOR);
  });
});

describe('runtime pins it', () => {
  test.each([['eu-west-1'], ['cn-north-1'], ['us-gov-west-1'], [undefined]])('in %s', (region) => {
    const stack = stackIn(region);
    new RedshiftRotationFunction(stack, 'Fn', { runtime: lambda.Runtime.NODEJS_20_X });
    expect(runtimeOf(stack)).toBe('nodejs20.x');
  });

  test('through RedshiftSecretRotation\'s function: a RedshiftRotationFunction given as rotationFunction', () => {
    const stack = stackIn('cn-north-1');
    const fn = new RedshiftRotationFunction(stack, 'Fn', { runtime: new lambda.Runtime('nodejs24.x', lambda.RuntimeFamily.NODEJS) });
    new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), username: 'app_user', rotationFunction: fn });
    expect(runtimeOf(stack)).toBe('nodejs24.x');
  });
});
