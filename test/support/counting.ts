// For `vi.mock` factories: a module whose one function also counts its calls, so a test can
// tell how often the code under test reached it (key imports, signature checks).
//
//   const { counting } = await vi.hoisted(() => import('../support/counting.js'));
//   const imports = vi.hoisted(() => ({ count: 0 }));
//   vi.mock('jose', async (original) => counting(await original<typeof import('jose')>(), 'importJWK', imports));

/** `original` with `name` wrapped so that every call adds one to `counter.count`. */
export function counting<Module extends object>(
  original: Module,
  name: keyof Module & string,
  counter: { count: number },
): Module {
  const wrapped = original[name] as (...args: unknown[]) => unknown;
  return {
    ...original,
    [name]: (...args: unknown[]) => {
      counter.count++;
      return wrapped(...args);
    },
  };
}
