/* Search that ignores diacritics and case, as Vietnamese readers expect: "khoe" finds "khỏe" and
 * "DUONG" finds "Đường". Text is compared folded but always shown as written, so the folding
 * also says where in the original text each match lies. */

const MARKS = /\p{M}/gu;

/** Text as search compares it: lower case, decomposed (NFD), combining marks dropped, and đ as d
 *  (đ is a letter of its own, not d with a mark, so NFD leaves it whole). */
export function fold(s: string): string {
  return s.toLowerCase().normalize('NFD').replace(MARKS, '').replace(/đ/g, 'd');
}

/** Whether text contains query, both folded. A blank query matches nothing. */
export function foldedIncludes(text: string, query: string): boolean {
  const q = fold(query.trim());
  return q.length > 0 && fold(text).includes(q);
}

/** Where query occurs in text, as [start, end) ranges of the original text (UTF-16 indices),
 *  each covering whole characters and the marks that follow them. */
export function foldedRanges(text: string, query: string): [number, number][] {
  const q = fold(query.trim());
  if (!q) return [];
  // folded[i] came from the character text[from[i] .. to[i])
  let folded = '';
  const from: number[] = [];
  const to: number[] = [];
  for (let i = 0; i < text.length;) {
    const ch = String.fromCodePoint(text.codePointAt(i) ?? 0);
    const f = fold(ch);
    for (let k = 0; k < f.length; k++) {
      from.push(i);
      to.push(i + ch.length);
    }
    folded += f;
    i += ch.length;
  }
  from.push(text.length);
  const out: [number, number][] = [];
  for (let j = folded.indexOf(q); j >= 0; j = folded.indexOf(q, j + q.length)) {
    // The end reaches the next folded character's start: marks written apart stay inside.
    out.push([from[j], Math.max(to[j + q.length - 1], from[j + q.length])]);
  }
  return out;
}
