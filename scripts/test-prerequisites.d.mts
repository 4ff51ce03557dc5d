/** A program the test suite needs from the system; see test-prerequisites.mjs. */
export type ProgramName = 'chromium' | 'redis-server' | 'python3-jwt';
export interface Program {
  label: string;
  variable: string;
  commands: string[];
  neededBy: string[];
  /** Arguments the found command must run with exit 0 (python3: `-c 'import jwt'`). */
  probe?: string[];
  brew: string;
}
export interface MissingProgram {
  name: ProgramName;
  problem: string;
  configured: boolean;
}
export declare const PROGRAMS: Record<ProgramName, Program>;
export declare function locate(
  name: ProgramName,
  env?: NodeJS.ProcessEnv,
): { path: string } | { path?: undefined; problem: string; configured: boolean };
export declare function programsFor(files?: readonly string[]): ProgramName[];
export declare function findMissing(
  names?: readonly ProgramName[],
  env?: NodeJS.ProcessEnv,
): MissingProgram[];
export declare function aptPackage(name: ProgramName, osRelease?: string): string;
export declare function prerequisitesMessage(
  missing: readonly MissingProgram[],
  options?: { header?: string; note?: string },
): string;
export declare function checkPrerequisites(files?: readonly string[], env?: NodeJS.ProcessEnv): void;
export declare function programPath(name: ProgramName, env?: NodeJS.ProcessEnv): string;
export declare function main(argv?: readonly string[], env?: NodeJS.ProcessEnv): number;
