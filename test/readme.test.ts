/**
 * Every TypeScript snippet of README.md compiles against the library's sources, inside the jsii-rosetta fixture
 * rosetta/default.ts-fixture (the snippet replaces its `/// here` line; the snippet's own imports are checked to
 * be among the fixture's and then dropped).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';

const ROOT = path.join(__dirname, '..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const FIXTURE = fs.readFileSync(path.join(ROOT, 'rosetta', 'default.ts-fixture'), 'utf8');

/** The ```ts blocks of a Markdown text, with the line each starts on. */
export function typescriptBlocks(markdown: string): Array<{ line: number; code: string }> {
  const blocks: Array<{ line: number; code: string }> = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    // a fence may be indented (a snippet inside a list item); ```ts with parameters (fixture=...) is left to jsii-rosetta
    if (/^\s*```(ts|typescript)\s*$/.test(lines[i])) {
      const start = i + 1;
      let end = start;
      while (end < lines.length && !/^\s*```\s*$/.test(lines[end])) end++;
      blocks.push({ line: start + 1, code: lines.slice(start, end).join('\n') });
      i = end;
    }
  }
  return blocks;
}

/** The names a fixture's `import { a, b } from 'm'` and `import * as x from 'm'` lines bring in, per module. */
function importedNames(source: string): Map<string, Set<string>> {
  const names = new Map<string, Set<string>>();
  const add = (module: string, name: string) => names.set(module, (names.get(module) ?? new Set()).add(name));
  for (const m of source.matchAll(/import\s*\{([^}]*)\}\s*from\s*'([^']+)'/g)) {
    for (const n of m[1].split(',').map((s) => s.trim()).filter(Boolean)) add(m[2], n);
  }
  for (const m of source.matchAll(/import\s*\*\s*as\s*(\w+)\s*from\s*'([^']+)'/g)) add(m[2], `* as ${m[1]}`);
  return names;
}

const blocks = typescriptBlocks(README);
const fixtureImports = importedNames(FIXTURE);

test('README has TypeScript snippets to check', () => {
  expect(blocks.length).toBeGreaterThanOrEqual(10);
});

test('each snippet imports only what the fixture imports', () => {
  const missing: string[] = [];
  for (const block of blocks) {
    for (const [module, names] of importedNames(block.code)) {
      for (const name of names) if (!fixtureImports.get(module)?.has(name)) missing.push(`README line ${block.line}: ${name} from ${module}`);
    }
  }
  expect(missing).toEqual([]);
});

test('every TypeScript snippet of README.md compiles', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-snippets-'));
  try {
    const files = blocks.map((block, i) => {
      const body = block.code.split('\n').filter((l) => !/^import\s/.test(l)).join('\n');
      const file = path.join(dir, `snippet-${String(i).padStart(2, '0')}-line-${block.line}.ts`);
      fs.writeFileSync(file, FIXTURE.replace('/// here', () => body).replace(/'cdk-redshift-rotation'/g, () => JSON.stringify(path.join(ROOT, 'src'))));
      return file;
    });
    const program = ts.createProgram(files, {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.Node16,
      moduleResolution: ts.ModuleResolutionKind.Node16,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      esModuleInterop: true,
      typeRoots: [path.join(ROOT, 'node_modules', '@types')],
      types: ['node'],
      baseUrl: ROOT,
      paths: { '*': [path.join(ROOT, 'node_modules', '*')] },
    });
    const problems = ts.getPreEmitDiagnostics(program)
      .filter((d) => d.file !== undefined && files.includes(path.normalize(d.file.fileName)))
      // the fixture declares more than any one snippet uses
      .filter((d) => d.code !== 6133 && d.code !== 6196)
      .map((d) => {
        const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
        return `${path.basename(d.file!.fileName)}:${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      });
    expect(problems).toEqual([]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
