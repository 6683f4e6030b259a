/**
 * Redshift's password rules: 8 to 64 characters, at least one upper-case letter, one lower-case letter and one digit,
 * printable ASCII (33 to 126) except ' " \ / @ (and never a space).
 */

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 64;
/** Characters Redshift refuses in a password (space is never generated: IncludeSpace is false). */
export const REDSHIFT_FORBIDDEN_CHARACTERS = '\'"\\/@';

const PRINTABLE: string[] = [];
for (let code = 33; code <= 126; code++) PRINTABLE.push(String.fromCharCode(code));

/** The characters a generated password may use once `excludeCharacters` and Redshift's forbidden ones are removed. */
export function allowedPasswordCharacters(excludeCharacters: string): string[] {
  const excluded = new Set([...REDSHIFT_FORBIDDEN_CHARACTERS, ...excludeCharacters]);
  return PRINTABLE.filter((c) => !excluded.has(c));
}

/**
 * Throws when `excludeCharacters` leaves no valid Redshift password (no upper-case letter, lower-case letter or digit
 * remains). Names the variable.
 */
export function checkExcludeCharacters(excludeCharacters: string, variable = 'EXCLUDE_CHARACTERS'): void {
  const allowed = allowedPasswordCharacters(excludeCharacters);
  const missing: string[] = [];
  if (!allowed.some((c) => c >= 'A' && c <= 'Z')) missing.push('upper-case letter');
  if (!allowed.some((c) => c >= 'a' && c <= 'z')) missing.push('lower-case letter');
  if (!allowed.some((c) => c >= '0' && c <= '9')) missing.push('digit');
  if (missing.length > 0) {
    throw new Error(`${variable} leaves no valid Redshift password: no ${missing.join(', no ')} remains`);
  }
}

/** True when some punctuation character remains allowed (GetRandomPassword must otherwise exclude punctuation). */
export function punctuationAllowed(excludeCharacters: string): boolean {
  return allowedPasswordCharacters(excludeCharacters).some((c) => !/[A-Za-z0-9]/.test(c));
}

/**
 * The reasons `password` breaks Redshift's rules or the configured exclusions (empty when it is fine). The reasons
 * never contain the password or any of its characters.
 */
export function passwordProblems(password: string, length: number, excludeCharacters: string): string[] {
  const problems: string[] = [];
  if (password.length !== length) problems.push(`length is not ${length}`);
  const allowed = new Set(allowedPasswordCharacters(excludeCharacters));
  if ([...password].some((c) => !allowed.has(c))) problems.push('contains a character that is forbidden or excluded');
  if (!/[A-Z]/.test(password)) problems.push('no upper-case letter');
  if (!/[a-z]/.test(password)) problems.push('no lower-case letter');
  if (!/[0-9]/.test(password)) problems.push('no digit');
  return problems;
}
