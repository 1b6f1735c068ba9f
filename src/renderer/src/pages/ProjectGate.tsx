// Pages that work inside a project render through this: it waits for the projects list, shows its error,
// or asks for a project first; otherwise it hands the current project to the page.
import type { ReactNode } from 'react';
import type { Project } from '../../../common/api/projects.ts';
import { Banner, Button, Card, EmptyState, Spinner, type IconName } from '../components/index.ts';
import { routeHref } from '../routes.ts';
import { useProjects } from '../state/projects.tsx';

export function ProjectGate({
  pageTitle,
  icon,
  will,
  children,
}: {
  pageTitle: string;
  icon: IconName;
  /** What the page lets the user do once a project exists. */
  will: string[];
  children: (project: Project) => ReactNode;
}) {
  const { state, currentProject, reload } = useProjects();
  if (state.status === 'loading') {
    return (
      <Card>
        <Spinner label="Loading projects…" />
      </Card>
    );
  }
  if (state.status === 'error') {
    return (
      <Banner
        title="Could not load the projects"
        actions={
          <Button size="sm" onClick={() => void reload()}>
            Try again
          </Button>
        }
      >
        {state.error.message}
      </Banner>
    );
  }
  if (currentProject === null) {
    return (
      <Card>
        <EmptyState
          icon={icon}
          title="Create a project first"
          points={will}
          actions={
            <a className="btn btn-primary" href={routeHref('projects')}>
              Go to Projects
            </a>
          }
        >
          {pageTitle} works inside a project. Once you have one, this page will let you:
        </EmptyState>
      </Card>
    );
  }
  return <>{children(currentProject)}</>;
}
