// The control API under each issuer (`_admin/...`): rotate keys, inject failures, read counts, mint tokens.
import type { FailureOptions, SignOptions, TestIssuer, TestIssuerEndpoint } from '../types.js';

/** An answer of the control API. */
export interface AdminAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** The actions, with the method each takes. */
const ACTIONS = {
  rotate: 'POST',
  'fail-next': 'POST',
  requests: 'GET',
  reset: 'POST',
  tokens: 'POST',
} as const;
type Action = keyof typeof ACTIONS;

/** `sign()` options JSON can carry (a `key` cannot be sent). */
const SIGN_OPTIONS = ['alg', 'kid', 'header', 'expiresIn', 'notBefore', 'dpopJkt', 'unpublishedKey'];

function problem(status: number, message: string, headers?: Record<string, string>): AdminAnswer {
  return {
    status,
    body: { error: status === 404 ? 'not_found' : 'invalid_request', error_description: message },
    headers,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The body as a JSON object (an empty body is `{}`), or the 400 answer saying why not. */
function readJson(body: Uint8Array): { input: Record<string, unknown> } | { answer: AdminAnswer } {
  const text = new TextDecoder().decode(body).trim();
  if (!text) return { input: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { answer: problem(400, `the body is not JSON: ${(error as Error).message}`) };
  }
  return isRecord(value) ? { input: value } : { answer: problem(400, 'the body must be a JSON object') };
}

/** A message of a caller mistake (`TypeError` from the issuer), else rethrows. */
function mistake(error: unknown): AdminAnswer {
  if (error instanceof TypeError) return problem(400, error.message);
  throw error;
}

async function tokens(issuer: TestIssuer, input: Record<string, unknown>): Promise<AdminAnswer> {
  const { claims = {}, options = {} } = input;
  if (!isRecord(claims)) return problem(400, 'claims must be a JSON object');
  if (!isRecord(options)) return problem(400, 'options must be a JSON object');
  const unknown = Object.keys(options).filter((name) => !SIGN_OPTIONS.includes(name));
  if (unknown.length) {
    return problem(400, `options.${unknown[0]} is not one of ${SIGN_OPTIONS.join(', ')}`);
  }
  try {
    return { status: 200, body: { access_token: await issuer.sign(claims, options as SignOptions) } };
  } catch (error) {
    return mistake(error);
  }
}

async function rotate(issuer: TestIssuer, input: Record<string, unknown>): Promise<AdminAnswer> {
  const { keepPrevious } = input;
  if (keepPrevious !== undefined && typeof keepPrevious !== 'boolean') {
    return problem(400, 'keepPrevious must be a boolean');
  }
  await issuer.rotateKeys({ keepPrevious: keepPrevious ?? true });
  return {
    status: 200,
    body: { keys: issuer.keys.map(({ kid, alg, active }) => ({ kid, alg, active })) },
  };
}

function failNext(issuer: TestIssuer, input: Record<string, unknown>): AdminAnswer {
  const { endpoint, ...options } = input;
  // JSON has no Infinity: "Infinity" (or -1) says "until reset".
  if (options.times === 'Infinity' || options.times === -1) options.times = Infinity;
  try {
    issuer.failNext(endpoint as TestIssuerEndpoint, options as FailureOptions);
  } catch (error) {
    return mistake(error);
  }
  return { status: 204 };
}

/**
 * Answers `method` on `_admin/<action>` of `issuer`, `body` the request's bytes.
 * Caller checks (loopback, the API being on) happen before.
 */
export async function answerAdmin(
  issuer: TestIssuer,
  action: string,
  method: string,
  body: Uint8Array,
): Promise<AdminAnswer> {
  if (!Object.hasOwn(ACTIONS, action)) {
    return problem(
      404,
      `no control action ${JSON.stringify(action)}; actions: ${Object.keys(ACTIONS).join(', ')}`,
    );
  }
  const expected = ACTIONS[action as Action];
  if (method !== expected) {
    return problem(405, `use ${expected} for _admin/${action}, not ${method}`, { allow: expected });
  }
  if (action === 'requests') return { status: 200, body: { ...issuer.requests } };
  const read = readJson(body);
  if ('answer' in read) return read.answer;
  const { input } = read;
  switch (action as Exclude<Action, 'requests'>) {
    case 'rotate':
      return rotate(issuer, input);
    case 'fail-next':
      return failNext(issuer, input);
    case 'reset':
      issuer.reset();
      return { status: 204 };
    case 'tokens':
      return tokens(issuer, input);
  }
}
