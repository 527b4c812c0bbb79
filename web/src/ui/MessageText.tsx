/* Message text as React text nodes (never HTML); only http(s) URLs become links, opened
 * with rel="noopener noreferrer". dir="auto" isolates it (HTML gives [dir] elements
 * unicode-bidi: isolate) and sets its direction from its own first strong character, so a
 * bidi override in a message cannot reorder the time and status marks beside it. */
import { linkify } from '../lib/format';

export function MessageText({ text }: { text: string }) {
  return (
    <span dir="auto" className="whitespace-pre-wrap break-words">
      {linkify(text).map((p, i) =>
        p.type === 'link' ? (
          <a key={i} href={p.href} target="_blank" rel="noopener noreferrer" className="underline underline-offset-2">
            {p.text}
          </a>
        ) : (
          <span key={i}>{p.text}</span>
        ),
      )}
    </span>
  );
}
