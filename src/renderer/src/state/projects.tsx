// The projects list shared by the Projects page, the sidebar's project picker and the other pages'
// "create a project first" states, plus which project is current (remembered per browser profile).
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import type { Project } from '../../../common/api/projects.ts';
import { toStudioApiError, type StudioApiError } from '../api/client.ts';
import { useStudio } from './studio.tsx';

export type ProjectsState =
  | { status: 'loading' }
  | { status: 'error'; error: StudioApiError }
  | { status: 'ready'; projects: Project[] };

interface ProjectsContextValue {
  state: ProjectsState;
  currentProject: Project | null;
  setCurrentProjectId(id: string | null): void;
  reload(): Promise<void>;
  /** These throw StudioApiError; callers show its message where the action was taken. */
  create(name: string, description: string): Promise<Project>;
  rename(id: string, name: string): Promise<Project>;
  remove(id: string): Promise<void>;
}

const ProjectsContext = createContext<ProjectsContextValue | null>(null);

export const CURRENT_PROJECT_KEY = 'lora-studio.current-project';

function storage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

export function ProjectsProvider({ children }: { children: ReactNode }) {
  const client = useStudio();
  const [state, setState] = useState<ProjectsState>({ status: 'loading' });
  const [currentId, setCurrentId] = useState<string | null>(() => storage()?.getItem(CURRENT_PROJECT_KEY) ?? null);

  const setCurrentProjectId = useCallback((id: string | null) => {
    setCurrentId(id);
    if (id === null) storage()?.removeItem(CURRENT_PROJECT_KEY);
    else storage()?.setItem(CURRENT_PROJECT_KEY, id);
  }, []);

  const reload = useCallback(async () => {
    setState((previous) => (previous.status === 'ready' ? previous : { status: 'loading' }));
    try {
      const projects = await client.invoke('projects.list', {});
      setState({ status: 'ready', projects });
    } catch (error) {
      setState({ status: 'error', error: toStudioApiError(error) });
    }
  }, [client]);

  useEffect(() => {
    void reload();
  }, [reload]);

  // Changes made while the page was cut off from the core (another window, the CLI) are fetched again
  // once the event stream is back.
  useEffect(() => {
    let previous = client.connectionState();
    return client.onConnectionChange((state) => {
      if (state === 'connected' && previous === 'reconnecting') void reload();
      previous = state;
    });
  }, [client, reload]);

  const create = useCallback(
    async (name: string, description: string) => {
      const project = await client.invoke('projects.create', { name: name.trim(), description: description.trim() }).catch((error: unknown) => {
        throw toStudioApiError(error);
      });
      setState((previous) => (previous.status === 'ready' ? { status: 'ready', projects: [project, ...previous.projects] } : previous));
      setCurrentProjectId(project.id);
      return project;
    },
    [client, setCurrentProjectId],
  );

  const rename = useCallback(
    async (id: string, name: string) => {
      const project = await client.invoke('projects.rename', { id, name: name.trim() }).catch((error: unknown) => {
        throw toStudioApiError(error);
      });
      setState((previous) =>
        previous.status === 'ready' ? { status: 'ready', projects: previous.projects.map((p) => (p.id === id ? project : p)) } : previous,
      );
      return project;
    },
    [client],
  );

  const remove = useCallback(
    async (id: string) => {
      await client.invoke('projects.delete', { id }).catch((error: unknown) => {
        throw toStudioApiError(error);
      });
      setState((previous) =>
        previous.status === 'ready' ? { status: 'ready', projects: previous.projects.filter((p) => p.id !== id) } : previous,
      );
    },
    [client],
  );

  const currentProject = useMemo(() => {
    if (state.status !== 'ready') return null;
    // A remembered id that no longer exists (deleted elsewhere) falls back to the newest project.
    return state.projects.find((p) => p.id === currentId) ?? state.projects[0] ?? null;
  }, [state, currentId]);

  const value = useMemo<ProjectsContextValue>(
    () => ({ state, currentProject, setCurrentProjectId, reload, create, rename, remove }),
    [state, currentProject, setCurrentProjectId, reload, create, rename, remove],
  );
  return <ProjectsContext.Provider value={value}>{children}</ProjectsContext.Provider>;
}

export function useProjects(): ProjectsContextValue {
  const value = useContext(ProjectsContext);
  if (!value) throw new Error('useProjects() is used outside <ProjectsProvider>');
  return value;
}
