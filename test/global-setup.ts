// Before any test file starts: the programs the selected files need from the system
// (Chromium for test/browser, redis-server for test/fleet/redis*; scripts/test-prerequisites.mjs)
// are there, else the run stops here saying what to install. Then several tiers run the
// built package (the CLI, the Chromium page, the packed tarball): build it once, when dist/ is
// missing or older than src/.
import type { TestProject } from 'vitest/node';
import { ensureBuilt } from '../scripts/ensure-build.mjs';
import { checkPrerequisites } from '../scripts/test-prerequisites.mjs';

export default function setup(project: TestProject): void {
  // The files this run selected (vitest collects them before the global setup). The state API
  // is marked experimental; without it the list is empty and every program is required.
  checkPrerequisites(project.vitest.state?.getPaths?.() ?? []);
  ensureBuilt({ log: (line) => console.log(`[global setup] ${line}`) });
}
