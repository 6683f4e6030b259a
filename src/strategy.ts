/**
 * How a secret's credentials are rotated.
 */
export enum RotationStrategy {
  /**
   * The user changes its own password (`ALTER USER`), authenticated by the secret itself.
   *
   * Simple and needs no master secret, but clients that read the secret between the password change and the
   * end of the rotation fail to log in: lower availability.
   */
  SINGLE_USER = 'SINGLE_USER',

  /**
   * A master secret creates a clone of the user (`<username>_clone`) with the same groups, roles, attributes and
   * grants, and each rotation switches the secret between the two users, so the previous credentials keep working
   * while clients pick up the new ones: no downtime.
   */
  ALTERNATING_USERS = 'ALTERNATING_USERS',
}
