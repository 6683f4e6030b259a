import { validateEvent } from '../../lambda/rotation/event';
import { handler } from '../../lambda/rotation/index';

describe('rotation event validation', () => {
  const valid = { SecretId: 'arn:s', ClientRequestToken: 't', Step: 'createSecret' };

  test('accepts each of the four steps', () => {
    for (const Step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
      expect(validateEvent({ ...valid, Step })).toEqual({ ...valid, Step });
    }
  });

  test.each([
    ['SecretId', { ClientRequestToken: 't', Step: 'createSecret' }],
    ['SecretId', { ...valid, SecretId: '' }],
    ['SecretId', { ...valid, SecretId: 42 }],
    ['ClientRequestToken', { SecretId: 's', Step: 'createSecret' }],
    ['ClientRequestToken', { ...valid, ClientRequestToken: '   ' }],
    ['Step', { SecretId: 's', ClientRequestToken: 't' }],
    ['Step', { ...valid, Step: 'dropSecret' }],
    ['Step', { ...valid, Step: 'CREATESECRET' }],
  ])('names %s when it is wrong', (field, event) => {
    expect(() => validateEvent(event)).toThrow(new RegExp(`^Invalid rotation event: ${field}`));
  });

  test('keeps the RotationToken, and refuses one that is not a non-empty string', () => {
    expect(validateEvent({ ...valid, RotationToken: 'rt' })).toEqual({ ...valid, RotationToken: 'rt' });
    expect(() => validateEvent({ ...valid, RotationToken: 5 })).toThrow(/^Invalid rotation event: RotationToken must be a non-empty string when given$/);
  });

  test.each([null, undefined, 'createSecret', 42, []])('refuses %p', (event) => {
    expect(() => validateEvent(event)).toThrow(/expected an object/);
  });

  test('the handler refuses a malformed event before any AWS call', async () => {
    await expect(handler({ ClientRequestToken: 't', Step: 'createSecret' } as any)).rejects.toThrow(/SecretId must be a non-empty string/);
    await expect(handler({ SecretId: 's', ClientRequestToken: 't', Step: 'dropSecret' } as any)).rejects.toThrow(/Step must be one of/);
  });
});
