/* Text as written, with the parts a search matched (ignoring marks and case) in <mark>. React
 * text nodes only, never HTML. */
import { foldedRanges } from '../lib/fold';

export function Highlight({ text, query }: { text: string; query: string }) {
  const parts: { text: string; hit: boolean }[] = [];
  let at = 0;
  for (const [a, b] of foldedRanges(text, query)) {
    if (a > at) parts.push({ text: text.slice(at, a), hit: false });
    parts.push({ text: text.slice(a, b), hit: true });
    at = b;
  }
  if (at < text.length) parts.push({ text: text.slice(at), hit: false });
  return (
    <>
      {parts.map((p, i) =>
        p.hit ? (
          <mark key={i} className="rounded-sm bg-amber-200 text-slate-900 dark:bg-amber-300">
            {p.text}
          </mark>
        ) : (
          <span key={i}>{p.text}</span>
        ),
      )}
    </>
  );
}
