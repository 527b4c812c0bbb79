/* Turns API and network errors into words for the user. */
import { ApiError } from '../net/api';
import type { StringKey } from '../i18n';

export function errorText(e: unknown, t: (k: StringKey) => string): string {
  if (e instanceof ApiError) {
    switch (e.code) {
      case 'invalid_credentials':
        return t('errInvalidCredentials');
      case 'invalid_mfa_code':
        return t('errMfa');
      case 'conflict':
        return t('errTaken');
      case 'rate_limited':
      case 'account_locked':
        return t('errRateLimited');
      case 'forbidden':
        return e.details?.reason === 'device_revoked' ? t('errRevoked') : t('errForbidden');
      case 'not_found':
        return t('errNotFound');
      case 'unavailable':
        return t('errUnavailable');
      case 'validation_failed': {
        const d = e.details as { field?: string; reason?: string } | undefined;
        return t('errValidation') + (d?.field ? `${d.field}${d.reason ? ` (${d.reason})` : ''}` : e.message);
      }
      default:
        return e.message || t('errGeneric');
    }
  }
  if (e instanceof TypeError) return t('errOffline');
  if (e instanceof Error && e.message) return e.message;
  return t('errGeneric');
}
