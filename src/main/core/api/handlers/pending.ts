// Methods the contract already declares whose core service lands with a later issue (runs and evaluations:
// issue 4). They answer with a clear `failed` error instead of pretending; replace this group with a real
// ./runs.ts when the trainer's job kinds exist.
import { StudioError } from '../../errors.ts';
import type { HandlerGroup } from './types.ts';

const pending = (method: string) => (): never => {
  throw new StudioError('failed', `${method} is not available yet: the training service (issue 4) is not wired into the core`);
};

export const pendingHandlers: HandlerGroup<'runs'> & HandlerGroup<'evaluations'> = {
  'runs.list': pending('runs.list'),
  'runs.get': pending('runs.get'),
  'runs.metrics': pending('runs.metrics'),
  'runs.start': pending('runs.start'),
  'runs.cancel': pending('runs.cancel'),
  'runs.resume': pending('runs.resume'),
  'evaluations.list': pending('evaluations.list'),
  'evaluations.get': pending('evaluations.get'),
  'evaluations.start': pending('evaluations.start'),
};
