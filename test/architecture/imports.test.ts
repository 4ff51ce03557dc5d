import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The folder map of CONTRIBUTING.md ("What may import what"), enforced: imports point from
// a higher layer to the same or a lower one, and no module reaches itself again, not even
// through a type-only import, and no folder leans on another that leans back on it.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const src = join(root, 'src');

/** Layers from the bottom up; a path is in the first layer one of whose prefixes it starts with. */
const LAYERS: readonly (readonly string[])[] = [
  ['errors.ts', 'events.ts', 'option-checks.ts', 'maybe-promise.ts'],
  ['request/'],
  ['token/'],
  ['issuer/'],
  ['fleet/'],
  ['keys/'],
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

/** The folder of a module (`verify/`), or the file itself at the top of `src/`. */
function folderOf(path: string): string {
  const slash = path.indexOf('/');
  return slash === -1 ? path : path.slice(0, slash + 1);
}

/** The imports between folders: `from folder -> to folder`, each once. */
function folderGraph(modules: Map<string, string[]>): Map<string, string[]> {
  const folders = new Map<string, Set<string>>();
  for (const [from, targets] of modules) {
    const own = folders.get(folderOf(from)) ?? new Set<string>();
    folders.set(folderOf(from), own);
    for (const target of targets) if (folderOf(target) !== folderOf(from)) own.add(folderOf(target));
  }
  return new Map([...folders].map(([folder, targets]) => [folder, [...targets].sort()]));
}

/** Imports from one folder to another, as `from -> target` module pairs. */
function importsBetween(modules: Map<string, string[]>, from: string, to: string): string[] {
  return [...modules].flatMap(([module, targets]) =>
    module.startsWith(from)
      ? targets.filter((target) => target.startsWith(to)).map((target) => `${module} -> ${target}`)
      : [],
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

  it('has no cycle between folders either: each folder only leans on the ones below it', () => {
    expect(findCycles(folderGraph(graph))).toEqual([]);
  });

  // The arrows that once went back up, named so that one coming back says what it undoes.
  it.each([
    ['fleet/', 'keys/', 'the shared store is below the key set: keys/ loads through it'],
    ['fleet/', 'verify/', 'snapshots and the metadata load are the verifier’s'],
    ['dpop/', 'verify/', 'DPoP reads the request from request/, never from the verifier'],
    ['request/', 'dpop/', 'the request shape is below Bearer, DPoP and mTLS, which all read it'],
    ['request/', 'verify/', 'the request shape is below Bearer, DPoP and mTLS, which all read it'],
  ])('has no import from %s to %s (%s)', (from, to) => {
    expect(importsBetween(graph, from, to)).toEqual([]);
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

  it('report a loop between folders that no module cycle shows', () => {
    const folderLoop = new Map([
      ['keys/a.ts', ['fleet/b.ts']],
      ['fleet/b.ts', []],
      ['fleet/c.ts', ['keys/d.ts']],
      ['keys/d.ts', []],
    ]);
    expect(findCycles(folderLoop)).toEqual([]);
    expect(findCycles(folderGraph(folderLoop))).toEqual(['keys/ -> fleet/ -> keys/']);
    expect(importsBetween(folderLoop, 'fleet/', 'keys/')).toEqual(['fleet/c.ts -> keys/d.ts']);
  });

  it('read type-only and dynamic imports, and refuse a folder outside the map', () => {
    expect(importsOf(join(src, 'verify/verifier.ts'))).toContain('token/parse.ts');
    expect(importsOf(join(src, 'verify/options.ts'))).toContain('fleet/store.ts'); // `import type`
    expect(() => layerOf('nowhere/file.ts')).toThrow(/no layer/);
  });
});
