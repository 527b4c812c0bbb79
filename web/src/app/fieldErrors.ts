/* Field-level errors for the account forms: the server's rules (GET /api/auth/rules, fetched
 * once an hour at most), what the browser finds against them before sending, what the server
 * still refuses mapped onto the input it names, and the words for each in the user's language. */
import { useQuery } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { getEngine } from '../engine/engine';
import type { StringKey } from '../i18n';
import type { Reason } from '../lib/rules';
import { ApiError } from '../net/api';
import type { AuthRules, RuleField } from '../net/types';

export type Errors = Record<string, Reason>;
type T = (k: StringKey, vars?: Record<string, string | number>) => string;

export function useRules(): AuthRules | undefined {
  return useQuery({ queryKey: ['auth-rules'], queryFn: () => getEngine().api.rules(), staleTime: 3_600_000, retry: 2 }).data;
}

/** The sentence under a field; `field` picks the rule's numbers and the kind of value. */
export function reasonText(t: T, reason: Reason | undefined, field: RuleField | 'code' | 'other', rules?: AuthRules): string | null {
  if (!reason) return null;
  const rule = field === 'code' || field === 'other' ? undefined : rules?.[field];
  switch (reason) {
    case 'missing':
      return t('fieldMissing');
    case 'too_short':
      return rule ? t('fieldTooShort', { n: rule.minLength }) : t('fieldMissing');
    case 'too_long':
      return t('fieldTooLong', { n: rule?.maxLength ?? '' });
    case 'invalid':
      return field === 'email' ? t('fieldInvalidEmail') : t('fieldInvalidChars');
    case 'invalid_characters':
      return field === 'username' ? t('fieldInvalidUsername') : t('fieldInvalidChars');
    case 'equals_email':
      return t('fieldEqualsEmail');
    case 'equals_username':
      return t('fieldEqualsUsername');
    case 'mismatch':
      return t('fieldMismatch');
    case 'wrong_password':
      return t('fieldWrongPassword');
    case 'wrong_code':
      return t('errMfa');
    case 'taken':
      return field === 'email' ? t('fieldTakenEmail') : t('fieldTakenUsername');
  }
}

/** A refusal that names an input, as {input: reason}; null for any other error. `names` maps the
 *  server's field names to the form's where they differ. */
export function serverErrors(x: unknown, names: Record<string, string> = {}): Errors | null {
  if (!(x instanceof ApiError)) return null;
  const d = (x.details ?? {}) as { field?: string; reason?: string };
  const input = (f: string | undefined) => (f ? (names[f] ?? f) : undefined);
  switch (x.code) {
    case 'validation_failed': {
      const name = input(d.field);
      return name ? { [name]: (d.reason ?? 'invalid') as Reason } : null;
    }
    case 'invalid_credentials': {
      const name = input(d.field);
      return name ? { [name]: 'wrong_password' } : null;
    }
    case 'mfa_required':
      return { [input(d.field ?? 'mfaCode') ?? 'mfaCode']: 'missing' };
    case 'invalid_mfa_code':
      return { [input(d.field ?? 'mfaCode') ?? 'mfaCode']: 'wrong_code' };
    case 'conflict': {
      const name = input(d.field);
      return name ? { [name]: 'taken' } : null;
    }
    default:
      return null;
  }
}

/** Puts the cursor in the first wrong input, in the form's own order. */
export function focusFirstError(form: HTMLFormElement | null, errors: Errors): void {
  if (!form) return;
  for (const el of Array.from(form.elements)) {
    const name = (el as HTMLInputElement).name;
    if (name && errors[name]) {
      (el as HTMLInputElement).focus();
      return;
    }
  }
}

/** "2 minutes", "45 seconds": how long until a rate limit lets the person ask again. */
export function waitText(t: T, seconds: number | undefined): string {
  const s = Math.max(1, Math.ceil(seconds ?? 60));
  return s < 90 ? t('durSeconds', { n: s }) : t('durMinutes', { n: Math.ceil(s / 60) });
}

/** A form's field errors: set them all at once and put the cursor in the first. */
export function useFieldErrors() {
  const form = useRef<HTMLFormElement>(null);
  const [errors, setErrors] = useState<Errors>({});
  const show = (e: Errors) => {
    setErrors(e);
    focusFirstError(form.current, e);
    return Object.keys(e).length > 0;
  };
  const clear = (name: string) => {
    if (errors[name]) setErrors(({ [name]: _, ...rest }) => rest);
  };
  return { form, errors, show, clear };
}
