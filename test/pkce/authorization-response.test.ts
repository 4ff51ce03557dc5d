import { describe, expect, it } from 'vitest';
import {
  AuthorizationResponseError,
  type ParseAuthorizationResponseOptions,
  parseAuthorizationResponse,
} from '../../src/pkce/index.js';
import { expectAnswerError, metadata } from './fixtures.js';
import { caught } from '../support/rejections.js';

const callback = 'https://app.example.com/callback';
const issMetadata = { ...metadata, authorization_response_iss_parameter_supported: true };
const iss = encodeURIComponent(metadata.issuer);

/**
 * parseAuthorizationResponse of the callback with `query`, expecting state `s` of a response
 * from `metadata`'s issuer, unless `options` say otherwise.
 */
const parse = (query: string, options: Partial<ParseAuthorizationResponseOptions> = {}) =>
  parseAuthorizationResponse(`${callback}${query}`, { expectedState: 's', metadata, ...options });

/** What {@link parse} throws. */
const refused = (query: string, options: Partial<ParseAuthorizationResponseOptions> = {}) =>
  caught(() => parse(query, options));

describe('parseAuthorizationResponse', () => {
  it('returns the code of a response whose state matches', () => {
    expect(parse('?code=c-1&state=s-1', { expectedState: 's-1' })).toEqual({ code: 'c-1', state: 's-1' });
  });

  it('reads a fragment response (response_mode=fragment)', () => {
    const url = new URL(`${callback}?app=1#code=c-2&state=s-2`);
    expect(parseAuthorizationResponse(url, { expectedState: 's-2', metadata })).toEqual({
      code: 'c-2',
      state: 's-2',
    });
  });

  it('refuses a response whose state differs', async () => {
    const error = await refused('?code=c&state=other', { expectedState: 's-1' });
    expectAnswerError(error, AuthorizationResponseError);
    expect(error.error).toBe('state_mismatch');
    expect(error.state).toBe('other');
  });

  it('refuses a response without state', async () => {
    const error = await refused('?code=c');
    expect(error.error).toBe('state_mismatch');
    expect(error.message).toMatch(/no state/);
  });

  it('checks state before reporting an error answer, and names that error', async () => {
    const error = await refused('?error=access_denied');
    expect(error.error).toBe('state_mismatch');
    expect(error.message).toContain('access_denied');
  });

  it('turns error= into an AuthorizationResponseError with the server fields', async () => {
    const error = await refused(
      '?error=access_denied&error_description=User%20cancelled&error_uri=https%3A%2F%2Fdocs.example%2Fe&state=s',
    );
    expectAnswerError(error, AuthorizationResponseError, {
      error: 'access_denied',
      error_description: 'User cancelled',
      error_uri: 'https://docs.example/e',
      state: 's',
    });
    expect(error.message).toBe('the authorization server answered access_denied: User cancelled');
  });

  it('refuses a response with neither code nor error', async () => {
    expect((await refused('?state=s')).error).toBe('invalid_response');
  });

  it('refuses a repeated parameter (RFC 6749 §3.1)', async () => {
    const error = await refused('?code=a&code=b&state=s');
    expect(error.error).toBe('invalid_response');
    expect(error.message).toMatch(/code appears more than once/);
  });

  describe('RFC 9207 iss', () => {
    it('accepts the issuer when the server advertises iss', () => {
      expect(parse(`?code=c&state=s&iss=${iss}`, { metadata: issMetadata })).toEqual({
        code: 'c',
        state: 's',
        iss: metadata.issuer,
      });
    });

    it('refuses a missing iss when the server advertises it', async () => {
      const error = await refused('?code=c&state=s', { metadata: issMetadata });
      expect(error.error).toBe('issuer_mismatch');
      expect(error.message).toMatch(/RFC 9207/);
    });

    it('refuses another issuer, even when the server does not advertise iss', async () => {
      for (const meta of [issMetadata, metadata]) {
        const error = await refused('?code=c&state=s&iss=https%3A%2F%2Fevil.example', { metadata: meta });
        expect(error.error).toBe('issuer_mismatch');
        expect(error.message).toContain('https://evil.example');
      }
    });

    it('compares iss exactly (no trailing-slash leniency)', async () => {
      const error = await refused('?code=c&state=s&iss=https%3A%2F%2Fsignin.altostrat.io', {
        metadata: issMetadata,
      });
      expect(error.error).toBe('issuer_mismatch');
    });

    it('checks iss on error answers too', async () => {
      expect((await refused('?error=access_denied&state=s', { metadata: issMetadata })).error).toBe(
        'issuer_mismatch',
      );
    });

    it('uses expectedIssuer when given', () => {
      const result = parse('?code=c&state=s&iss=https%3A%2F%2Fother.example', {
        metadata: issMetadata,
        expectedIssuer: 'https://other.example',
      });
      expect(result.iss).toBe('https://other.example');
    });

    it('accepts no iss when the server does not advertise it', () => {
      expect(parse('?code=c&state=s')).not.toHaveProperty('iss');
    });
  });

  it.each([
    [
      'no expectedState',
      () => parseAuthorizationResponse(`${callback}?code=c&state=s`, { metadata } as never),
    ],
    [
      'an empty expectedState',
      () => parseAuthorizationResponse(`${callback}?code=c&state=`, { expectedState: '', metadata }),
    ],
    [
      'no metadata',
      () => parseAuthorizationResponse(`${callback}?code=c&state=s`, { expectedState: 's' } as never),
    ],
    [
      'a relative callback URL',
      () => parseAuthorizationResponse('/callback?code=c&state=s', { expectedState: 's', metadata }),
    ],
  ])('throws a TypeError for %s', async (_label, run) => {
    const error = await caught(run);
    expectAnswerError(error, TypeError);
    expect(error.code).toBe('ERR_INVALID_ARGUMENT');
  });
});
