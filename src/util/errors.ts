import { constants } from 'node:os';

/** Exit codes of the contract (README.md#commands). */
export const EXIT_OK = 0;
export const EXIT_SYNC_FAILED = 1;
export const EXIT_BAD_INPUT = 2;

/**
 * An error a user can act on: its message is one line that says what is wrong and how to fix it,
 * and never contains a secret. Anything else reaching the top level is a bug and is reported as one.
 */
export class UserFacingError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    /** Airbyte's failure_type for this error. */
    readonly failureType: 'config_error' | 'system_error' | 'transient_error',
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad flags, config, state or catalog: exit 2. */
export class InputError extends UserFacingError {
  constructor(message: string) {
    super(message, EXIT_BAD_INPUT, 'config_error');
  }
}

/** The sync could not complete (API refused, retries exhausted): exit 1. */
export class SyncError extends UserFacingError {
  constructor(message: string, failureType: 'config_error' | 'system_error' | 'transient_error' = 'system_error') {
    super(message, EXIT_SYNC_FAILED, failureType);
  }
}

/**
 * The sync was stopped by SIGINT or SIGTERM: exit 128 + the signal's number (130, 143), the status a
 * shell reports for a process the signal ended, so schedulers tell a stop from a failure. A rerun
 * from the last STATE goes on, hence transient.
 */
export class Interrupted extends UserFacingError {
  constructor(readonly signal: 'SIGINT' | 'SIGTERM') {
    super(`interrupted by ${signal}: the sync stopped before it finished; rerun with its last STATE to resume`, 128 + constants.signals[signal], 'transient_error');
  }
}
