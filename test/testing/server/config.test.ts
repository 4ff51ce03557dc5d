import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JwtVerifier } from '../../../src/index.js';
import { createTestIssuer, startIssuerServer } from '../../../src/testing/index.js';
import { checkConfig } from '../../../src/testing/server/config.js';
import { exportIssuerKeys } from '../../../src/testing/server/keys-file.js';
import { loggedPath } from '../../../src/testing/server/http.js';
import { thrown } from '../../support/rejections.js';

describe('the server configuration', () => {
  it.each([
    [
      { issuers: { 'tenant-a': { algorithms: ['HS256'] } } },
      'config: issuers.tenant-a: each of algorithms must be one of',
    ],
    [{ issuers: { a: { algorithms: [] } } }, 'config: issuers.a.algorithms must be a non-empty array'],
    [
      { issuers: { a: { users: [{ sub: '' }] } } },
      'config: issuers.a.users[0].sub must be a non-empty string',
    ],
    [{ tokenTtlSeconds: -1 }, 'config: tokenTtlSeconds must be a positive number'],
    [{ profil: 'auth0' }, 'config: profil is not a known field'],
    [{ issuers: { a: { colour: 'red' } } }, 'config: issuers.a.colour is not a known field'],
    [{ issuer: 'https://x.test' }, 'config: issuer cannot be set here: the server sets it'],
    [{ issuers: { a: { listen: true } } }, 'config: issuers.a.listen cannot be set here'],
    [{ issuers: { health: {} } }, 'config: issuers.health: the id "health" cannot be a path segment here'],
    [{ issuers: { '.well-known': {} } }, 'config: issuers..well-known: the id ".well-known" cannot'],
    [{ issuers: { _admin: {} } }, 'the id "_admin" cannot'],
    [{ issuers: { 'a/b': {} } }, 'the id "a/b" cannot'],
    [{ issuers: {} }, 'config: issuers must name at least one issuer'],
    [{ issuers: [] }, 'config: issuers must be an object'],
    [{ admin: 'yes' }, 'config: admin must be a boolean'],
    [[], 'config: must be a JSON object'],
  ])('refuses %j, naming the field and why', (config, message) => {
    const error = thrown(() => checkConfig(config));
    expect(error.code).toBe('ERR_INVALID_ARGUMENT');
    expect(error.message).toContain(message);
  });

  it('turns the login page on unless told, and passes top-level options down to each issuer', () => {
    const one = checkConfig({ audience: 'https://api.example' });
    expect(one.root).toBe(true);
    expect(one.issuers.get('default')).toEqual({ interactiveLogin: true, audience: 'https://api.example' });
    const many = checkConfig({
      audience: 'x',
      interactiveLogin: false,
      issuers: { a: { audience: 'y' }, b: {} },
    });
    expect(many.issuers.get('a')).toEqual({ interactiveLogin: false, audience: 'y' });
    expect(many.issuers.get('b')).toEqual({ interactiveLogin: false, audience: 'x' });
  });
});

describe('createTestIssuer({ keys })', () => {
  it('signs with the given private keys, the last of each algorithm, and creates keys for the rest', async () => {
    const first = await createTestIssuer({ algorithms: ['ES256'] });
    await first.rotateKeys();
    const keys = await exportIssuerKeys(first);
    const again = await createTestIssuer({ algorithms: ['ES256', 'EdDSA'], keys });
    expect(again.keys.map((key) => key.kid).slice(0, 2)).toEqual(first.keys.map((key) => key.kid));
    expect(again.keys.map((key) => key.active)).toEqual([false, true, true]);
    expect(again.jwks().keys.every((jwk) => jwk.d === undefined)).toBe(true);
    const verifier = new JwtVerifier({ issuer: first.issuer, audience: first.audience, fetch: first.fetch });
    expect((await verifier.verify(await again.sign({ sub: 'kept' }))).payload.sub).toBe('kept');
  });

  it('refuses a key that is not private, or not of its algorithms', async () => {
    const issuer = await createTestIssuer({ algorithms: ['ES256'] });
    await expect(
      createTestIssuer({ algorithms: ['ES256'], keys: [issuer.jwks().keys[0]!] }),
    ).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: 'createTestIssuer: keys[0] must be a private JWK (kty and its private members)',
    });
    const [privateKey] = await exportIssuerKeys(issuer);
    await expect(createTestIssuer({ algorithms: ['RS256'], keys: [privateKey!] })).rejects.toMatchObject({
      message: 'createTestIssuer: keys[0].alg must be one of algorithms (RS256), got ES256',
    });
  });
});

describe('keysFile', () => {
  it('is created with mode 0600 on first start and read after: a token from before a restart verifies', async () => {
    const keysFile = join(await mkdtemp(join(tmpdir(), 'ojv-keys-')), 'keys.json');
    const config = { issuers: { a: { algorithms: ['ES256' as const] } } };
    const first = await startIssuerServer({ port: 0, keysFile, config });
    const token = await first.issuers.a!.sign({ sub: 'before' });
    await first.issuers.a!.rotateKeys();
    const rotated = await first.issuers.a!.sign({ sub: 'after rotation' });
    await first.close();
    expect((await stat(keysFile)).mode & 0o777).toBe(0o600);
    expect(Object.keys(JSON.parse(await readFile(keysFile, 'utf8')).issuers.a[0])).toContain('d');

    const second = await startIssuerServer({ port: first.port, keysFile, config });
    try {
      expect(second.issuers.a!.keys.map((key) => key.kid)).toEqual(
        first.issuers.a!.keys.map((key) => key.kid),
      );
      const verifier = new JwtVerifier({ issuer: second.issuers.a!.issuer, audience: 'https://api.test' });
      expect((await verifier.verify(token)).payload.sub).toBe('before');
      expect((await verifier.verify(rotated)).payload.sub).toBe('after rotation');
    } finally {
      await second.close();
    }
  });

  it('refuses a file that is not a keys file, saying how to start afresh', async () => {
    const keysFile = join(await mkdtemp(join(tmpdir(), 'ojv-keys-')), 'keys.json');
    await writeFile(keysFile, '{"nope": 1}');
    await expect(startIssuerServer({ port: 0, keysFile })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringContaining('has no "issuers" object; delete it to start with fresh keys'),
    });
  });
});

describe('the request log', () => {
  it('hides the values of query parameters that can hold codes, tokens or secrets', () => {
    expect(loggedPath('/authorize?client_id=spa&code_challenge=abc&state=s1&login_hint=alice')).toBe(
      '/authorize?client_id=spa&code_challenge=…&state=s1&login_hint=alice',
    );
    expect(loggedPath('/cb?code=secret&id_token_hint=eyJx.y.z&x=eyJhbGciOi.eyJ.sig')).toBe(
      '/cb?code=…&id_token_hint=…&x=…',
    );
    expect(loggedPath('/jwks')).toBe('/jwks');
  });
});
