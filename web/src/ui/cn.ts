import { clsx, type ClassValue } from 'clsx';
/** Joins class names (shadcn's cn, without tailwind-merge: our variants never conflict). */
export function cn(...v: ClassValue[]): string {
  return clsx(v);
}
