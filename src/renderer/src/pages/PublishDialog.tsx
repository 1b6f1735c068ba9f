// Publish… : push an adapter or an export to the Hugging Face Hub with a model card (the `hub.push` job).
// The dialog checks the repo name as the contract does, says up front when no token is set or offline mode is
// on, follows the job's progress with a Cancel, and after a failure or cancel offers to push again, which
// resumes: what already reached the Hub is not sent twice.
import { useRef, useState } from 'react';
import { HubRepoName } from '../../../common/api/hub.ts';
import type { Job } from '../../../common/api/jobs.ts';
import { toStudioApiError } from '../api/client.ts';
import { useEvent, useQuery } from '../api/hooks.ts';
import { Banner, Button, Dialog, ProgressBar, TextField } from '../components/index.ts';
import { routeHref } from '../routes.ts';
import { useStudio } from '../state/studio.tsx';
import { useJobEnd } from './useJobEnd.ts';
import { t } from '../i18n/t.ts';
import { sayPhrase } from '../i18n/phrase.ts';

export type PublishTarget = { adapterId: string } | { exportId: string };

/** A repo name suggestion from a name: what the Hub accepts (letters, digits, . _ -). */
export function suggestRepoName(name: string): string {
  return (
    name
      .trim()
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[-.]+|[-.]+$/g, '')
      .slice(0, 96) || 'my-model'
  );
}

export function PublishDialog({
  target,
  title,
  suggestedName,
  onClose,
}: {
  target: PublishTarget;
  /** The dialog's title (publish.titleAdapter / publish.titleExport). */
  title: string;
  suggestedName: string;
  onClose: () => void;
}) {
  const client = useStudio();
  const settings = useQuery('settings.get', {});
  const [repo, setRepo] = useState(`your-name/${suggestRepoName(suggestedName)}`);
  const [isPrivate, setPrivate] = useState(true);
  const [revision, setRevision] = useState('main');
  const [message, setMessage] = useState('');
  const [replace, setReplace] = useState(false);
  const [repoError, setRepoError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const [job, setJob] = useState<Job | null>(null);
  const [progress, setProgress] = useState<{ value: number | null; message: string | null }>({
    value: null,
    message: null,
  });
  const [ended, setEnded] = useState<Job | null>(null);
  const [outcome, setOutcome] = useState<{ published: string; ollama: string | null } | null>(null);

  // The push's last progress phrase says where the files are now (files committed, bytes sent): kept for the
  // outcome banner, in the UI's language like every progress line.
  const published = useRef<string | null>(null);
  useEvent('job.progress', (event) => {
    if (!job || event.jobId !== job.id) return;
    const said = event.message === null ? null : sayPhrase(event.phrase, event.message);
    setProgress({ value: event.progress, message: said });
    if (said !== null && (event.phrase?.code === 'progress.pushCommitted' || event.phrase?.code === 'progress.pushUnchanged')) published.current = said;
  });
  useJobEnd(job?.id ?? null, (finished) => {
    setEnded(finished);
    if (finished.status === 'succeeded') {
      // The job logs where the files went (and, for a GGUF on huggingface.co, the Ollama command).
      void client
        .invoke('jobs.logTail', { id: finished.id, lines: 20 })
        .then((lines) =>
          setOutcome({
            published:
              published.current ?? lines.map((l) => l.line).find((l) => l.startsWith('Published to ')) ?? t('publish.publishedTo', { repo }),
            ollama: lines.map((l) => /ollama run \S+/.exec(l.line)?.[0]).find(Boolean) ?? null,
          }),
        )
        .catch(() => setOutcome({ published: published.current ?? t('publish.publishedTo', { repo }), ollama: null }));
    }
  });

  const running = job !== null && ended === null;
  const token = settings.state.status === 'ready' ? settings.state.data.hubToken : null;
  const offline =
    settings.state.status === 'ready' && (settings.state.data.offline || settings.state.data.offlineFromEnv);

  async function start() {
    const checked = HubRepoName.safeParse(repo);
    if (!checked.success) {
      setRepoError(checked.error.issues[0]?.message ?? t('publish.badRepo'));
      return;
    }
    setRepoError(null);
    setError(null);
    setEnded(null);
    setOutcome(null);
    published.current = null;
    setProgress({ value: null, message: null });
    setStarting(true);
    try {
      const started = await client.invoke('hub.push', {
        ...target,
        repo: checked.data,
        private: isPrivate,
        revision: revision.trim() || 'main',
        ...(message.trim() ? { message: message.trim() } : {}),
        replace,
      });
      setJob(started);
    } catch (err) {
      setError(toStudioApiError(err).message);
    } finally {
      setStarting(false);
    }
  }

  return (
    <Dialog
      open
      title={title}
      onClose={onClose}
      onSubmit={() => void start()}
      busy={starting || running}
      actions={
        running ? (
          <Button
            variant="danger"
            onClick={() =>
              void client
                .invoke('jobs.cancel', { id: job.id })
                .catch((err: unknown) => setError(toStudioApiError(err).message))
            }
          >
            {t('publish.cancelPush')}
          </Button>
        ) : (
          <>
            <Button onClick={onClose}>{ended?.status === 'succeeded' ? t('common.close') : t('common.cancel')}</Button>
            {ended?.status === 'succeeded' ? null : (
              <Button type="submit" variant="primary" busy={starting}>
                {ended ? t('publish.pushAgain') : t('publish.publish')}
              </Button>
            )}
          </>
        )
      }
    >
      <div className="form-grid">
        {/* Once a push ran, its outcome takes the intro's place (the dialog stays within 800 px). */}
        {job === null ? <p className="muted">{t('publish.intro')}</p> : null}
        {token && !token.set ? (
          // A warning, not a block: the worker also finds a token saved by huggingface-cli login.
          <Banner
            title={t('publish.noTokenTitle')}
            actions={
              <a className="btn btn-secondary btn-sm" href={routeHref('settings')}>
                {t('publish.goToSettings')}
              </a>
            }
          >
            {t('publish.noTokenBody')}
          </Banner>
        ) : null}
        {offline ? <Banner title={t('publish.offlineTitle')}>{t('publish.offlineBody')}</Banner> : null}
        {error ? <Banner title={t('publish.notStarted')}>{error}</Banner> : null}
        {ended && ended.status !== 'succeeded' ? (
          <Banner title={ended.status === 'cancelled' ? t('publish.cancelledTitle') : t('publish.failedTitle')}>
            {ended.status === 'cancelled' ? t('publish.cancelledBody') : (ended.error ?? t('publish.failedFallback'))}
          </Banner>
        ) : null}
        {outcome ? (
          <Banner tone="info" title={t('publish.publishedTitle')}>
            <span data-testid="publish-result">{outcome.published}</span>
            {outcome.ollama ? (
              <>
                {' · '}
                <code>{outcome.ollama}</code>
              </>
            ) : null}
          </Banner>
        ) : null}
        {ended?.status === 'succeeded' ? null : (
          <>
            <TextField
              label={t('publish.repoLabel')}
              hint={t('publish.repoHint')}
              value={repo}
              onChange={(e) => setRepo(e.target.value)}
              error={repoError}
              disabled={running}
              autoComplete="off"
              spellCheck={false}
            />
            <label className="checkbox-line">
              <input
                type="checkbox"
                checked={isPrivate}
                disabled={running}
                onChange={(e) => setPrivate(e.target.checked)}
              />
              {t('publish.private')}
            </label>
            <TextField
              label={t('publish.branchLabel')}
              value={revision}
              onChange={(e) => setRevision(e.target.value)}
              disabled={running}
              hint={t('publish.branchHint')}
            />
            <TextField
              label={t('publish.messageLabel')}
              value={message}
              onChange={(e) => setMessage(e.target.value)}
              disabled={running}
            />
            <label className="checkbox-line">
              <input
                type="checkbox"
                checked={replace}
                disabled={running}
                onChange={(e) => setReplace(e.target.checked)}
              />
              {t('publish.replace')}
            </label>
          </>
        )}
        {running ? (
          <div className="export-status" aria-live="polite">
            <ProgressBar value={progress.value} label={t('publish.progressLabel', { repo })} />
            <span className="run-progress-text">{progress.message ?? t('publish.starting')}</span>
          </div>
        ) : null}
      </div>
    </Dialog>
  );
}
