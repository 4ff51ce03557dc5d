import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The folder map of CONTRIBUTING.md ("What may import what"), enforced: imports point from
// a higher layer to the same or a lower one, and no module reaches itself again, not even
// through a type-only import.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const src = join(root, 'src');

/** Layers from the bottom up; a path is in the first layer one of whose prefixes it starts with. */
const LAYERS: readonly (readonly string[])[] = [
  ['errors.ts', 'events.ts'],
  ['token/'],
  ['issuer/'],
  ['keys/', 'fleet/'],
  ['dpop/', 'introspection/'],
  ['verify/'],
  ['server/'],
  ['index.ts', 'pkce/', 'testing/', 'node/', 'express/', 'fastify/', 'hono/', 'cli/', 'mcp/'],
];

function layerOf(path: string): number {
  const layer = LAYERS.findIndex((prefixes) => prefixes.some((prefix) => path.startsWith(prefix)));
  if (layer === -1) throw new Error(`src/${path} is in no layer of the map: add its folder to LAYERS`);
  return layer;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Every relative module a file names: static and type-only imports, re-exports, dynamic imports. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [
    ...text.matchAll(/\b(?:import|export)\s[^'";]*?\bfrom\s*['"](\.[^'"]+)['"]/g),
    ...text.matchAll(/\bimport\s*\(\s*['"](\.[^'"]+)['"]\s*\)/g),
    ...text.matchAll(/^\s*import\s*['"](\.[^'"]+)['"]/gm),
  ].map((match) => match[1]!);
  return specifiers.map((specifier) =>
    relative(src, resolve(dirname(file), specifier.replace(/\.js$/, '.ts'))),
  );
}

/** Imports from a module to one in a higher layer. */
function upwardImports(modules: Map<string, string[]>): string[] {
  return [...modules].flatMap(([from, targets]) =>
    targets
      .filter((target) => modules.has(target) && layerOf(target) > layerOf(from))
      .map((target) => `${from} -> ${target}`),
  );
}

/** Each import cycle, as the chain of modules that closes it. */
function findCycles(modules: Map<string, string[]>): string[] {
  const cycles: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (node: string, path: string[]): void => {
    if (state.get(node) === 'done') return;
    if (state.get(node) === 'visiting') {
      cycles.push([...path.slice(path.indexOf(node)), node].join(' -> '));
      return;
    }
    state.set(node, 'visiting');
    for (const next of modules.get(node) ?? []) visit(next, [...path, node]);
    state.set(node, 'done');
  };
  for (const node of modules.keys()) visit(node, []);
  return cycles;
}

const graph = new Map(sourceFiles(src).map((file) => [relative(src, file), importsOf(file)]));

describe('the import map of src/', () => {
  it('resolves every relative import to a source file', () => {
    const dangling = [...graph].flatMap(([from, targets]) =>
      targets.filter((target) => !graph.has(target)).map((target) => `${from} -> ${target}`),
    );
    expect(dangling).toEqual([]);
  });

  it('imports only from the same layer or a lower one', () => {
    expect(upwardImports(graph)).toEqual([]);
  });

  it('has no import cycle, type-only imports included', () => {
    expect(findCycles(graph)).toEqual([]);
  });

  it('keeps every source file under 400 lines', () => {
    const long = [...graph.keys()]
      .map((path) => ({ path, lines: readFileSync(join(src, path), 'utf8').split('\n').length }))
      .filter(({ lines }) => lines > 400);
    expect(long).toEqual([]);
  });
});

describe('the checks themselves', () => {
  it('report a wrong-way import and a cycle', () => {
    const wrong = new Map([
      ['token/parse.ts', ['verify/verifier.ts']],
      ['verify/verifier.ts', ['token/parse.ts']],
    ]);
    expect(upwardImports(wrong)).toEqual(['token/parse.ts -> verify/verifier.ts']);
    expect(findCycles(wrong)).toEqual(['token/parse.ts -> verify/verifier.ts -> token/parse.ts']);
  });

  it('read type-only and dynamic imports, and refuse a folder outside the map', () => {
    expect(importsOf(join(src, 'verify/verifier.ts'))).toContain('token/parse.ts');
    expect(importsOf(join(src, 'verify/options.ts'))).toContain('fleet/store.ts'); // `import type`
    expect(() => layerOf('nowhere/file.ts')).toThrow(/no layer/);
  });
});
