import { doctor } from '../../system/doctor.ts';
import type { HandlerGroup } from './types.ts';

export const systemHandlers: HandlerGroup<'system'> = {
  'system.doctor': (_input, ctx) => doctor(ctx.dataDir, ctx.appVersion),
};
