// Builds only the renderer (React UI) into out/renderer, for `serve` and the browser tests.
import { defineConfig } from 'vite';
import { rendererConfig } from './src/renderer/vite.shared.ts';

export default defineConfig(rendererConfig);
