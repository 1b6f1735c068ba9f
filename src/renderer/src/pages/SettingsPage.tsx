import { useCallback, useEffect, useState } from 'react';
import type { DoctorReport } from '../../../common/api/system.ts';
import { toStudioApiError, type StudioApiError } from '../api/client.ts';
import { Banner, Button, Card, PageHeader, Spinner } from '../components/index.ts';
import { formatBytes } from '../format.ts';
import { useStudio } from '../state/studio.tsx';
import { useTheme } from '../state/theme.tsx';
import type { ThemePreference } from '../theme.ts';

const THEME_CHOICES: { value: ThemePreference; label: string }[] = [
  { value: 'system', label: 'Match system' },
  { value: 'light', label: 'Light' },
  { value: 'dark', label: 'Dark' },
];

export function SettingsPage() {
  const { preference, setPreference } = useTheme();
  return (
    <>
      <PageHeader title="Settings" description="How the studio looks, and the machine it runs its work on." />

      <Card title="Appearance">
        <fieldset className="settings-fieldset">
          <legend className="field-label">Theme</legend>
          <div className="segmented" role="radiogroup" aria-label="Theme">
            {THEME_CHOICES.map((choice) => (
              <label key={choice.value}>
                <input type="radio" name="theme" value={choice.value} checked={preference === choice.value} onChange={() => setPreference(choice.value)} />
                {choice.label}
              </label>
            ))}
          </div>
          <span className="field-hint">Match system follows your operating system’s light or dark setting.</span>
        </fieldset>
      </Card>

      <EnvironmentCard />

      <Card title="Training defaults and Hugging Face">
        <p className="muted">
          The number of CPU threads, a Hugging Face token (kept in the system’s secure storage) and offline mode will be set here. These
          settings are not built yet.
        </p>
      </Card>
    </>
  );
}

type DoctorState = { status: 'loading' } | { status: 'error'; error: StudioApiError } | { status: 'ready'; report: DoctorReport };

function EnvironmentCard() {
  const client = useStudio();
  const [state, setState] = useState<DoctorState>({ status: 'loading' });

  const load = useCallback(async () => {
    setState({ status: 'loading' });
    try {
      setState({ status: 'ready', report: await client.invoke('system.doctor', {}) });
    } catch (error) {
      setState({ status: 'error', error: toStudioApiError(error) });
    }
  }, [client]);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <Card
      title="This machine"
      actions={
        <Button size="sm" variant="ghost" onClick={() => void load()} disabled={state.status === 'loading'}>
          Check again
        </Button>
      }
    >
      {state.status === 'loading' ? (
        <Spinner label="Checking the machine…" />
      ) : state.status === 'error' ? (
        <Banner title="Could not check the machine">{state.error.message}</Banner>
      ) : (
        <dl className="kv">
          <dt>Data folder</dt>
          <dd>
            <code>{state.report.dataDir}</code>
          </dd>
          <dt>Studio</dt>
          <dd>
            {state.report.appVersion} on Node {state.report.node}, {state.report.platform} {state.report.arch}
          </dd>
          <dt>CPU</dt>
          <dd>
            {state.report.cpuThreads} threads, {formatBytes(state.report.totalMemoryBytes)} memory
          </dd>
          <dt>ONNX Runtime</dt>
          <dd>
            {state.report.onnxruntime.available
              ? `${state.report.onnxruntime.version ?? 'available'} (${state.report.onnxruntime.backends.join(', ') || 'no backends listed'})`
              : `Not available: ${state.report.onnxruntime.error ?? 'unknown reason'}`}
          </dd>
          <dt>GPU (CUDA)</dt>
          <dd>{state.report.cuda.available ? (state.report.cuda.device ?? 'available') : `Not used: ${state.report.cuda.reason}`}</dd>
        </dl>
      )}
    </Card>
  );
}
