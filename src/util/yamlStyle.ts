import { parseDocument, type Document } from "yaml";

/**
 * Serializing options that reproduce the file's own style, so lines flowcap did not touch come
 * out as they went in: its indentation, whether sequences are indented under their key, spaces
 * inside flow collections, and no re-folding of long strings.
 */
export function yamlStyle(text: string): { indent: number; indentSeq: boolean; flowCollectionPadding: boolean; lineWidth: number } {
  const indents = [...text.matchAll(/^( +)\S/gm)].map((m) => m[1]!.length);
  const indent = indents.length ? Math.min(...indents) : 2;
  const seq = /^( *)[^\s#-][^\n]*:[ \t]*\n( *)- /m.exec(text);
  return {
    indent,
    indentSeq: seq ? seq[2]!.length > seq[1]!.length : true,
    flowCollectionPadding: /[[{] [^\s\]}]/.test(text),
    lineWidth: 0,
  };
}

/** Above this many line pairs, the line matching below is skipped (it is quadratic). */
const MAX_LINE_PAIRS = 4_000_000;

/**
 * An edited YAML document as text in which every line the edit did not change is the original
 * line, byte for byte. The `yaml` package keeps comments and values but not all spacing (two
 * spaces before a comment become one, say), so the edited document is printed, the original one
 * is printed the same way, and the lines both printings share (a longest common subsequence) are
 * replaced by the original file's lines. When the plain printing of the original does not line up
 * with the file, the edited printing is returned as it is.
 */
export function stringifyKeepingLines(edited: Document, original: string): string {
  const style = yamlStyle(original);
  const out = edited.toString(style);
  const reprinted = parseDocument(original, { keepSourceTokens: true }).toString(style);
  const before = original.split("\n");
  const again = reprinted.split("\n");
  const after = out.split("\n");
  if (before.length !== again.length || again.length * after.length > MAX_LINE_PAIRS) return out;
  // lcs[i][j]: the longest common subsequence of again[i..] and after[j..].
  const n = again.length;
  const m = after.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = again[i] === after[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const lines: string[] = [];
  let i = 0;
  let j = 0;
  while (j < m) {
    if (i < n && again[i] === after[j]) {
      lines.push(before[i]!);
      i++;
      j++;
    } else if (i < n && lcs[i + 1]![j]! >= lcs[i]![j + 1]!) i++;
    else lines.push(after[j++]!);
  }
  return lines.join("\n");
}
