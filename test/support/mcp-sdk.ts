// The MCP SDK's own requireBearerAuth middleware, for tests that put it in front of a route.
// Its bearerAuth.d.ts declares Express's `req.auth` as its AuthInfo, which clashes with
// oauth-jwt-verify/express's `req.auth` (VerifyResult) in this one TypeScript program of
// every test: imported through a specifier TypeScript does not resolve, with its own type
// (an MCP server that uses oauth-jwt-verify/mcp and not /express has no such clash).
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { RequestHandler } from 'express';

const BEARER_AUTH = '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';

export const { requireBearerAuth } = (await import(BEARER_AUTH)) as {
  requireBearerAuth(options: {
    verifier: OAuthTokenVerifier;
    requiredScopes?: string[];
    resourceMetadataUrl?: string;
    expectedResource?: URL;
  }): RequestHandler;
};
