/** A value now or a promise of it, and `andThen` that stays synchronous for values: the warm request path makes no promise it does not need. */

/** A value, or a promise of one. */
export type MaybePromise<T> = T | Promise<T>;

/** `next(value)`: at once for a value, once it settles for a promise (or another thenable). */
export function andThen<T, R>(
  value: T | PromiseLike<T>,
  next: (value: T) => R | PromiseLike<R>,
): MaybePromise<R> {
  if (typeof (value as PromiseLike<T> | null)?.then === 'function') {
    return Promise.resolve(value as PromiseLike<T>).then(next);
  }
  return next(value as T) as MaybePromise<R>;
}
