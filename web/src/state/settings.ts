/* Language, theme, notifications and the call privacy choice: not secret, kept in localStorage so the first paint is right. */
import { create } from 'zustand';

export type Language = 'en' | 'vi';
export type Theme = 'light' | 'dark' | 'system';

export function browserLanguage(langs: readonly string[]): Language {
  for (const l of langs) {
    const base = l.toLowerCase().split('-')[0];
    if (base === 'vi') return 'vi';
    if (base === 'en') return 'en';
  }
  return 'en';
}

export function resolveTheme(theme: Theme, prefersDark: boolean): 'light' | 'dark' {
  return theme === 'system' ? (prefersDark ? 'dark' : 'light') : theme;
}

function load<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
  try {
    const v = localStorage.getItem(key);
    return v && (allowed as readonly string[]).includes(v) ? (v as T) : fallback;
  } catch {
    return fallback;
  }
}

interface SettingsState {
  language: Language;
  theme: Theme;
  /** Notify of messages arriving while the user looks elsewhere (the sender's name only). */
  notify: boolean;
  setLanguage: (l: Language) => void;
  setTheme: (t: Theme) => void;
  setNotify: (on: boolean) => void;
  /** "Hide my IP address in calls" (relay only): null until the user chooses, which means on
   *  when the server offers a relay (engine/callrules.ts icePolicy). */
  hideIp: boolean | null;
  setHideIp: (on: boolean) => void;
}

const nav = typeof navigator !== 'undefined' ? (navigator.languages ?? [navigator.language]) : ['en'];

export const useSettings = create<SettingsState>()((set) => ({
  language: typeof localStorage !== 'undefined' ? load<Language>('sotto.lang', ['en', 'vi'], browserLanguage(nav)) : 'en',
  theme: typeof localStorage !== 'undefined' ? load<Theme>('sotto.theme', ['light', 'dark', 'system'], 'system') : 'system',
  setLanguage: (language) => {
    localStorage.setItem('sotto.lang', language);
    set({ language });
  },
  setTheme: (theme) => {
    localStorage.setItem('sotto.theme', theme);
    set({ theme });
  },
  notify: typeof localStorage !== 'undefined' ? load<'on' | 'off'>('sotto.notify', ['on', 'off'], 'off') === 'on' : false,
  setNotify: (on) => {
    localStorage.setItem('sotto.notify', on ? 'on' : 'off');
    set({ notify: on });
  },
  hideIp:
    typeof localStorage !== 'undefined'
      ? { on: true, off: false, '': null }[load<'on' | 'off' | ''>('sotto.hideIp', ['on', 'off'], '')]
      : null,
  setHideIp: (on) => {
    localStorage.setItem('sotto.hideIp', on ? 'on' : 'off');
    set({ hideIp: on });
  },
}));
