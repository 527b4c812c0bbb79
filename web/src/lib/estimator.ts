/* The password strength estimator: zxcvbn-ts with the common passwords, diceware words,
 * keyboard layouts, and the English common words, first names and word sequences. Its
 * dictionaries are large, so this module is only ever imported lazily (strength.ts), by the
 * forms that choose a password, and the rest of the app never downloads it. English last names
 * and Wikipedia words (another 380 KB compressed) are left out: they add little for a
 * passphrase-style password and would double what a form downloads. */
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary as common } from '@zxcvbn-ts/language-common';
import commonWords from '@zxcvbn-ts/language-en/dist/commonWords.json.mjs';
import firstnames from '@zxcvbn-ts/language-en/dist/firstnames.json.mjs';
import wordSequences from '@zxcvbn-ts/language-en/dist/wordSequences.json.mjs';

const zxcvbn = new ZxcvbnFactory({
  dictionary: { ...common, 'commonWords-en': commonWords, 'firstnames-en': firstnames, ...wordSequences },
  graphs: adjacencyGraphs,
});

/** 0 (guessed at once) to 4 (very hard to guess), also against the person's own email, username
 *  and name. */
export function score(password: string, userInputs: string[]): 0 | 1 | 2 | 3 | 4 {
  return zxcvbn.check(password, userInputs.filter(Boolean)).score;
}
