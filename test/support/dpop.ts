import { type GenerateKeyPairResult, generateKeyPair } from 'jose';
import { type DpopProofOptions, createDpopProof, dpopThumbprint } from '../../src/testing/index.js';

export const API = 'https://api.test';
export const ORDERS = `${API}/orders`;

/** A client's DPoP key and its thumbprint. */
export interface DpopClient {
  key: GenerateKeyPairResult;
  jkt: string;
}

export async function dpopClient(alg = 'ES256'): Promise<DpopClient> {
  const key = await generateKeyPair(alg);
  return { key, jkt: await dpopThumbprint(key) };
}

/** A proof for `GET <ORDERS>` with `accessToken`, options over it. */
export function proofFor(
  client: DpopClient,
  accessToken: string,
  options: Partial<DpopProofOptions> = {},
): Promise<string> {
  return createDpopProof({ key: client.key, method: 'GET', url: ORDERS, accessToken, ...options });
}

/** A Fetch Request with `Authorization: <scheme> <token>` and, when given, `DPoP: <proof>`. */
export function fetchRequest(
  authorization: string | undefined,
  proof?: string,
  { url = ORDERS, method = 'GET' }: { url?: string; method?: string } = {},
): Request {
  const headers = new Headers();
  if (authorization !== undefined) headers.set('authorization', authorization);
  if (proof !== undefined) headers.set('dpop', proof);
  return new Request(url, { method, headers });
}
