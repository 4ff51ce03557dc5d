import { describe, expect, it } from 'vitest';
import { AuthorizationResponseError, parseAuthorizationResponse } from '../../src/pkce/index.js';
import { metadata } from './fixtures.js';
import { caught } from '../support/rejections.js';

const callback = 'https://app.example.com/callback';
const issMetadata = { ...metadata, authorization_response_iss_parameter_supported: true };
const iss = encodeURIComponent(metadata.issuer);

describe('parseAuthorizationResponse', () => {
  it('returns the code of a response whose state matches', () => {
    expect(
      parseAuthorizationResponse(`${callback}?code=c-1&state=s-1`, { expectedState: 's-1', metadata }),
    ).toEqual({
      code: 'c-1',
      state: 's-1',
    });
  });

  it('reads a fragment response (response_mode=fragment)', () => {
    const url = new URL(`${callback}?app=1#code=c-2&state=s-2`);
    expect(parseAuthorizationResponse(url, { expectedState: 's-2', metadata })).toEqual({
      code: 'c-2',
      state: 's-2',
    });
  });

  it('refuses a response whose state differs', async () => {
    const error = await caught(() =>
      parseAuthorizationResponse(`${callback}?code=c&state=other`, { expectedState: 's-1', metadata }),
    );
    expect(error).toBeInstanceOf(AuthorizationResponseError);
    expect(error.error).toBe('state_mismatch');
    expect(error.state).toBe('other');
  });

  it('refuses a response without state', async () => {
    const error = await caught(() =>
      parseAuthorizationResponse(`${callback}?code=c`, { expectedState: 's', metadata }),
    );
    expect(error.error).toBe('state_mismatch');
    expect(error.message).toMatch(/no state/);
  });

  it('checks state before reporting an error answer, and names that error', async () => {
    const error = await caught(() =>
      parseAuthorizationResponse(`${callback}?error=access_denied`, { expectedState: 's', metadata }),
    );
    expect(error.error).toBe('state_mismatch');
    expect(error.message).toContain('access_denied');
  });

  it('turns error= into an AuthorizationResponseError with the server fields', async () => {
    const error = await caught(() =>
      parseAuthorizationResponse(
        `${callback}?error=access_denied&error_description=User%20cancelled&error_uri=https%3A%2F%2Fdocs.example%2Fe&state=s`,
        { expectedState: 's', metadata },
      ),
    );
    expect(error).toBeInstanceOf(AuthorizationResponseError);
    expect(error).toMatchObject({
      name: 'AuthorizationResponseError',
      error: 'access_denied',
      error_description: 'User cancelled',
      error_uri: 'https://docs.example/e',
      state: 's',
    });
    expect(error.message).toBe('the authorization server answered access_denied: User cancelled');
  });

  it('refuses a response with neither code nor error', async () => {
    const error = await caught(() =>
      parseAuthorizationResponse(`${callback}?state=s`, { expectedState: 's', metadata }),
    );
    expect(error.error).toBe('invalid_response');
  });

  it('refuses a repeated parameter (RFC 6749 §3.1)', async () => {
    const error = await caught(() =>
      parseAuthorizationResponse(`${callback}?code=a&code=b&state=s`, { expectedState: 's', metadata }),
    );
    expect(error.error).toBe('invalid_response');
    expect(error.message).toMatch(/code appears more than once/);
  });

  describe('RFC 9207 iss', () => {
    it('accepts the issuer when the server advertises iss', () => {
      expect(
        parseAuthorizationResponse(`${callback}?code=c&state=s&iss=${iss}`, {
          expectedState: 's',
          metadata: issMetadata,
        }),
      ).toEqual({ code: 'c', state: 's', iss: metadata.issuer });
    });

    it('refuses a missing iss when the server advertises it', async () => {
      const error = await caught(() =>
        parseAuthorizationResponse(`${callback}?code=c&state=s`, {
          expectedState: 's',
          metadata: issMetadata,
        }),
      );
      expect(error.error).toBe('issuer_mismatch');
      expect(error.message).toMatch(/RFC 9207/);
    });

    it('refuses another issuer, even when the server does not advertise iss', async () => {
      for (const meta of [issMetadata, metadata]) {
        const error = await caught(() =>
          parseAuthorizationResponse(`${callback}?code=c&state=s&iss=https%3A%2F%2Fevil.example`, {
            expectedState: 's',
            metadata: meta,
          }),
        );
        expect(error.error).toBe('issuer_mismatch');
        expect(error.message).toContain('https://evil.example');
      }
    });

    it('compares iss exactly (no trailing-slash leniency)', async () => {
      const error = await caught(() =>
        parseAuthorizationResponse(`${callback}?code=c&state=s&iss=https%3A%2F%2Fsignin.altostrat.io`, {
          expectedState: 's',
          metadata: issMetadata,
        }),
      );
      expect(error.error).toBe('issuer_mismatch');
    });

    it('checks iss on error answers too', async () => {
      const error = await caught(() =>
        parseAuthorizationResponse(`${callback}?error=access_denied&state=s`, {
          expectedState: 's',
          metadata: issMetadata,
        }),
      );
      expect(error.error).toBe('issuer_mismatch');
    });

    it('uses expectedIssuer when given', () => {
      const result = parseAuthorizationResponse(
        `${callback}?code=c&state=s&iss=https%3A%2F%2Fother.example`,
        {
          expectedState: 's',
          metadata: issMetadata,
          expectedIssuer: 'https://other.example',
        },
      );
      expect(result.iss).toBe('https://other.example');
    });

    it('accepts no iss when the server does not advertise it', () => {
      expect(
        parseAuthorizationResponse(`${callback}?code=c&state=s`, { expectedState: 's', metadata }),
      ).not.toHaveProperty('iss');
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
    expect(error).toBeInstanceOf(TypeError);
    expect(error.code).toBe('ERR_INVALID_ARGUMENT');
  });
});
