// The smoke test every runtime runs against the installed (packed) package: verify a token
// from the stub issuer through discovery + JWKS, refuse a tampered one with its code, and
// build a PKCE authorization URL from the discovered metadata. Web APIs only, so the same
// file runs in Node, Deno, Bun, a browser and workerd.
import { JwtVerifier, isJwtVerifyError } from 'oauth-jwt-verify';
import { buildAuthorizationUrl, createPkcePair, discover } from 'oauth-jwt-verify/pkce';

/**
 * @param {{ issuer: string, audience: string, token: string, clientId: string, redirectUri: string }} config
 * @returns {Promise<Record<string, unknown>>} what each check found; throws when one fails
 */
export async function smoke(config) {
  const verifier = new JwtVerifier({ issuer: config.issuer, audience: config.audience });
  const { payload, header } = await verifier.verify(config.token);
  if (payload.iss !== config.issuer)
    throw new Error(`verified iss ${payload.iss}, expected ${config.issuer}`);

  // Flip one character of the signature: the same key set must now refuse the token.
  const parts = config.token.split('.');
  const last = parts[2];
  parts[2] = `${last.slice(0, 10)}${last[10] === 'A' ? 'B' : 'A'}${last.slice(11)}`;
  let tamperedCode = 'accepted';
  try {
    await verifier.verify(parts.join('.'));
  } catch (error) {
    tamperedCode = isJwtVerifyError(error) ? error.code : `not a JwtVerifyError: ${String(error)}`;
  }
  if (tamperedCode !== 'ERR_SIGNATURE_INVALID') throw new Error(`tampered token: ${tamperedCode}`);

  const metadata = await discover(config.issuer);
  const request = await buildAuthorizationUrl(metadata, {
    clientId: config.clientId,
    redirectUri: config.redirectUri,
    scope: 'openid profile',
  });
  const url = new URL(request.url);
  const expectedChallenge = (await createPkcePair(request.codeVerifier)).codeChallenge;
  if (url.searchParams.get('code_challenge') !== expectedChallenge)
    throw new Error('code_challenge does not match the verifier');
  if (url.searchParams.get('code_challenge_method') !== 'S256')
    throw new Error('code_challenge_method is not S256');
  if (url.searchParams.get('state') !== request.state) throw new Error('state is not in the URL');

  return {
    sub: payload.sub,
    alg: header.alg,
    tampered: tamperedCode,
    authorize: `${url.origin}${url.pathname}`,
    codeChallengeMethod: url.searchParams.get('code_challenge_method'),
  };
}
