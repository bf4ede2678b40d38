export function consoleIsStale(): boolean;
export function buildConsole(): Promise<void>;
export function ensureConsoleBuilt(): Promise<void>;
