// Pages that work inside a project render through this: it waits for the projects list, shows its error,
// or asks for a project first; otherwise it hands the current project to the page.
import type { ReactNode } from 'react';
import type { Project } from '../../../common/api/projects.ts';
import { Banner, Button, Card, EmptyState, Spinner, type IconName } from '../components/index.ts';
import { routeHref } from '../routes.ts';
import { useProjects } from '../state/projects.tsx';
import { t } from '../i18n/t.ts';

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
        <Spinner label={t('gate.loadingProjects')} />
      </Card>
    );
  }
  if (state.status === 'error') {
    return (
      <Banner
        title={t('gate.projectsFailed')}
        actions={
          <Button size="sm" onClick={() => void reload()}>
            {t('common.tryAgain')}
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
          title={t('gate.createFirst')}
          points={will}
          actions={
            <a className="btn btn-primary" href={routeHref('projects')}>
              {t('gate.goToProjects')}
            </a>
          }
        >
          {t('gate.worksInProject', { page: pageTitle })}
        </EmptyState>
      </Card>
    );
  }
  return <>{children(currentProject)}</>;
}
