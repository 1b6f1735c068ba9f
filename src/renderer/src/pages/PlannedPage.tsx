// The honest empty state of a page whose capability is not built yet: what the page will do, and the
// step that comes first. It never shows sample data.
import type { ReactNode } from 'react';
import { Banner, Button, Card, EmptyState, PageHeader, Spinner, type IconName } from '../components/index.ts';
import { routeHref, type RouteId } from '../routes.ts';
import { useProjects } from '../state/projects.tsx';

export interface PlannedPageProps {
  title: string;
  icon: IconName;
  /** One sentence: what the page is for. */
  description: string;
  /** What the page will let the user do, a few short points. */
  will: string[];
  /** Shown once a project exists: what has to happen before this page has something to show. */
  firstStep: { title: string; body: ReactNode; action?: { label: string; route: RouteId } };
}

export function PlannedPage({ title, icon, description, will, firstStep }: PlannedPageProps) {
  const { state, currentProject, reload } = useProjects();
  return (
    <>
      <PageHeader title={title} description={description} />
      {state.status === 'loading' ? (
        <Card>
          <Spinner label="Loading projects…" />
        </Card>
      ) : state.status === 'error' ? (
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
      ) : currentProject === null ? (
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
            {title} works inside a project. Once you have one, this page will let you:
          </EmptyState>
        </Card>
      ) : (
        <Card>
          <EmptyState
            icon={icon}
            title={firstStep.title}
            points={will}
            actions={
              firstStep.action ? (
                <a className="btn btn-secondary" href={routeHref(firstStep.action.route)}>
                  {firstStep.action.label}
                </a>
              ) : undefined
            }
          >
            {firstStep.body}
          </EmptyState>
        </Card>
      )}
    </>
  );
}
