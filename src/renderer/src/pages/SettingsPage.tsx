import type { DoctorReport } from '../../../common/api/system.ts';
import { useQuery } from '../api/hooks.ts';
import { Button, Card, PageHeader, QueryView } from '../components/index.ts';
import { formatBytes } from '../format.ts';
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

function EnvironmentCard() {
  const doctor = useQuery('system.doctor', {});
  return (
    <Card
      title="This machine"
      actions={
        <Button size="sm" variant="ghost" onClick={doctor.reload} disabled={doctor.state.status === 'loading'}>
          Check again
        </Button>
      }
    >
      <QueryView state={doctor.state} loadingLabel="Checking the machine…" errorTitle="Could not check the machine" onRetry={doctor.reload}>
        {(report) => <DoctorList report={report} />}
      </QueryView>
    </Card>
  );
}

function DoctorList({ report }: { report: DoctorReport }) {
  return (
    <dl className="kv">
      <dt>Data folder</dt>
      <dd>
        <code>{report.dataDir}</code>
      </dd>
      <dt>Studio</dt>
      <dd>
        {report.appVersion} on Node {report.node}, {report.platform} {report.arch}
      </dd>
      <dt>CPU</dt>
      <dd>
        {report.cpuThreads} threads, {formatBytes(report.totalMemoryBytes)} memory
      </dd>
      <dt>ONNX Runtime</dt>
      <dd>
        {report.onnxruntime.available
          ? `${report.onnxruntime.version ?? 'available'} (${report.onnxruntime.backends.join(', ') || 'no backends listed'})`
          : `Not available: ${report.onnxruntime.error ?? 'unknown reason'}`}
      </dd>
      <dt>GPU (CUDA)</dt>
      <dd>{report.cuda.available ? (report.cuda.device ?? 'available') : `Not used: ${report.cuda.reason}`}</dd>
    </dl>
  );
}
