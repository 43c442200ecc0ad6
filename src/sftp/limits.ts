// The SFTP server's limits, from the environment: each CASEPORT_SFTP_* variable overrides one default.
import { configError } from '../errors.js';
import type { SiteLimits } from './site.js';

const DEFAULTS: SiteLimits = {
  maxFileBytes: 2 * 1024 ** 3,
  idleTimeoutMs: 10 * 60_000,
  maxFailedLogins: 5,
  failWindowMs: 15 * 60_000,
};

const VARIABLES: Record<keyof SiteLimits, string> = {
  maxFileBytes: 'CASEPORT_SFTP_MAX_FILE_BYTES',
  idleTimeoutMs: 'CASEPORT_SFTP_IDLE_TIMEOUT_MS',
  maxFailedLogins: 'CASEPORT_SFTP_MAX_FAILED_LOGINS',
  failWindowMs: 'CASEPORT_SFTP_FAIL_WINDOW_MS',
};

/**
 * The limits in force: CASEPORT_SFTP_MAX_FILE_BYTES (default 2 GiB), CASEPORT_SFTP_IDLE_TIMEOUT_MS
 * (10 minutes), CASEPORT_SFTP_MAX_FAILED_LOGINS (5) and CASEPORT_SFTP_FAIL_WINDOW_MS (15 minutes).
 * A value that is not a positive whole number is a configuration error, not silently the default.
 */
export function defaultSiteLimits(env: NodeJS.ProcessEnv = process.env): SiteLimits {
  const limits = { ...DEFAULTS };
  for (const key of Object.keys(VARIABLES) as (keyof SiteLimits)[]) {
    const text = env[VARIABLES[key]]?.trim();
    if (!text) continue;
    const v = Number(text);
    if (!Number.isSafeInteger(v) || v < 1) {
      throw configError(`${VARIABLES[key]}="${text}" is not a positive whole number`);
    }
    limits[key] = v;
  }
  return limits;
}
