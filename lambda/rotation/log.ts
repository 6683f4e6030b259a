/**
 * One structured JSON line per step on stdout (docs/architecture.md, "Logging"). Never an event, a secret string,
 * a password or a verifier: callers pass only the fields below, and `error` is already redacted.
 */

export interface StepLogLine {
  readonly secretArn: string | null;
  readonly step: string | null;
  readonly strategy: string | null;
  readonly durationMs: number;
  readonly outcome: 'ok' | 'error';
  readonly error?: string;
  /** privileges not copied to the clone because their keyword is not on the allow-list */
  readonly skipped?: readonly string[];
  /** names of probe secrets an earlier rotation left behind, deleted by this step */
  readonly leftoverProbesDeleted?: readonly string[];
}

export type LineWriter = (line: string) => void;

export const STDOUT_WRITER: LineWriter = (line) => {
  process.stdout.write(line + '\n');
};

/** The log line as JSON (field order fixed). */
export function formatStepLog(entry: StepLogLine): string {
  const line: Record<string, unknown> = {
    secretArn: entry.secretArn,
    step: entry.step,
    strategy: entry.strategy,
    durationMs: entry.durationMs,
    outcome: entry.outcome,
  };
  if (entry.error !== undefined) line.error = entry.error;
  if (entry.skipped && entry.skipped.length > 0) line.skipped = entry.skipped;
  if (entry.leftoverProbesDeleted && entry.leftoverProbesDeleted.length > 0) line.leftoverProbesDeleted = entry.leftoverProbesDeleted;
  return JSON.stringify(line);
}
