/** An entry of package.json `exports`; see ci-entries.mjs. */
export interface PackageEntry {
  subpath: string;
  specifier: string;
  types: string;
  file: string;
  source: string;
  browser: boolean;
}
export function packageEntries(root: string): PackageEntry[];
export function packTarball(root: string, destination: string): Promise<string>;
