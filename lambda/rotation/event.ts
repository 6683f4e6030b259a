/**
 * The rotation event Secrets Manager sends, validated before any AWS call.
 */

export const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
export type Step = typeof STEPS[number];

/** The event as Secrets Manager sends it (nothing checked yet). */
export interface RotationEvent {
  readonly SecretId: string;
  readonly ClientRequestToken: string;
  readonly Step: string;
  readonly RotationToken?: string;
}

/** A checked event. */
export interface ValidEvent {
  readonly SecretId: string;
  readonly ClientRequestToken: string;
  readonly Step: Step;
  /** Present when the service sent one (it validates cross-account and assumed-role rotations); never logged. */
  readonly RotationToken?: string;
}

/** The event, checked: `SecretId` and `ClientRequestToken` non-empty strings, `Step` one of the four steps. */
export function validateEvent(event: unknown): ValidEvent {
  if (!event || typeof event !== 'object' || Array.isArray(event)) {
    throw new Error('Invalid rotation event: expected an object with SecretId, ClientRequestToken and Step');
  }
  const record = event as Record<string, unknown>;
  for (const field of ['SecretId', 'ClientRequestToken', 'Step']) {
    const value = record[field];
    if (typeof value !== 'string' || value.trim().length === 0) {
      throw new Error(`Invalid rotation event: ${field} must be a non-empty string`);
    }
  }
  if (!(STEPS as readonly string[]).includes(record.Step as string)) {
    throw new Error(`Invalid rotation event: Step must be one of ${STEPS.join(', ')}`);
  }
  if (record.RotationToken !== undefined && (typeof record.RotationToken !== 'string' || record.RotationToken.length === 0)) {
    throw new Error('Invalid rotation event: RotationToken must be a non-empty string when given');
  }
  return {
    SecretId: record.SecretId as string,
    ClientRequestToken: record.ClientRequestToken as string,
    Step: record.Step as Step,
    RotationToken: record.RotationToken as string | undefined,
  };
}
