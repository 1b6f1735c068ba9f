import { notFound } from '../../errors.ts';
import type { HandlerGroup } from './types.ts';

export const projectHandlers: HandlerGroup<'projects'> = {
  'projects.list': (_input, { store }) => store.projects.list(),
  'projects.create': ({ name, description }, { store }) => store.projects.create({ name, description }),
  'projects.get': ({ id }, { store }) => store.projects.get(id) ?? throwNotFound(id),
  'projects.rename': ({ id, name }, { store }) => store.projects.update(id, { name }) ?? throwNotFound(id),
  'projects.delete': ({ id }, { store, jobs }) => {
    if (!store.projects.get(id)) throwNotFound(id);
    // Its workers are told to stop; their rows go with the project (ON DELETE CASCADE).
    jobs.cancelProjectJobs(id);
    return { deleted: store.projects.delete(id) };
  },
};

function throwNotFound(id: string): never {
  throw notFound('project', id);
}
