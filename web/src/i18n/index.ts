/* t(): the current language's string, with {placeholders} filled in as plain text. */
import { useSettings, type Language } from '../state/settings';
import { en, type Strings } from './en';
import { vi } from './vi';

export type StringKey = keyof Strings;
const tables: Record<Language, Strings> = { en, vi };

export function translate(lang: Language, key: StringKey, vars?: Record<string, string | number>): string {
  const s = tables[lang][key] ?? en[key];
  return vars ? s.replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? '')) : s;
}

export function useT(): (key: StringKey, vars?: Record<string, string | number>) => string {
  const lang = useSettings((s) => s.language);
  return (key, vars) => translate(lang, key, vars);
}

export function useLocale(): string {
  return useSettings((s) => (s.language === 'vi' ? 'vi-VN' : 'en-GB'));
}
