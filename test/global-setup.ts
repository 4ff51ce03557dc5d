// Several tiers run the built package (the CLI, the Chromium page, the packed tarball): build
// it once, before any test file starts, when dist/ is missing or older than src/.
import { ensureBuilt } from '../scripts/ensure-build.mjs';

export default function setup(): void {
  ensureBuilt({ log: (line) => console.log(`[global setup] ${line}`) });
}
