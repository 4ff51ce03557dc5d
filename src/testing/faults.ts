// Fault injection for the stub issuer: failNext's queue of statuses, bodies and delays.
import { invalidArgument } from '../errors.js';
import { htmlPage, json } from './responses.js';
import type { FailureOptions, TestIssuerEndpoint } from './types.js';

const ENDPOINTS: readonly TestIssuerEndpoint[] = [
  'metadata',
  'jwks',
  'token',
  'authorize',
  'revoke',
  'register',
  'introspect',
  'logout',
  'userinfo',
];
/** Statuses whose responses cannot carry a body (Fetch standard "null body status"). */
const NULL_BODY_STATUSES = new Set([204, 205, 304]);

interface Fault {
  options: FailureOptions;
  remaining: number;
}

/** A failure to inject, taken from the queue for one request. */
export interface PendingFault {
  delayMs: number;
  /** The failure response, or `undefined` to answer normally (after the delay). */
  response: (() => Response) | undefined;
}

function fail(message: string): never {
  throw invalidArgument(`failNext: ${message}`);
}

function check(endpoint: unknown, options: FailureOptions): void {
  if (!ENDPOINTS.includes(endpoint as TestIssuerEndpoint)) {
    fail(`endpoint must be one of ${ENDPOINTS.join(', ')}, got ${String(endpoint)}`);
  }
  const { status, times = 1, delayMs = 0, malformed } = options;
  if (status !== undefined && (!Number.isInteger(status) || status < 200 || status > 599)) {
    fail(`status must be an integer from 200 to 599, got ${status}`);
  }
  if (!(times === Infinity || (Number.isInteger(times) && times > 0))) {
    fail(`times must be a positive integer or Infinity, got ${times}`);
  }
  if (!Number.isFinite(delayMs) || delayMs < 0) {
    fail(`delayMs must be a non-negative number, got ${delayMs}`);
  }
  if (malformed !== undefined && malformed !== true && malformed !== 'html') {
    fail(`malformed must be true or 'html', got ${String(malformed)}`);
  }
}

function defaultBody(endpoint: TestIssuerEndpoint, status: number): unknown {
  const error =
    status === 503 ? 'temporarily_unavailable' : status < 500 ? 'invalid_request' : 'server_error';
  return {
    error,
    error_description: `failNext('${endpoint}') made this request fail with ${status}`,
  };
}

function failureResponse(endpoint: TestIssuerEndpoint, options: FailureOptions): Response {
  const { malformed, headers = {}, body } = options;
  const status = options.status ?? (malformed === true ? 200 : 500);
  if (malformed === 'html') return htmlPage(status, headers);
  if (NULL_BODY_STATUSES.has(status)) return new Response(null, { status, headers });
  if (malformed === true) {
    return new Response('{"truncated": [', {
      status,
      headers: { 'content-type': 'application/json', ...headers },
    });
  }
  if (typeof body === 'string') {
    return new Response(body, {
      status,
      headers: { 'content-type': 'text/plain; charset=utf-8', ...headers },
    });
  }
  return json(status, body === undefined ? defaultBody(endpoint, status) : body, headers);
}

/** Failures queued by `failNext`, per endpoint, first in first out. */
export class FaultQueue {
  readonly #queues = new Map<TestIssuerEndpoint, Fault[]>();

  add(endpoint: TestIssuerEndpoint, options: FailureOptions = {}): void {
    check(endpoint, options);
    const queue = this.#queues.get(endpoint) ?? [];
    queue.push({ options: { ...options }, remaining: options.times ?? 1 });
    this.#queues.set(endpoint, queue);
  }

  /** Consumes one failure for a request to `endpoint`, if one is pending. */
  take(endpoint: TestIssuerEndpoint): PendingFault | undefined {
    const queue = this.#queues.get(endpoint);
    const fault = queue?.[0];
    if (!queue || !fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) queue.shift();
    const { status, body, malformed, headers, delayMs = 0 } = fault.options;
    const slowOnly = [status, body, malformed, headers].every((value) => value === undefined) && delayMs > 0;
    return {
      delayMs,
      response: slowOnly ? undefined : () => failureResponse(endpoint, fault.options),
    };
  }

  clear(): void {
    this.#queues.clear();
  }
}

/** Waits `ms` milliseconds, or less when `signal` aborts (the client gave up). */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
