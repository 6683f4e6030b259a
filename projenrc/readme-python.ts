/**
 * The README's Python example is what jsii-rosetta makes of one of its TypeScript snippets: each ```python block,
 * without its import lines, must equal (ignoring comments, blank lines, trailing commas and spacing) the Python
 * translation of a README snippet in the tablet `jsii-rosetta extract` wrote (.jsii.tabl.json). Run after it
 * (post-compile); exits 1 naming the block that matches no translation.
 */
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');

/** The ```python blocks of a Markdown text, with the line each starts on. */
export function pythonBlocks(markdown: string): Array<{ line: number; code: string }> {
  const lines = markdown.split('\n');
  const blocks: Array<{ line: number; code: string }> = [];
  for (let i = 0; i < lines.length; i++) {
    if (/^\s*```python\s*$/.test(lines[i])) {
      let end = i + 1;
      while (end < lines.length && !/^\s*```\s*$/.test(lines[end])) end++;
      blocks.push({ line: i + 2, code: lines.slice(i + 1, end).join('\n') });
      i = end;
    }
  }
  return blocks;
}

/** Python code without imports, comments, blank lines, trailing commas and spacing differences. */
export function normalizePython(code: string): string {
  return code.split('\n')
    .filter((l) => !/^\s*(from\s+\S+\s+)?import\s/.test(l))
    .map((l) => l.replace(/\s+#.*$/, '').replace(/^\s*#.*$/, '').trim())
    .filter((l) => l.length > 0)
    .join(' ')
    .replace(/\s+/g, ' ')
    .replace(/,?\s*\)/g, ')')
    .replace(/\(\s+/g, '(');
}

function main(): void {
  const tabletFile = path.join(ROOT, '.jsii.tabl.json');
  if (!fs.existsSync(tabletFile)) {
    console.error('readme-python: .jsii.tabl.json is missing; run `npx projen rosetta:extract` first');
    process.exit(1);
  }
  const tablet = JSON.parse(fs.readFileSync(tabletFile, 'utf8'));
  const translations = Object.values<any>(tablet.snippets)
    .filter((s) => s.location?.api?.api === 'moduleReadme' && s.translations?.python?.source)
    .map((s) => normalizePython(s.translations.python.source));
  const blocks = pythonBlocks(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
  if (blocks.length === 0) {
    console.error('readme-python: README.md has no ```python block to check');
    process.exit(1);
  }
  const unmatched = blocks.filter((b) => !translations.includes(normalizePython(b.code)));
  if (unmatched.length > 0) {
    for (const b of unmatched) {
      console.error(`readme-python: README.md line ${b.line}: this Python example is not the translation of any TypeScript snippet of the README:\n  ${normalizePython(b.code)}`);
    }
    console.error(`translations of the README's snippets:\n${translations.map((t) => `  ${t}`).join('\n')}`);
    process.exit(1);
  }
  console.log(`readme-python: ${blocks.length} Python example(s) match a translation`);
}

if (require.main === module) {
  main();
}
