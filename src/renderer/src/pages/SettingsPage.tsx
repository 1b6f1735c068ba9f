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
import { t } from '../i18n/t.ts';
import { LOCALES, type Locale } from '../i18n/locale.ts';
import { useLocale } from '../state/locale.tsx';
import './Settings.css';

const THEME_CHOICES: ThemePreference[] = ['system', 'light', 'dark'];

/** Each language named in itself, so a reader of the other one still finds theirs. */
const LANGUAGE_NAMES: Record<Locale, string> = { en: 'English', ko: '한국어' };

export function SettingsPage() {
  const { preference, setPreference } = useTheme();
  const { locale, setLocale } = useLocale();
  return (
    <>
      <PageHeader title={t('nav.settings')} description={t('settings.description')} />

      <Card title={t('settings.appearance')}>
        <div className="form-grid">
          <fieldset className="settings-fieldset">
            <legend className="field-label">{t('settings.language')}</legend>
            <div className="segmented" role="radiogroup" aria-label={t('settings.language')}>
              {LOCALES.map((choice) => (
                <label key={choice} lang={choice}>
                  <input
                    type="radio"
                    name="language"
                    value={choice}
                    checked={locale === choice}
                    onChange={() => setLocale(choice)}
                  />
                  {LANGUAGE_NAMES[choice]}
                </label>
              ))}
            </div>
            <span className="field-hint">{t('settings.languageHint')}</span>
          </fieldset>
          <fieldset className="settings-fieldset">
            <legend className="field-label">{t('settings.theme')}</legend>
            <div className="segmented" role="radiogroup" aria-label={t('settings.theme')}>
              {THEME_CHOICES.map((choice) => (
                <label key={choice}>
                  <input
                    type="radio"
                    name="theme"
                    value={choice}
                    checked={preference === choice}
                    onChange={() => setPreference(choice)}
                  />
                  {t(`settings.theme.${choice}`)}
                </label>
              ))}
            </div>
            <span className="field-hint">{t('settings.themeHint')}</span>
          </fieldset>
        </div>
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
      title={t('settings.machine')}
      actions={
        <Button size="sm" variant="ghost" onClick={doctor.reload} disabled={doctor.state.status === 'loading'}>
          {t('settings.checkAgain')}
        </Button>
      }
    >
      <QueryView
        state={doctor.state}
        loadingLabel={t('settings.checking')}
        errorTitle={t('settings.checkFailed')}
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
      <dt>{t('settings.dataFolder')}</dt>
      <dd>
        <code>{report.dataDir}</code>
        <div className="field-hint">{t('settings.dataFolderHint')}</div>
      </dd>
      <dt>{t('settings.studio')}</dt>
      <dd>
        {t('settings.studioVersion', {
          version: report.appVersion,
          node: report.node,
          platform: report.platform,
          arch: report.arch,
        })}
      </dd>
      <dt>{t('settings.cpu')}</dt>
      <dd>{t('settings.cpuValue', { threads: report.cpuThreads, memory: formatBytes(report.totalMemoryBytes) })}</dd>
      <dt>{t('settings.onnx')}</dt>
      <dd>
        {report.onnxruntime.available
          ? `${report.onnxruntime.version ?? t('settings.available')} (${report.onnxruntime.backends.join(', ') || t('settings.noBackends')})`
          : t('settings.notAvailable', { reason: report.onnxruntime.error ?? t('settings.unknownReason') })}
      </dd>
      <dt>{t('settings.gpu')}</dt>
      <dd>
        {report.cuda.available
          ? (report.cuda.device ?? t('settings.available'))
          : t('settings.notUsed', { reason: report.cuda.reason ?? t('settings.unknownReason') })}
      </dd>
    </dl>
  );
}

/** Threads, offline mode and the Hub token: saved by the core, applied to every job started afterwards. */
function WorkSettingsCard() {
  const settings = useQuery('settings.get', {});
  return (
    <Card title={t('settings.jobs')}>
      <QueryView
        state={settings.state}
        loadingLabel={t('settings.loading')}
        errorTitle={t('settings.loadFailed')}
        onRetry={settings.reload}
      >
        {(s) => <WorkSettingsForm settings={s} onChanged={settings.reload} />}
      </QueryView>
    </Card>
  );
}

/** Choices for how long a chat model stays loaded after an answer (a value set elsewhere is listed too). */
const KEEP_ALIVE_MINUTES = [0, 1, 5, 10, 30, 60];

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
      {error ? <Banner title={t('settings.notSaved')}>{error}</Banner> : null}
      <ThreadsField
        settings={settings}
        busy={busy}
        onSave={(threads) => apply(() => client.invoke('settings.update', { threads }))}
      />

      <fieldset className="settings-fieldset">
        <legend className="field-label">{t('settings.offline')}</legend>
        <label className="settings-check">
          <input
            type="checkbox"
            checked={settings.offline || settings.offlineFromEnv}
            disabled={busy || settings.offlineFromEnv}
            onChange={(e) => void apply(() => client.invoke('settings.update', { offline: e.target.checked }))}
          />
          {t('settings.offlineCheck')}
        </label>
        <span className="field-hint">
          {settings.offlineFromEnv ? t('settings.offlineEnv') : t('settings.offlineHint')}
        </span>
      </fieldset>

      <div className="field">
        <label className="field-label" htmlFor="settings-keep-alive">
          {t('settings.keepAlive')}
        </label>
        <select
          id="settings-keep-alive"
          value={settings.modelKeepAliveMinutes}
          disabled={busy}
          onChange={(e) =>
            void apply(() => client.invoke('settings.update', { modelKeepAliveMinutes: Number(e.target.value) }))
          }
        >
          {[...new Set([...KEEP_ALIVE_MINUTES, settings.modelKeepAliveMinutes])]
            .sort((a, b) => a - b)
            .map((minutes) => (
              <option key={minutes} value={minutes}>
                {minutes === 0 ? t('settings.keepAliveNone') : t('settings.keepAliveMinutes', { minutes })}
              </option>
            ))}
        </select>
        <span className="field-hint">{t('settings.keepAliveHint')}</span>
      </div>

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
      setError(t('settings.threadsRange', { max: settings.cpuThreads }));
      return;
    }
    setError(null);
    void onSave(n);
  }
  return (
    <form className="settings-inline" onSubmit={submit} aria-label={t('settings.threadsForm')}>
      <TextField
        label={t('settings.threads')}
        inputMode="numeric"
        placeholder={t('settings.threadsAll', { max: settings.cpuThreads })}
        value={text}
        onChange={(e) => setText(e.target.value)}
        error={error}
        hint={t('settings.threadsHint', { now: settings.threads, max: settings.cpuThreads })}
      />
      <Button type="submit" busy={busy}>
        {t('settings.saveThreads')}
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
  const hub = settings.hubToken;
  const where =
    hub.storage === 'keychain' ? t('settings.tokenKeychain') : t('settings.tokenFile', { file: hub.file ?? null });
  const status =
    hub.source === 'env'
      ? t('settings.tokenEnv', { stored: hub.stored })
      : hub.stored
        ? t('settings.tokenStored', { where })
        : t('settings.noToken');
  function submit(e: FormEvent) {
    e.preventDefault();
    void onSave(token.trim()).then((saved) => saved && setToken(''));
  }
  return (
    <form className="settings-inline" onSubmit={submit} aria-label={t('settings.token')}>
      <TextField
        label={t('settings.token')}
        type="password"
        autoComplete="off"
        placeholder={hub.stored ? t('settings.tokenReplace') : 'hf_…'}
        value={token}
        onChange={(e) => setToken(e.target.value)}
        hint={t('settings.tokenHint', { status })}
      />
      <div className="row-actions">
        <Button type="submit" busy={busy} disabled={!token.trim()}>
          {t('settings.saveToken')}
        </Button>
        {hub.stored ? (
          <Button type="button" variant="ghost" disabled={busy} onClick={() => void onClear()}>
            {t('settings.removeToken')}
          </Button>
        ) : null}
      </div>
    </form>
  );
}
