/* A message's text: not blank and at most TEXT_MAX_CHARS characters (code points), the same
 * rule as the terminal client's (docs/protocol.md). The server never sees the text, so each
 * client checks it before anything is encrypted. */
export const TEXT_MAX_CHARS = 10_000;

export function textChars(s: string): number {
  let n = 0;
  for (const _ of s) n += 1;
  return n;
}

export class TextRuleError extends Error {
  constructor(readonly chars: number) {
    super(
      chars === 0 ? 'nothing to send: the text is blank' : `a message holds at most ${TEXT_MAX_CHARS} characters; this one has ${chars}`,
    );
    this.name = 'TextRuleError';
  }
}

/* Throws TextRuleError unless text may be sent as it is. */
export function checkText(text: string): void {
  const n = text.trim() ? textChars(text) : 0;
  if (n === 0 || n > TEXT_MAX_CHARS) throw new TextRuleError(n);
}
