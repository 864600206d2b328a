/**
 * Words for error messages that say what a caller passed instead of what was expected.
 */

/** `word` after `a` or `an` as it is read aloud: "an Int8Array", "an undefined", "a Uint8Array" (you-int), "a string". */
export function withArticle(word: string): string {
  return `${/^([aeio]|u(?!int))/i.test(word) ? 'an' : 'a'} ${word}`;
}

/** An object's class with its article ("a Float64Array"; "an object" when it has no named class). */
export function classOf(value: object): string {
  return withArticle((value.constructor as { name?: string } | undefined)?.name || 'object');
}
