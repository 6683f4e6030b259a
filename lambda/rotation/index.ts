/**
 * Secrets Manager rotation handler for Amazon Redshift (work in progress: event validation only).
 */
export interface RotationEvent {
  readonly SecretId: string;
  readonly ClientRequestToken: string;
  readonly Step: string;
}

const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];

export async function handler(event: RotationEvent): Promise<void> {
  if (!event || typeof event !== 'object') throw new Error('Invalid rotation event: expected an object');
  for (const field of ['SecretId', 'ClientRequestToken', 'Step'] as const) {
    if (typeof event[field] !== 'string' || event[field].length === 0) {
      throw new Error(`Invalid rotation event: ${field} must be a non-empty string`);
    }
  }
  if (!STEPS.includes(event.Step)) throw new Error(`Invalid rotation event: Step must be one of ${STEPS.join(', ')}`);
  throw new Error('not implemented yet');
}
