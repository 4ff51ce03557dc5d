// The htu comparison form (RFC 9449 §4.3 check 9 with RFC 3986 §6.2.2 normalisation).
import { describe, expect, it } from 'vitest';
import { normalizeHtu } from '../../src/request/normalize-url.js';

describe('normalizeHtu', () => {
  // RFC 3986 §6.2.2 (case, percent-encoding, dot segments) and §6.2.3 (scheme-based:
  // default port, empty path); RFC 9449 §4.3 leaves out the query and fragment.
  it.each([
    ['lower-cases the scheme and host', 'HTTPS://API.Example.COM/orders', 'https://api.example.com/orders'],
    ['drops the https default port', 'https://api.example.com:443/orders', 'https://api.example.com/orders'],
    ['drops the http default port', 'http://api.example.com:80/orders', 'http://api.example.com/orders'],
    ['keeps another port', 'https://api.example.com:8443/orders', 'https://api.example.com:8443/orders'],
    ['makes an empty path /', 'https://api.example.com', 'https://api.example.com/'],
    ['removes dot segments', 'https://api.example.com/a/./b/../orders', 'https://api.example.com/a/orders'],
    [
      'decodes unreserved characters',
      'https://api.example.com/%7euser/%6frders',
      'https://api.example.com/~user/orders',
    ],
    [
      'upper-cases the hex of other escapes',
      'https://api.example.com/a%2fb%3a',
      'https://api.example.com/a%2Fb%3A',
    ],
    [
      'drops the query and fragment',
      'https://api.example.com/orders?page=2#top',
      'https://api.example.com/orders',
    ],
  ])('%s: %s → %s', (_rule, input, expected) => {
    expect(normalizeHtu(input)).toBe(expected);
  });

  it('keeps paths that differ only in case or in an encoded slash apart', () => {
    expect(normalizeHtu('https://api.test/Orders')).not.toBe(normalizeHtu('https://api.test/orders'));
    expect(normalizeHtu('https://api.test/a%2Fb')).not.toBe(normalizeHtu('https://api.test/a/b'));
  });

  it.each(['/orders', 'ftp://api.test/x', 'not a url', 'urn:x:y', 'javascript:alert(1)'])(
    'refuses %s: not an absolute http(s) URL',
    (input) => {
      expect(normalizeHtu(input)).toBeUndefined();
    },
  );
});
