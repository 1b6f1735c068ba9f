#!/usr/bin/env node
// The `lora-studio` CLI. Runs the TypeScript sources through tsx, so the CLI needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/main/cli/main.ts');
