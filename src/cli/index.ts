#!/usr/bin/env node
/** oauth-jwt-verify command-line tool (work in progress). */
process.stdout.write("oauth-jwt-verify: CLI under construction\n");
