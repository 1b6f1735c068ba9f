import { z } from 'zod';
import { PHRASES } from './phrases.ts';

export const Project = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Project = z.infer<typeof Project>;

const ProjectName = z.string().trim().min(1, PHRASES['input.projectName']).max(120, PHRASES['input.projectNameLong']);
const ProjectRef = z.object({ id: z.string().min(1) });

export const projectMethods = {
  'projects.list': { input: z.object({}), output: z.array(Project), doc: 'All projects, newest first.' },
  'projects.create': {
    input: z.object({ name: ProjectName, description: z.string().max(2000).default('') }),
    output: Project,
    doc: 'Create a project. Names are unique.',
  },
  'projects.get': { input: ProjectRef, output: Project, doc: 'One project by id.' },
  'projects.rename': { input: z.object({ id: z.string().min(1), name: ProjectName }), output: Project, doc: 'Rename a project.' },
  'projects.delete': { input: ProjectRef, output: z.object({ deleted: z.boolean() }), doc: 'Delete a project and everything recorded under it.' },
};
