/* The server's field rules (GET /api/auth/rules), checked in the browser before a form is sent,
 * so a person hears about a rule next to the field instead of as a refusal. The rules are the
 * server's own (one source); this only applies them, in the way docs/api/accounts.md says:
 * lengths in code points, `pattern` for the whole value, `refused` for any character, and a
 * password that may not equal the email or the username, ignoring ASCII case. */
import type { AuthRules, FieldRule, RuleField } from '../net/types';

/** The server's reasons (details.reason of a 400 validation_failed), and the client's own. */
export type Reason =
  | 'missing'
  | 'too_short'
  | 'too_long'
  | 'invalid_characters'
  | 'invalid'
  | 'equals_email'
  | 'equals_username'
  | 'mismatch'
  | 'wrong_password'
  | 'wrong_code'
  | 'taken';

const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** What is wrong with `value` under `rule`, or null. `others` holds the email and username a
 *  password is compared with. */
export function checkField(
  field: RuleField,
  rule: FieldRule | undefined,
  value: string,
  others: Partial<Record<string, string>> = {},
): Reason | null {
  if (!rule) return null;
  const n = [...value].length;
  if (n === 0) return rule.minLength > 0 ? 'missing' : null;
  // "Too short" says nothing useful of an address: it is simply not one.
  if (n < rule.minLength) return field === 'email' ? 'invalid' : 'too_short';
  if (n > rule.maxLength) return 'too_long';
  if (rule.pattern && !new RegExp(rule.pattern, 'u').test(value)) return field === 'email' ? 'invalid' : 'invalid_characters';
  if (rule.refused && new RegExp(rule.refused, 'u').test(value)) return 'invalid_characters';
  for (const other of rule.notEqualTo ?? []) {
    const v = others[other];
    if (v && asciiLower(v) === asciiLower(value)) return other === 'email' ? 'equals_email' : 'equals_username';
  }
  return null;
}

/** Checks every listed input: form name → the rule's field. */
export function checkForm(
  rules: AuthRules | undefined,
  inputs: { name: string; field: RuleField; value: string }[],
  others: Partial<Record<string, string>> = {},
): Record<string, Reason> {
  const out: Record<string, Reason> = {};
  if (!rules) return out;
  for (const i of inputs) {
    const r = checkField(i.field, rules[i.field], i.value, others);
    if (r) out[i.name] = r;
  }
  return out;
}
