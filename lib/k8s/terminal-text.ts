/**
 * Text from manifests, the cluster or logs, made safe to print on a terminal.
 *
 * A manifest or a log line can carry ESC sequences (colours, cursor moves, a
 * window-title change, OSC 8 links), carriage returns that overwrite what was
 * printed, or bidirectional overrides that reorder it. Every such code point is
 * shown as an escape instead (`\x1b`, `\r`, `\u202e`), so what the reader sees
 * is what the input holds. Line feeds and tabs are kept only where the caller
 * says so (a multi-line log excerpt); everywhere else they are escaped too.
 */

// C0 controls, DEL, C1 controls, and the Unicode format characters that
// reorder or hide text (bidi embeddings/overrides/isolates, LRM/RLM/ALM,
// zero-width joiners and spaces, the line and paragraph separators, BOM).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g;

/** Options of {@link terminalText}. */
export interface TerminalTextOptions {
  /** keep `\n` and `\t` as they are (for multi-line excerpts); default: escape them */
  readonly keepNewlines?: boolean;
}

/** `s` with every control or reordering code point written as an escape. */
export function terminalText(s: string, options: TerminalTextOptions = {}): string {
  return s.replace(UNSAFE, (c) => {
    if (options.keepNewlines && (c === '\n' || c === '\t')) return c;
    switch (c) {
      case '\n': return '\\n';
      case '\r': return '\\r';
      case '\t': return '\\t';
      default: {
        const code = c.charCodeAt(0);
        return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
      }
    }
  });
}
