// Errors and results of the config parsers. A parser never throws on file contents: it returns
// every problem it found, each naming the file and the line, so one run shows the operator all of
// them (ARCHITECTURE.md, "Bad input").

/** One problem in a config file. `line` is 1-based; 0 means the file as a whole (e.g. unreadable). */
export interface ConfigError {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/** The parsed value and any warnings, or every error found (and the warnings). */
export type ConfigResult<T> =
  | { readonly ok: true; readonly value: T; readonly warnings: readonly ConfigError[] }
  | { readonly ok: false; readonly errors: readonly ConfigError[]; readonly warnings: readonly ConfigError[] };

/** `startup-config:12: unknown variable 'foo'`; a whole-file error has no line number. */
export function formatConfigError(e: ConfigError): string {
  return e.line > 0 ? `${e.file}:${e.line}: ${e.message}` : `${e.file}: ${e.message}`;
}

/** Collects errors and warnings for one file while a parser walks it. */
export class Problems {
  readonly errors: ConfigError[] = [];
  readonly warnings: ConfigError[] = [];

  constructor(readonly file: string) {}

  error(line: number, message: string): void {
    this.errors.push({ file: this.file, line, message });
  }

  warn(line: number, message: string): void {
    this.warnings.push({ file: this.file, line, message });
  }

  /** The outcome, problems in line order (checks made after the last line land where they belong). */
  result<T>(value: T): ConfigResult<T> {
    const byLine = (list: readonly ConfigError[]): ConfigError[] => [...list].sort((a, b) => a.line - b.line);
    return this.errors.length === 0
      ? { ok: true, value, warnings: byLine(this.warnings) }
      : { ok: false, errors: byLine(this.errors), warnings: byLine(this.warnings) };
  }
}

/** Splits a file into lines (LF or CRLF), dropping a UTF-8 byte order mark. Lines are numbered from 1. */
export function fileLines(text: string): string[] {
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  const lines = body.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}
