// The module graph, read from the import and export statements themselves (with
// TypeScript's own scanner): what a file imports, and everything reachable from it.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** The specifiers a file imports or re-exports, static or dynamic; `runtime`: only those left once its types are erased (what runs). */
export function importsOf(file: string, runtime = false): string[] {
  const source = readFileSync(file, 'utf8');
  const code = runtime && file.endsWith('.ts') ? ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText : source;
  return ts.preProcessFile(code, true, true).importedFiles.map((imported) => imported.fileName);
}

/** A relative specifier as a file: `./x.js` is `x.js` in dist/ and `x.ts` in src/. */
export function resolveImport(from: string, specifier: string): string {
  const target = path.resolve(path.dirname(from), specifier);
  return existsSync(target) ? target : target.replace(/\.js$/, '.ts');
}

/** Every file and package reachable from `entry` through its imports (`runtime`: those that run, types erased). */
export function reachable(entry: string, runtime = false): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>([entry]);
  const packages = new Set<string>();
  for (const file of files) {
    for (const specifier of importsOf(file, runtime)) {
      if (specifier.startsWith('.')) files.add(resolveImport(file, specifier));
      else packages.add(specifier);
    }
  }
  return { files, packages };
}
