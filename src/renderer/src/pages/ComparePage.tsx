// Compare runs: the page frame; the charts and table load lazily (recharts is large), as the Run page does.
import { lazy, Suspense } from 'react';
import { PageHeader, Spinner } from '../components/index.ts';
import { ProjectGate } from './ProjectGate.tsx';

const CompareView = lazy(() => import('./CompareView.tsx').then((module) => ({ default: module.CompareView })));

export const COMPARE_WILL = [
  'Pick several runs — say rank 4, 16 and 64, or LoRA against QLoRA — and overlay their loss curves.',
  'Read their final evaluation loss, perplexity, time, peak memory and adapter size side by side.',
];

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
