// Runs once before the browser tests: one renderer build for the whole run (see buildRenderer).
import { buildRenderer } from './harness.ts';

export default function setup(): void {
  buildRenderer();
  process.env.LORA_STUDIO_E2E_RENDERER_BUILT = '1';
}
