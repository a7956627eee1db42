/** Which database the test run uses; chosen once in global setup and handed to every file. */
export type TestTarget =
  | { kind: 'postgres'; description: string; adminUrl: string; template: string; prefix: string }
  | { kind: 'pglite'; description: string; dumpFile: string };

declare module 'vitest' {
  export interface ProvidedContext {
    testTarget: TestTarget;
  }
}

/** The same server URL with another database name. */
export function withDatabase(url: string, database: string): string {
  const next = new URL(url);
  next.pathname = `/${database}`;
  return next.toString();
}
