// The module graph, read from the import and export statements themselves (with
// TypeScript's own scanner): what a file imports, and everything reachable from it.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** The specifiers a file imports or re-exports, static or dynamic. */
export function importsOf(file: string): string[] {
  return ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((imported) => imported.fileName);
}

/** A relative specifier as a file: `./x.js` is `x.js` in dist/ and `x.ts` in src/. */
export function resolveImport(from: string, specifier: string): string {
  const target = path.resolve(path.dirname(from), specifier);
  return existsSync(target) ? target : target.replace(/\.js$/, '.ts');
}

/** Every file and package reachable from `entry` through its imports. */
export function reachable(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>([entry]);
  const packages = new Set<string>();
  for (const file of files) {
    for (const specifier of importsOf(file)) {
      if (specifier.startsWith('.')) files.add(resolveImport(file, specifier));
      else packages.add(specifier);
    }
  }
  return { files, packages };
}
