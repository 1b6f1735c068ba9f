// Types of the build script's exports used by tests.
export function cudaSources(): string[];
