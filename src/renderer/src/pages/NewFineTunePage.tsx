// New fine-tune, quick start: a base model folder, a dataset file and the main LoRA settings, each
// explained in the contract's own words; everything else keeps the studio's safe defaults. The guided
// wizard (pickers, previews, estimates) will replace this form.
import { useState, type FormEvent } from 'react';
import type { Project } from '../../../common/api/projects.ts';
import { toStudioApiError } from '../api/client.ts';
import { Banner, Button, Card, PageHeader, TextField } from '../components/index.ts';
import { routeHref } from '../routes.ts';
import { buildRunStart, RUN_FORM_DEFAULTS, type RunFormField, type RunFormValues } from '../runForm.ts';
import { useStudio } from '../state/studio.tsx';
import { ProjectGate } from './ProjectGate.tsx';
import { t } from '../i18n/t.ts';

// The same points as the guided wizard's gate (one catalogue entry each).
const wizardWill = () => [t('wizard.will1'), t('wizard.will2'), t('wizard.will3'), t('wizard.will4')];

/** The one-line explanation of each field (the contract's schema descriptions), in the UI's language. */
const hints = (): Record<RunFormField, string> => ({
  name: t('field.runName'),
  model: t('field.model'),
  dataset: t('field.dataset.path'),
  r: t('field.lora.r'),
  alpha: t('field.lora.lora_alpha'),
  learningRate: t('field.learning_rate'),
  epochs: t('field.num_train_epochs'),
  maxSteps: t('field.optional', { text: t('field.max_steps') }),
  maxSeqLength: t('field.max_seq_length'),
  evalShare: t('field.noEvalSplit', { text: t('field.dataset.eval_split.ratio') }),
});

export function NewFineTunePage() {
  return (
    <>
      <PageHeader title={t('nav.new')} description={t('quick.description')} />
      <ProjectGate pageTitle={t('nav.new')} icon="spark" will={wizardWill()}>
        {(project) => <QuickStartForm key={project.id} project={project} />}
      </ProjectGate>
    </>
  );
}

function QuickStartForm({ project }: { project: Project }) {
  const client = useStudio();
  const [values, setValues] = useState<RunFormValues>(RUN_FORM_DEFAULTS);
  const [errors, setErrors] = useState<Partial<Record<RunFormField, string>>>({});
  const [otherErrors, setOtherErrors] = useState<string[]>([]);
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const field = (
    name: RunFormField,
    label: string,
    extra: { inputMode?: 'decimal' | 'numeric'; placeholder?: string; autoFocus?: boolean } = {},
  ) => (
    <TextField
      label={label}
      hint={hints()[name]}
      value={values[name]}
      error={errors[name]}
      spellCheck={false}
      {...extra}
      onChange={(event) => {
        const value = event.target.value;
        setValues((current) => ({ ...current, [name]: value }));
        if (errors[name]) setErrors((current) => ({ ...current, [name]: undefined }));
      }}
    />
  );

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = buildRunStart(project.id, values);
    setErrors(result.fieldErrors);
    setOtherErrors(result.otherErrors);
    setFailure(null);
    if (!result.input) return;
    setBusy(true);
    try {
      const run = await client.invoke('runs.start', result.input);
      window.location.hash = routeHref('runs', run.id);
    } catch (error) {
      setFailure(toStudioApiError(error).message);
      setBusy(false);
    }
  };

  return (
    <form className="stack run-form" onSubmit={(event) => void submit(event)} noValidate>
      <Banner tone="info" title={t('wizard.quickStart')}>
        {t('quick.intro', { project: project.name })} <a href="#/new">{t('nav.new')}</a>
        {t('quick.introEnd')}
      </Banner>
      <Card title={t('quick.what')}>
        <div className="form-grid">
          {field('model', t('exports.baseFolder'), { placeholder: '/path/to/SmolLM2-135M-Instruct', autoFocus: true })}
          {field('dataset', t('datasets.file'), { placeholder: '/path/to/train.jsonl' })}
          {field('name', t('run.name'))}
        </div>
      </Card>
      <Card title={t('quick.how')}>
        <div className="form-grid form-grid-2">
          {field('r', t('quick.rank'), { inputMode: 'numeric' })}
          {field('alpha', t('quick.alpha'), { inputMode: 'decimal' })}
          {field('learningRate', t('run.learningRate'), { inputMode: 'decimal' })}
          {field('epochs', t('quick.epochs'), { inputMode: 'decimal' })}
          {field('maxSteps', t('quick.maxSteps'), { inputMode: 'numeric' })}
          {field('maxSeqLength', t('quick.maxSeqLength'), { inputMode: 'numeric' })}
          {field('evalShare', t('quick.evalShare'), { inputMode: 'decimal' })}
        </div>
      </Card>
      {otherErrors.length > 0 ? (
        <Banner title={t('quick.problems')}>
          <ul className="plain-list">
            {otherErrors.map((message) => (
              <li key={message}>{message}</li>
            ))}
          </ul>
        </Banner>
      ) : null}
      {failure ? <Banner title={t('quick.notStarted')}>{failure}</Banner> : null}
      <div className="form-actions">
        <Button type="button" variant="ghost" onClick={() => setValues(RUN_FORM_DEFAULTS)} disabled={busy}>
          {t('quick.reset')}
        </Button>
        <Button type="submit" variant="primary" icon="spark" busy={busy}>
          {t('quick.start')}
        </Button>
      </div>
    </form>
  );
}
