// Compare runs: the page frame; the charts and table load lazily (recharts is large), as the Run page does.
import { lazy, Suspense } from 'react';
import { PageHeader, Spinner } from '../components/index.ts';
import { ProjectGate } from './ProjectGate.tsx';
import { COMPARE_WILL } from './CompareData.ts';

const CompareView = lazy(() => import('./CompareView.tsx').then((module) => ({ default: module.CompareView })));

export function ComparePage() {
  return (
    <>
      <PageHeader
        title="Compare runs"
        description="Several fine-tunes of this project side by side: which setting learned best, and what it cost."
      />
      <ProjectGate pageTitle="Compare runs" icon="pulse" will={COMPARE_WILL}>
        {(project) => (
          <Suspense fallback={<Spinner label="Loading the comparison…" />}>
            <CompareView key={project.id} project={project} />
          </Suspense>
        )}
      </ProjectGate>
    </>
  );
}
