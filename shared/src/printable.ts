/**
 * Text from elsewhere (a coordinator's answer, a site's report) made safe to print on a terminal: control
 * characters (C0, DEL, C1 — ESC and CSI start terminal escape sequences), bidirectional overrides and line/paragraph
 * separators are shown as visible escapes (`\x1b`, `\u{202e}`) instead of being written raw.
 */

const UNSAFE = /[\p{Cc}\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/gu;
const UNSAFE_EXCEPT_NEWLINE = /(?!\n)[\p{Cc}\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/gu;

function escape(ch: string): string {
  const code = ch.codePointAt(0)!;
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/**
 * `text` with every terminal-unsafe character replaced by a visible escape. With `keepNewlines`, `\n` stays
 * (for whole rendered outputs); without it, a value cannot break a table row or line either.
 */
export function printable(text: string, opts: { keepNewlines?: boolean } = {}): string {
  return text.replace(opts.keepNewlines ? UNSAFE_EXCEPT_NEWLINE : UNSAFE, escape);
}

/** Characters JSON.stringify leaves raw that a terminal may still act on (DEL, C1, bidi overrides, separators). */
const JSON_UNSAFE = /[\u007f-\u009f\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/g;

/**
 * `JSON.stringify(value)` that is also safe on a terminal: C0 controls are already `\u00XX` escapes in JSON; the
 * rest of the unsafe characters become `\uXXXX` too. Parses back to exactly `value`.
 */
export function printableJson(value: unknown): string {
  return JSON.stringify(value).replace(JSON_UNSAFE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
