import { DEFAULT_CONFIG, parseConfig } from '../../lambda/rotation/config';
import { allowedPasswordCharacters, checkExcludeCharacters, passwordProblems, punctuationAllowed } from '../../lambda/rotation/password';

describe('configuration from the environment', () => {
  test('defaults', () => {
    expect(parseConfig({})).toEqual(DEFAULT_CONFIG);
    expect(DEFAULT_CONFIG).toEqual({
      passwordLength: 32,
      excludeCharacters: '',
      probeSecretPrefix: 'redshift-rotation-probe/',
      testStatements: [],
      statementPollMs: 100,
      statementTimeoutMs: 60000,
      allowSuperuserClone: false,
      masterTargets: [],
    });
  });

  test('reads every variable', () => {
    expect(parseConfig({
      PASSWORD_LENGTH: '8',
      EXCLUDE_CHARACTERS: '%^',
      PROBE_SECRET_PREFIX: 'probes/x-',
      TEST_STATEMENTS: '["SELECT count(*) FROM t", "SELECT 2"]',
      STATEMENT_POLL_MS: '10',
      STATEMENT_TIMEOUT_MS: '840000',
      ALLOW_SUPERUSER_CLONE: 'true',
      MASTER_TARGETS: '[["arn:aws:secretsmanager:eu-west-1:111122223333:secret:admin-AbCdEf","cluster:My-Cluster","workgroup:wg1"],'
        + '["arn:aws:secretsmanager:eu-west-1:111122223333:secret:imported-??????","workgroup:wg2"]]',
    })).toEqual({
      passwordLength: 8,
      excludeCharacters: '%^',
      probeSecretPrefix: 'probes/x-',
      testStatements: ['SELECT count(*) FROM t', 'SELECT 2'],
      statementPollMs: 10,
      statementTimeoutMs: 840000,
      allowSuperuserClone: true,
      masterTargets: [
        {
          arn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:admin-AbCdEf',
          partial: false,
          targets: [{ kind: 'cluster', name: 'my-cluster' }, { kind: 'workgroup', name: 'wg1' }],
        },
        { arn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:imported', partial: true, targets: [{ kind: 'workgroup', name: 'wg2' }] },
      ],
    });
    expect(parseConfig({ PASSWORD_LENGTH: '64' }).passwordLength).toBe(64);
  });

  test.each([
    ['PASSWORD_LENGTH', '7'],
    ['PASSWORD_LENGTH', '65'],
    ['PASSWORD_LENGTH', '32.5'],
    ['PASSWORD_LENGTH', 'abc'],
    ['PASSWORD_LENGTH', '-8'],
    ['STATEMENT_POLL_MS', '9'],
    ['STATEMENT_POLL_MS', '10001'],
    ['STATEMENT_TIMEOUT_MS', '999'],
    ['STATEMENT_TIMEOUT_MS', '840001'],
    ['PROBE_SECRET_PREFIX', 'has space'],
    ['PROBE_SECRET_PREFIX', 'x'.repeat(201)],
    ['PROBE_SECRET_PREFIX', 'bad*char'],
    ['TEST_STATEMENTS', 'SELECT 1'],
    ['TEST_STATEMENTS', '{"a":1}'],
    ['TEST_STATEMENTS', '["SELECT 1", ""]'],
    ['TEST_STATEMENTS', '[1]'],
    ['EXCLUDE_CHARACTERS', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'],
    ['EXCLUDE_CHARACTERS', 'abcdefghijklmnopqrstuvwxyz'],
    ['EXCLUDE_CHARACTERS', '0123456789'],
    ['ALLOW_SUPERUSER_CLONE', 'yes'],
    ['ALLOW_SUPERUSER_CLONE', 'TRUE'],
    ['MASTER_TARGETS', '{"arn":["cluster:c"]}'],
    ['MASTER_TARGETS', 'not json'],
    ['MASTER_TARGETS', '[["arn:aws:secretsmanager:eu-west-1:111122223333:secret:a-AbCdEf"]]'],
    ['MASTER_TARGETS', '[["not-an-arn","cluster:c"]]'],
    ['MASTER_TARGETS', '[["arn:aws:secretsmanager:eu-west-1:111122223333:secret:a-AbCdEf","database:c"]]'],
    ['MASTER_TARGETS', '[["arn:aws:secretsmanager:eu-west-1:111122223333:secret:a-AbCdEf",1]]'],
  ])('refuses %s=%s naming the variable', (name, value) => {
    expect(() => parseConfig({ [name]: value })).toThrow(new RegExp(`^${name}`));
  });

  test.each([
    ['not json', ' (it is not valid JSON)'],
    ['["arn:aws:secretsmanager:eu-west-1:111122223333:secret:a-AbCdEf"]', '; entry 0 is not'],
    ['[["arn:aws:secretsmanager:eu-west-1:111122223333:secret:a-AbCdEf",1]]', '; entry 0 is not'],
    ['[["arn:aws:secretsmanager:eu-west-1:111122223333:secret:a-AbCdEf","cluster:c"],["xarn:aws:secretsmanager:eu-west-1:111122223333:secret:a-AbCdEf","cluster:c"]]',
      '; entry 1 does not start with a secret ARN'],
    ['[["arn:aws:secretsmanager:eu-west-1:111122223333:secret:a-AbCdEf\\nx","cluster:c"]]', '; entry 0 does not start with a secret ARN'],
    ['[["arn:aws:secretsmanager:eu-west-1:111122223333:secret:a-AbCdEf","xcluster:c"]]', '; entry 0 has the target "xcluster:c"'],
    ['[["arn:aws:secretsmanager:eu-west-1:111122223333:secret:a-AbCdEf","cluster:c\\nx"]]', '; entry 0 has the target "cluster:c\\nx"'],
  ])('MASTER_TARGETS=%s is refused saying why', (value, why) => {
    expect(() => parseConfig({ MASTER_TARGETS: value })).toThrow(new Error(
      `MASTER_TARGETS must be a JSON array of [master secret ARN, "cluster:<id>" | "workgroup:<name>", …] entries${why}`));
  });

  test('blank MASTER_TARGETS and an empty PROBE_SECRET_PREFIX are the defaults', () => {
    expect(parseConfig({ MASTER_TARGETS: '   ', PROBE_SECRET_PREFIX: '' })).toEqual(DEFAULT_CONFIG);
  });

  test('a TEST_STATEMENTS parse error does not quote the value', () => {
    expect(() => parseConfig({ TEST_STATEMENTS: '[secretish' })).toThrow(/^TEST_STATEMENTS[^[]*$/);
  });
});

describe('Redshift password rules', () => {
  test('never allows the characters Redshift refuses, nor space', () => {
    const allowed = allowedPasswordCharacters('');
    for (const c of ['\'', '"', '\\', '/', '@', ' ']) expect(allowed).not.toContain(c);
    expect(allowed).toHaveLength(94 - 5);
  });

  test('EXCLUDE_CHARACTERS must leave upper, lower and digit, and names what is missing', () => {
    expect(() => checkExcludeCharacters('abcdefghijklmnopqrstuvwxyz0123456789')).toThrow(/no lower-case letter, no digit/);
    expect(() => checkExcludeCharacters('!#$%&()*+,-.:;<=>?[]^_`{|}~')).not.toThrow();
  });

  test('punctuation is reported gone when every punctuation character is excluded', () => {
    expect(punctuationAllowed('')).toBe(true);
    expect(punctuationAllowed('!#$%&()*+,-.:;<=>?[]^_`{|}~')).toBe(false);
  });

  test('passwordProblems checks length, character set and each type without quoting the password', () => {
    expect(passwordProblems('Abcdefg1', 8, '')).toEqual([]);
    expect(passwordProblems('Abcdefg1', 9, '')).toEqual(['length is not 9']);
    expect(passwordProblems('Abcdef@1', 8, '')).toEqual(['contains a character that is forbidden or excluded']);
    expect(passwordProblems('Abcdef%1', 8, '%')).toEqual(['contains a character that is forbidden or excluded']);
    expect(passwordProblems('abcdefg1', 8, '')).toEqual(['no upper-case letter']);
    expect(passwordProblems('ABCDEFG1', 8, '')).toEqual(['no lower-case letter']);
    expect(passwordProblems('ABCDEFGh', 8, '')).toEqual(['no digit']);
  });
});

describe('environment values as Lambda passes them (the survivors of the mutation run)', () => {
  test('empty or blank values are the defaults', () => {
    expect(parseConfig({ STATEMENT_POLL_MS: '', STATEMENT_TIMEOUT_MS: '   ', TEST_STATEMENTS: '  ', ALLOW_SUPERUSER_CLONE: ' ', MASTER_TARGETS: '' })).toEqual(DEFAULT_CONFIG);
  });

  test('padded values are read without their spaces', () => {
    const config = parseConfig({ STATEMENT_POLL_MS: ' 250 ', ALLOW_SUPERUSER_CLONE: ' true ', TEST_STATEMENTS: ' ["SELECT 2"] ' });
    expect([config.statementPollMs, config.allowSuperuserClone, config.testStatements]).toEqual([250, true, ['SELECT 2']]);
    expect(parseConfig({ ALLOW_SUPERUSER_CLONE: 'false' }).allowSuperuserClone).toBe(false);
  });

  test('TEST_STATEMENTS: not JSON, not an array of non-empty strings, each refused with its own message', () => {
    expect(() => parseConfig({ TEST_STATEMENTS: '[SELECT' })).toThrow(/^TEST_STATEMENTS must be a JSON array of non-empty SQL strings \(it is not valid JSON\)$/);
    for (const bad of ['["SELECT 1", "  "]', '[1]', '{"a":"SELECT 1"}']) {
      expect(() => parseConfig({ TEST_STATEMENTS: bad })).toThrow(/^TEST_STATEMENTS must be a JSON array of non-empty SQL strings$/);
    }
  });
});
