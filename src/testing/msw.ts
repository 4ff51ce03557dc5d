// The stub issuer as msw handlers, with msw loaded only when it is installed.
import type { HttpHandler } from 'msw';

/** The msw module, or why it could not be imported. */
export type Msw = typeof import('msw');

/** msw, imported only here and only on demand: it is an optional peer dependency. */
export async function loadMsw(): Promise<Msw | Error> {
  try {
    return await import('msw');
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** One msw handler per URL the issuer serves, each calling the issuer's request handler. */
export function createMswHandlers(
  msw: Msw | Error,
  urls: Iterable<string>,
  handle: (request: Request) => Promise<Response>,
): () => readonly HttpHandler[] {
  if (msw instanceof Error) {
    return () => {
      throw new Error(
        `oauth-jwt-verify/testing: issuer.handlers needs msw, which could not be imported (${msw.message}). ` +
          'Install it (npm install --save-dev msw), or reach the issuer without msw: listen: true, or issuer.fetch.',
        { cause: msw },
      );
    };
  }
  const handlers = [...urls].map((url) => msw.http.all(url, ({ request }) => handle(request)));
  return () => handlers;
}
