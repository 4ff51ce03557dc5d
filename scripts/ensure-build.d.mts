export declare const root: string;
export declare function staleReason(): string | undefined;
export declare function ensureBuilt(options?: { log?: (line: string) => void }): boolean;
