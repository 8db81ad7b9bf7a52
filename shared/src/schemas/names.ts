/**
 * Names that people read: site and token names, metric names, population tier names. One rule for all of them,
 * so nothing that reaches an operator's terminal or dashboard can carry an escape sequence, and names that tell
 * principals apart cannot be spoofed with look-alike letters.
 *
 * - **Character class**: letters of any script (with their combining marks), decimal digits, `.`, `_`, `-`, `:` and
 *   space; the first character is a letter or digit, the last is not a space.
 * - **NFKC**: site and token names are normalised to NFKC before the check and stored normalised (full-width
 *   `Ｈｏｓｐｉｔａｌ` becomes `Hospital`, `ﬁ` becomes `fi`). Metric and tier names are map keys: they must already be
 *   in NFKC form (so two keys can never normalise to the same name) and are refused otherwise.
 * - **Look-alikes** (site and token names, which must tell principals apart): the letters must come from one script,
 *   or one of the Unicode "highly restrictive" combinations (UTS #39 §5.2: Latin with Han and Japanese kana, with Han
 *   and Bopomofo, or with Han and Hangul) — so a Cyrillic `а` in a Latin name is refused; and a name that is not
 *   ASCII but whose confusable skeleton (UTS #39 confusables.txt) is, is refused as a look-alike of that ASCII name
 *   (all-Cyrillic `АВС` looks like `ABC`). Names in one non-Latin script (`Москва`) and accented Latin (`Médicale`)
 *   are accepted.
 *
 * What it does not do: compare a new name with the names already stored (site ids, not names, are the unique keys),
 * nor catch look-alikes within ASCII (`rn` and `m`, `1` and `l`).
 */
import unhomoglyph from 'unhomoglyph';
import { z } from 'zod';

/** The character class of names, in words (docs and error messages). */
const NAME_RULE = 'letters, digits, dot, underscore, dash, colon and space, starting with a letter or digit';

const NAME_RE = /^[\p{L}\p{Nd}](?:[\p{L}\p{M}\p{Nd}._:\- ]*[\p{L}\p{M}\p{Nd}._:-])?$/u;

/** True when `s` is in the name class and already NFKC-normalised. */
export function isPrintableName(s: string): boolean {
  return NAME_RE.test(s) && s === s.normalize('NFKC');
}

/** Scripts told apart; a letter of any other script counts as `Other`. */
const SCRIPTS = [
  'Latin',
  'Greek',
  'Cyrillic',
  'Armenian',
  'Hebrew',
  'Arabic',
  'Syriac',
  'Thaana',
  'Nko',
  'Devanagari',
  'Bengali',
  'Gurmukhi',
  'Gujarati',
  'Oriya',
  'Tamil',
  'Telugu',
  'Kannada',
  'Malayalam',
  'Sinhala',
  'Thai',
  'Lao',
  'Tibetan',
  'Myanmar',
  'Georgian',
  'Hangul',
  'Ethiopic',
  'Cherokee',
  'Canadian_Aboriginal',
  'Ogham',
  'Runic',
  'Khmer',
  'Mongolian',
  'Hiragana',
  'Katakana',
  'Bopomofo',
  'Han',
  'Yi',
  'Tifinagh',
  'Vai',
  'Coptic',
  'Glagolitic',
  'Tai_Le',
  'New_Tai_Lue',
  'Buginese',
  'Balinese',
  'Sundanese',
  'Javanese',
  'Cham',
  'Ol_Chiki',
  'Lisu',
  'Bamum',
  'Adlam',
].map((name) => ({ name, re: new RegExp(`^\\p{Script=${name}}$`, 'u') }));

/** UTS #39 §5.2 "highly restrictive": the script sets a single name may mix. */
const ALLOWED_MIXES: ReadonlyArray<ReadonlySet<string>> = [
  new Set(['Latin', 'Han', 'Hiragana', 'Katakana']),
  new Set(['Latin', 'Han', 'Bopomofo']),
  new Set(['Latin', 'Han', 'Hangul']),
];

/** The scripts of the letters (and non-ASCII digits) of `s`. */
function scriptsOf(s: string): Set<string> {
  const out = new Set<string>();
  for (const ch of s) {
    if (!/[\p{L}\p{Nd}]/u.test(ch) || /[0-9]/.test(ch)) continue;
    out.add(SCRIPTS.find((sc) => sc.re.test(ch))?.name ?? 'Other');
  }
  return out;
}

/** Why a unique name could be mistaken for another, or null: mixed scripts, or a look-alike of an ASCII name. */
export function lookAlikeProblem(s: string): string | null {
  const scripts = scriptsOf(s);
  if (scripts.size > 1 && !ALLOWED_MIXES.some((mix) => [...scripts].every((sc) => mix.has(sc)))) {
    return `mixes scripts (${[...scripts].sort().join(', ')})`;
  }
  const skeleton = unhomoglyph(s);
  if (/[^\x20-\x7e]/.test(s) && /^[\x20-\x7e]*$/.test(skeleton)) return `looks like the ASCII name "${skeleton}"`;
  return null;
}

/**
 * A name people read (site, token): NFKC-normalised, then checked against the class and, with `unique`, against
 * look-alikes. Outputs the normalised name. Refusals are zod issues (`VALIDATION_FAILED` at the API).
 */
export function nameSchema(opts: { max: number; unique?: boolean }) {
  return z
    .string()
    .max(opts.max * 4)
    .transform((s) => s.normalize('NFKC'))
    .pipe(
      z
        .string()
        .min(1)
        .max(opts.max)
        .superRefine((s, ctx) => {
          if (!NAME_RE.test(s)) return void ctx.addIssue({ code: 'custom', message: NAME_RULE });
          const problem = opts.unique ? lookAlikeProblem(s) : null;
          if (problem) ctx.addIssue({ code: 'custom', message: `${problem}: use letters of one script` });
        }),
    );
}

/** A name used as a map key (metric, tier): in the class and already NFKC-normalised; refused, never rewritten. */
export function nameKeySchema(max: number) {
  return z
    .string()
    .min(1)
    .max(max)
    .refine(isPrintableName, { message: `${NAME_RULE}, NFKC-normalised` });
}
