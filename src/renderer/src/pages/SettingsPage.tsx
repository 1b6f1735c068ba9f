import { useState, type FormEvent } from 'react';
import type { Settings } from '../../../common/api/settings.ts';
import type { DoctorReport } from '../../../common/api/system.ts';
import { toStudioApiError } from '../api/client.ts';
import { useQuery } from '../api/hooks.ts';
import { Banner, Button, Card, PageHeader, QueryView, TextField } from '../components/index.ts';
import { formatBytes } from '../format.ts';
import { useTheme } from '../state/theme.tsx';
import type { ThemePreference } from '../theme.ts';
import { useStudio } from '../state/studio.tsx';
import './Settings.css';

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
                <input
                  type="radio"
                  name="theme"
                  value={choice.value}
                  checked={preference === choice.value}
                  onChange={() => setPreference(choice.value)}
                />
                {choice.label}
              </label>
            ))}
          </div>
          <span className="field-hint">Match system follows your operating system’s light or dark setting.</span>
        </fieldset>
      </Card>

      <EnvironmentCard />

      <WorkSettingsCard />
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
      <QueryView
        state={doctor.state}
        loadingLabel="Checking the machine…"
        errorTitle="Could not check the machine"
        onRetry={doctor.reload}
      >
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
        <div className="field-hint">
          Projects, runs and exports live here. It is chosen at start: --data-dir or LORA_STUDIO_HOME for serve and the
          CLI.
        </div>
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

/** Threads, offline mode and the Hub token: saved by the core, applied to every job started afterwards. */
function WorkSettingsCard() {
  const settings = useQuery('settings.get', {});
  return (
    <Card title="Jobs and Hugging Face">
      <QueryView
        state={settings.state}
        loadingLabel="Loading settings…"
        errorTitle="Could not load the settings"
        onRetry={settings.reload}
      >
        {(s) => <WorkSettingsForm settings={s} onChanged={settings.reload} />}
      </QueryView>
    </Card>
  );
}

function WorkSettingsForm({ settings, onChanged }: { settings: Settings; onChanged: () => void }) {
  const client = useStudio();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  /** Runs one settings call; true when it was saved (the error, if any, is shown above the form). */
  async function apply(action: () => Promise<unknown>): Promise<boolean> {
    setBusy(true);
    setError(null);
    try {
      await action();
      onChanged();
      return true;
    } catch (err) {
      setError(toStudioApiError(err).message);
      return false;
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="form-grid">
      {error ? <Banner title="Not saved">{error}</Banner> : null}
      <ThreadsField
        settings={settings}
        busy={busy}
        onSave={(threads) => apply(() => client.invoke('settings.update', { threads }))}
      />

      <fieldset className="settings-fieldset">
        <legend className="field-label">Offline mode</legend>
        <label className="settings-check">
          <input
            type="checkbox"
            checked={settings.offline || settings.offlineFromEnv}
            disabled={busy || settings.offlineFromEnv}
            onChange={(e) => void apply(() => client.invoke('settings.update', { offline: e.target.checked }))}
          />
          Use only models and datasets already downloaded
        </label>
        <span className="field-hint">
          {settings.offlineFromEnv
            ? 'HF_HUB_OFFLINE is set in the environment the studio was started from, so downloads are off whatever this says.'
            : 'Hub pulls read the Hugging Face cache and never touch the network; a repo not downloaded yet fails with a clear message.'}
        </span>
      </fieldset>

      <HubTokenField
        settings={settings}
        busy={busy}
        onSave={(token) => apply(() => client.invoke('settings.setHubToken', { token }))}
        onClear={() => apply(() => client.invoke('settings.clearHubToken', {}))}
      />
    </div>
  );
}

function ThreadsField({
  settings,
  busy,
  onSave,
}: {
  settings: Settings;
  busy: boolean;
  onSave: (threads: number | null) => Promise<boolean>;
}) {
  const [text, setText] = useState(settings.threads === null ? '' : String(settings.threads));
  const [error, setError] = useState<string | null>(null);
  function submit(e: FormEvent) {
    e.preventDefault();
    const trimmed = text.trim();
    if (trimmed === '') {
      setError(null);
      void onSave(null);
      return;
    }
    const n = Number(trimmed);
    if (!Number.isInteger(n) || n < 1 || n > settings.cpuThreads) {
      setError(`Enter a whole number from 1 to ${settings.cpuThreads}, or leave it empty to use all of them.`);
      return;
    }
    setError(null);
    void onSave(n);
  }
  return (
    <form className="settings-inline" onSubmit={submit} aria-label="CPU threads">
      <TextField
        label="CPU threads for training and chat"
        inputMode="numeric"
        placeholder={`All (${settings.cpuThreads})`}
        value={text}
        onChange={(e) => setText(e.target.value)}
        error={error}
        hint={`Now: ${settings.threads ?? `all ${settings.cpuThreads}`}. Fewer threads leave the computer responsive but make training slower. Applies to jobs started afterwards.`}
      />
      <Button type="submit" busy={busy}>
        Save threads
      </Button>
    </form>
  );
}

function HubTokenField({
  settings,
  busy,
  onSave,
  onClear,
}: {
  settings: Settings;
  busy: boolean;
  onSave: (token: string) => Promise<boolean>;
  onClear: () => Promise<boolean>;
}) {
  const [token, setToken] = useState('');
  const t = settings.hubToken;
  const where =
    t.storage === 'keychain'
      ? 'encrypted with your system’s keychain'
      : `in a file only your user can read (${t.file ?? 'the data folder'})`;
  const status =
    t.source === 'env'
      ? `A token is set: HF_TOKEN in the environment the studio was started from. It takes precedence${t.stored ? ' over the stored one' : ''}.`
      : t.stored
        ? `A token is stored, ${where}.`
        : 'No token. Public models download without one; gated or private ones need it.';
  function submit(e: FormEvent) {
    e.preventDefault();
    void onSave(token.trim()).then((saved) => saved && setToken(''));
  }
  return (
    <form className="settings-inline" onSubmit={submit} aria-label="Hugging Face token">
      <TextField
        label="Hugging Face token"
        type="password"
        autoComplete="off"
        placeholder={t.stored ? 'Stored (enter a new one to replace it)' : 'hf_…'}
        value={token}
        onChange={(e) => setToken(e.target.value)}
        hint={`${status} It is never shown again once saved. Get one at huggingface.co/settings/tokens (read access is enough).`}
      />
      <div className="row-actions">
        <Button type="submit" busy={busy} disabled={!token.trim()}>
          Save token
        </Button>
        {t.stored ? (
          <Button type="button" variant="ghost" disabled={busy} onClick={() => void onClear()}>
            Remove stored token
          </Button>
        ) : null}
      </div>
    </form>
  );
}
