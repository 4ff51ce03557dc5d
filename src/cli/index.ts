#!/usr/bin/env node
/**
 * The `oauth-jwt-verify` command: `demo`, `discover <issuer>`, `verify <token|->`,
 * `decode <token|->`, `issuer`. See docs/cli.md.
 * @module
 */
import { processIo } from './io.js';
import { main } from './main.js';

// exitCode rather than exit(): stdout is a pipe in scripts, and must drain first.
process.exitCode = await main(process.argv.slice(2), processIo());
