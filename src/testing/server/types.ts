// The public types of startIssuerServer: its options, its configuration and the running server.
import type { TestIssuer, TestIssuerOptions } from '../types.js';

/**
 * One issuer of {@link IssuerServerConfig}: `createTestIssuer`'s options but those the
 * server decides (`issuer`: the server's URL or `publicUrl` plus the issuer's id; `listen`;
 * `keys`: see `keysFile`; `now`).
 */
export type IssuerConfig = Omit<TestIssuerOptions, 'issuer' | 'listen' | 'keys' | 'now'>;

/**
 * What `startIssuerServer` serves, as JSON can say it (the `issuer` command's `--config`).
 * Without `issuers`, the top level is the one issuer, served at the root (id `default`).
 * With `issuers`, each is served at `/<id>` with its own keys, and the top level's issuer
 * options are defaults each issuer's own override (member by member).
 */
export interface IssuerServerConfig extends IssuerConfig {
  /**
   * Issuers by id, each served at `/<id>` (its `iss` is `<base>/<id>`). An id is made of
   * letters, digits, `-`, `.`, `_` and `~`, starts with a letter or digit, and is not `health`.
   */
  issuers?: Record<string, IssuerConfig>;
  /** Serve the control API (`_admin/...` under each issuer) to loopback callers. Default `false`. */
  admin?: boolean;
  /** Show the login page at `/authorize`. Default `true` here (`false` for `createTestIssuer`). */
  interactiveLogin?: boolean;
}

/** One request the server answered, as {@link IssuerServerOptions.onRequest} gets it. */
export interface IssuerServerRequestLog {
  method: string;
  /** The path, with the values of query parameters that can hold secrets (`code`, `*token*`, …) replaced by `…`. */
  path: string;
  status: number;
  /** Time to answer, in milliseconds. */
  ms: number;
}

/** Options of `startIssuerServer`. All are optional. */
export interface IssuerServerOptions {
  /** What to serve. Default `{}`: one issuer at the root with `createTestIssuer`'s defaults. */
  config?: IssuerServerConfig;
  /** The port; `0` for any free port. Default `8080`. */
  port?: number;
  /** The address to listen on (`0.0.0.0` for every interface, as in a container). Default `'127.0.0.1'`. */
  host?: string;
  /**
   * The base URL clients reach the server at (a port map or proxy in front), an origin
   * such as `http://localhost:9000`: what `iss` and every metadata URL say. Default: the
   * server's own URL.
   */
  publicUrl?: string;
  /**
   * A JSON file of every issuer's private signing keys, created (mode 0600) when missing and
   * read when present, so tokens issued before a restart verify after it. Rotations through
   * the control API or `rotateKeys()` are written to it. Default: fresh keys on every start.
   */
  keysFile?: string;
  /** Serve HTTPS with this PEM certificate (chain) and private key. Default: plain HTTP. */
  https?: { cert: string | Uint8Array; key: string | Uint8Array };
  /** Called once per answered request (the `issuer` command prints these). Default: none. */
  onRequest?: (entry: IssuerServerRequestLog) => void;
}

/** A running development identity provider; see `startIssuerServer`. */
export interface IssuerServer {
  /** The server's base URL (`publicUrl` when given), without a trailing `/`. */
  readonly url: string;
  /** The port it listens on (the one chosen when `port` was `0`). */
  readonly port: number;
  /** The issuers by id (`default` for a configuration without `issuers`), each a full `createTestIssuer` issuer. */
  readonly issuers: Readonly<Record<string, TestIssuer>>;
  /** Stops accepting connections, lets requests in flight finish, then resolves. */
  close(): Promise<void>;
}
