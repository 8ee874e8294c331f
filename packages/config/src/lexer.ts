// Splits one startup-config line into words the way l2tpns reads it (observed on l2tpns 2.4.1):
// a line starting with "!" or "#" is a comment; a "#" anywhere else also ends the line, even inside
// quotes; words are separated by blanks; "..." and '...' quote a word; a backslash takes the next
// character literally, inside quotes or not.

export type LexResult =
  | { readonly ok: true; readonly words: readonly string[]; readonly warning?: string }
  | { readonly ok: false; readonly error: string };

const isBlank = (c: string): boolean => c === " " || c === "\t";

export function lexLine(text: string): LexResult {
  const trimmed = text.trimStart();
  if (trimmed === "" || trimmed.startsWith("!") || trimmed.startsWith("#")) return { ok: true, words: [] };

  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  let closedQuote = false;
  for (let i = 0; i < trimmed.length; i++) {
    const c = trimmed.charAt(i);
    if (c === "#") {
      if (quote !== undefined) {
        words.push(word ?? "");
        return {
          ok: true,
          words,
          warning: `'#' starts a comment even inside quotes (as in l2tpns): the value is cut to '${word ?? ""}'`,
        };
      }
      if (word !== undefined && !closedQuote) {
        words.push(word);
        return {
          ok: true,
          words,
          warning: `'#' starts a comment even inside a word (as in l2tpns): the word is cut to '${word}'`,
        };
      }
      break;
    }
    if (c === "\\") {
      if (i + 1 >= trimmed.length) return { ok: false, error: "the line ends with a backslash" };
      if (closedQuote) return { ok: false, error: "text follows a closing quote without a blank" };
      i++;
      word = (word ?? "") + trimmed.charAt(i);
      continue;
    }
    if (quote !== undefined) {
      if (c === quote) {
        quote = undefined;
        closedQuote = true;
      } else {
        word = (word ?? "") + c;
      }
      continue;
    }
    if (isBlank(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
      closedQuote = false;
      continue;
    }
    if (closedQuote) return { ok: false, error: "text follows a closing quote without a blank" };
    if (c === '"' || c === "'") {
      if (word !== undefined) return { ok: false, error: `a quote (${c}) in the middle of a word` };
      quote = c;
      word = "";
      continue;
    }
    word = (word ?? "") + c;
  }
  if (quote !== undefined) return { ok: false, error: `unterminated quote (${quote})` };
  if (word !== undefined) words.push(word);
  return { ok: true, words };
}

/** Writes a word so that lexLine reads it back unchanged: bare if it can be, else double-quoted. */
export function quoteWord(word: string): string {
  if (/^[^\s"'\\#!]+$/.test(word)) return word;
  return `"${word.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** Always double-quoted, as l2tpns writes string values. */
export function quoteAlways(word: string): string {
  return `"${word.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
