// Compare runs: the page frame; the charts and table load lazily (recharts is large), as the Run page does.
import { lazy, Suspense } from 'react';
import { PageHeader, Spinner } from '../components/index.ts';
import { ProjectGate } from './ProjectGate.tsx';
import { compareWill } from './CompareData.ts';
import { t } from '../i18n/t.ts';

const CompareView = lazy(() => import('./CompareView.tsx').then((module) => ({ default: module.CompareView })));

export function ComparePage() {
  return (
    <>
      <PageHeader title={t('nav.compare')} description={t('compare.description')} />
      <ProjectGate pageTitle={t('nav.compare')} icon="pulse" will={compareWill()}>
        {(project) => (
          <Suspense fallback={<Spinner label={t('compare.loading')} />}>
            <CompareView key={project.id} project={project} />
          </Suspense>
        )}
      </ProjectGate>
    </>
  );
}
