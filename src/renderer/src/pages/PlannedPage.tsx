// The honest empty state of a page whose capability is not built yet: what the page will do, and the
// step that comes first. It never shows sample data.
import type { ReactNode } from 'react';
import type { Project } from '../../../common/api/projects.ts';
import { Card, EmptyState, PageHeader, type IconName } from '../components/index.ts';
import { routeHref, type RouteId } from '../routes.ts';
import { ProjectGate } from './ProjectGate.tsx';

export interface PlannedPageProps {
  title: string;
  icon: IconName;
  /** One sentence: what the page is for. */
  description: string;
  /** What the page will let the user do, a few short points. */
  will: string[];
  /** Shown once a project exists: what has to happen before this page has something to show. */
  firstStep: { title: string; body: ReactNode; action?: { label: string; route: RouteId } };
  /** The command that does this today from a terminal, while the page is not built. */
  cli?: string | ((project: Project) => string);
}

export function PlannedPage({ title, icon, description, will, firstStep, cli }: PlannedPageProps) {
  return (
    <>
      <PageHeader title={title} description={description} />
      <ProjectGate pageTitle={title} icon={icon} will={will}>
        {(project) => (
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
              {cli ? (
                <>
                  {' '}Meanwhile, from a terminal:
                  <code className="cli-hint">{typeof cli === 'function' ? cli(project) : cli}</code>
                </>
              ) : null}
            </EmptyState>
          </Card>
        )}
      </ProjectGate>
    </>
  );
}
