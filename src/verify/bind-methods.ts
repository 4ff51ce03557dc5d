/** Binding a verifier's methods to it, so that they work detached, as callbacks. */
/**
 * Binds every method of `instance`'s class, and of the classes it extends, to `instance` as
 * an own property, so that a method handed over as a callback (`tokens.map(verifier.verify)`)
 * keeps its `this`. Run once by the constructor: a method added to the class later is bound
 * too, and a call costs no closure or `await` more than before. Accessors are left alone, and
 * so are `#private` methods (not on the prototype): the verifier's hot path calls them directly.
 */
export function bindMethods(instance: object): void {
  for (
    let prototype: object | null = Object.getPrototypeOf(instance);
    prototype !== null && prototype !== Object.prototype;
    prototype = Object.getPrototypeOf(prototype)
  ) {
    for (const key of Reflect.ownKeys(prototype)) {
      // A subclass's override was bound first; the instance's own fields are not methods.
      if (key === 'constructor' || Object.hasOwn(instance, key)) continue;
      const { value } = Object.getOwnPropertyDescriptor(prototype, key)!;
      if (typeof value !== 'function') continue;
      Object.defineProperty(instance, key, {
        value: (value as (...args: unknown[]) => unknown).bind(instance),
        writable: true,
        configurable: true,
      });
    }
  }
}
