/* The strength hint under a new password: zxcvbn-ts's score in words, loaded on first use by
 * the form that shows it (lib/strength.ts), never by the rest of the app. */
import { useEffect, useState } from 'react';
import { useT, type StringKey } from '../i18n';
import { loadEstimator } from '../lib/strength';
import { cn } from '../ui/cn';

const words: StringKey[] = ['strength0', 'strength1', 'strength2', 'strength3', 'strength4'];
const colours = ['bg-red-500', 'bg-red-500', 'bg-amber-500', 'bg-green-500', 'bg-green-600'];

/** The score of `password` against the person's own words, or null while it loads or is empty. */
export function useStrength(password: string, userInputs: string[]): number | null {
  const [score, setScore] = useState<number | null>(null);
  const inputs = userInputs.join('\u0000');
  useEffect(() => {
    let live = true;
    if (!password) {
      setScore(null);
      return;
    }
    loadEstimator()
      .then((e) => {
        if (live) setScore(e.score(password, inputs.split('\u0000')));
      })
      .catch(() => {
        if (live) setScore(null); // no hint is better than a wrong one
      });
    return () => {
      live = false;
    };
  }, [password, inputs]);
  return score;
}

export function StrengthHint({ score }: { score: number | null }) {
  const t = useT();
  if (score === null) return null;
  return (
    <span data-strength={score} className="flex items-center gap-2 text-slate-600 dark:text-slate-300">
      <span aria-hidden="true" className="flex gap-0.5">
        {[0, 1, 2, 3].map((i) => (
          <span
            key={i}
            className={cn('h-1.5 w-6 rounded-full', i < Math.max(1, score) ? colours[score] : 'bg-slate-200 dark:bg-slate-700')}
          />
        ))}
      </span>
      <span>
        {t('strengthIs', { level: t(words[score]) })}
        {score < 3 ? ` ${t('strengthAdvice')}` : ''}
      </span>
    </span>
  );
}
