// Publish… : push an adapter or an export to the Hugging Face Hub with a model card (the `hub.push` job).
// The dialog checks the repo name as the contract does, says up front when no token is set or offline mode is
// on, follows the job's progress with a Cancel, and after a failure or cancel offers to push again, which
// resumes: what already reached the Hub is not sent twice.
import { useState } from 'react';
import { HubRepoName } from '../../../common/api/hub.ts';
import type { Job } from '../../../common/api/jobs.ts';
import { toStudioApiError } from '../api/client.ts';
import { useEvent, useQuery } from '../api/hooks.ts';
import { Banner, Button, Dialog, ProgressBar, TextField } from '../components/index.ts';
import { routeHref } from '../routes.ts';
import { useStudio } from '../state/studio.tsx';
import { useJobEnd } from './useJobEnd.ts';

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
  what,
  suggestedName,
  onClose,
}: {
  target: PublishTarget;
  /** "the adapter “x”", "the GGUF export" — for the title and messages. */
  what: string;
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

  useEvent('job.progress', (event) => {
    if (job && event.jobId === job.id) setProgress({ value: event.progress, message: event.message });
  });
  useJobEnd(job?.id ?? null, (finished) => {
    setEnded(finished);
    if (finished.status === 'succeeded') {
      // The job logs where the files went (and, for a GGUF on huggingface.co, the Ollama command).
      void client
        .invoke('jobs.logTail', { id: finished.id, lines: 20 })
        .then((lines) =>
          setOutcome({
            published: lines.map((l) => l.line).find((l) => l.startsWith('Published to ')) ?? `Published to ${repo}`,
            ollama: lines.map((l) => /ollama run \S+/.exec(l.line)?.[0]).find(Boolean) ?? null,
          }),
        )
        .catch(() => setOutcome({ published: `Published to ${repo}`, ollama: null }));
    }
  });

  const running = job !== null && ended === null;
  const token = settings.state.status === 'ready' ? settings.state.data.hubToken : null;
  const offline =
    settings.state.status === 'ready' && (settings.state.data.offline || settings.state.data.offlineFromEnv);

  async function start() {
    const checked = HubRepoName.safeParse(repo);
    if (!checked.success) {
      setRepoError(checked.error.issues[0]?.message ?? 'not a Hub repo name');
      return;
    }
    setRepoError(null);
    setError(null);
    setEnded(null);
    setOutcome(null);
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
      title={`Publish ${what} to the Hugging Face Hub`}
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
            Cancel push
          </Button>
        ) : (
          <>
            <Button onClick={onClose}>{ended?.status === 'succeeded' ? 'Close' : 'Cancel'}</Button>
            {ended?.status === 'succeeded' ? null : (
              <Button type="submit" variant="primary" busy={starting}>
                {ended ? 'Push again (resumes)' : 'Publish'}
              </Button>
            )}
          </>
        )
      }
    >
      <div className="form-grid">
        <p className="muted">
          Uploads the files with a model card written from what the studio recorded (settings, dataset, loss curve,
          evaluation); a GGUF is named by its quantization for Ollama and LM Studio.
        </p>
        {token && !token.set ? (
          // A warning, not a block: the worker also finds a token saved by huggingface-cli login.
          <Banner
            title="No Hugging Face token"
            actions={
              <a className="btn btn-secondary btn-sm" href={routeHref('settings')}>
                Go to Settings
              </a>
            }
          >
            Publishing needs one with write access: add it in Settings or set HF_TOKEN (a{' '}
            <code>huggingface-cli login</code> token also works).
          </Banner>
        ) : null}
        {offline ? (
          <Banner title="Offline mode is on">Nothing can be pushed until it is turned off in Settings.</Banner>
        ) : null}
        {error ? <Banner title="Not started">{error}</Banner> : null}
        {ended && ended.status !== 'succeeded' ? (
          <Banner title={ended.status === 'cancelled' ? 'Push cancelled' : 'Push failed'}>
            {ended.status === 'cancelled'
              ? 'Push again to resume: what already reached the Hub is not sent twice.'
              : (ended.error ?? 'The push failed.')}
          </Banner>
        ) : null}
        {outcome ? (
          <Banner tone="info" title="Published">
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
              label="Hub repo"
              hint="user/name or organisation/name; created if it does not exist"
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
              Private repo (only when it is created; an existing repo keeps its visibility)
            </label>
            <TextField
              label="Branch"
              value={revision}
              onChange={(e) => setRevision(e.target.value)}
              disabled={running}
              hint="created from main when missing"
            />
            <TextField
              label="Commit message (optional)"
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
              Push into it anyway if the repo already holds other files (files of the same name are replaced; nothing is
              deleted)
            </label>
          </>
        )}
        {running ? (
          <div className="export-status" aria-live="polite">
            <ProgressBar value={progress.value} label={`Progress of the push to ${repo}`} />
            <span className="run-progress-text">{progress.message ?? 'Starting…'}</span>
          </div>
        ) : null}
      </div>
    </Dialog>
  );
}
