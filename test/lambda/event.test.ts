import { handler } from '../../lambda/rotation/index';

describe('rotation event validation', () => {
  test('refuses an event without SecretId', async () => {
    await expect(handler({ ClientRequestToken: 't', Step: 'createSecret' } as any)).rejects.toThrow(/SecretId/);
  });
  test('refuses an unknown Step', async () => {
    await expect(handler({ SecretId: 's', ClientRequestToken: 't', Step: 'dropSecret' })).rejects.toThrow(/Step/);
  });
});
