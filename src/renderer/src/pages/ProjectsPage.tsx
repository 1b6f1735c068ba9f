import { useState, type KeyboardEvent } from 'react';
import type { Project } from '../../../common/api/projects.ts';
import { toStudioApiError } from '../api/client.ts';
import { UnreadableRecords } from './UnreadableRecords.tsx';
import {
  Banner,
  Button,
  Card,
  Dialog,
  EmptyState,
  PageHeader,
  Spinner,
  Table,
  TextField,
  type Column,
} from '../components/index.ts';
import { formatDateTime } from '../format.ts';
import { useProjects } from '../state/projects.tsx';
import { projectDescriptionError, projectNameError } from '../validation.ts';
import { t } from '../i18n/t.ts';

export function ProjectsPage() {
  const { state, reload, currentProject, setCurrentProjectId } = useProjects();
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Project | null>(null);
  const [renamingId, setRenamingId] = useState<string | null>(null);

  const projects = state.status === 'ready' ? state.projects : [];

  const columns: Column<Project>[] = [
    {
      key: 'name',
      header: t('projects.name'),
      render: (project) =>
        renamingId === project.id ? (
          <RenameForm project={project} projects={projects} onDone={() => setRenamingId(null)} />
        ) : (
          <div className="project-cell">
            <span className="row">
              <span className="project-name">{project.name}</span>
              {currentProject?.id === project.id ? (
                <span className="badge badge-accent">{t('projects.current')}</span>
              ) : null}
            </span>
            {project.description ? <span className="project-description">{project.description}</span> : null}
          </div>
        ),
    },
    {
      key: 'created',
      header: t('projects.created'),
      className: 'cell-nowrap muted',
      width: '190px',
      render: (project) => formatDateTime(project.createdAt),
    },
    {
      key: 'updated',
      header: t('projects.lastChanged'),
      className: 'cell-nowrap muted',
      width: '190px',
      render: (project) => formatDateTime(project.updatedAt),
    },
    {
      key: 'actions',
      header: <span className="visually-hidden">{t('common.actions')}</span>,
      className: 'cell-actions',
      width: '220px',
      render: (project) => (
        <span className="row-actions">
          {currentProject?.id !== project.id ? (
            <Button
              size="sm"
              variant="ghost"
              onClick={() => setCurrentProjectId(project.id)}
              aria-label={t('projects.makeCurrentLabel', { name: project.name })}
            >
              {t('projects.makeCurrent')}
            </Button>
          ) : null}
          <Button
            size="sm"
            variant="ghost"
            icon="pencil"
            onClick={() => setRenamingId(project.id)}
            aria-label={t('projects.renameLabel', { name: project.name })}
            title={t('projects.rename')}
            disabled={renamingId === project.id}
          />
          <Button
            size="sm"
            variant="ghost"
            icon="trash"
            className="btn-danger-ghost"
            onClick={() => setDeleting(project)}
            aria-label={t('projects.deleteLabel', { name: project.name })}
            title={t('projects.delete')}
          />
        </span>
      ),
    },
  ];

  return (
    <>
      <PageHeader
        title={t('nav.projects')}
        description={t('projects.description')}
        actions={
          state.status === 'ready' && projects.length > 0 ? (
            <Button variant="primary" icon="plus" onClick={() => setCreating(true)}>
              {t('projects.new')}
            </Button>
          ) : null
        }
      />
      <UnreadableRecords />

      {state.status === 'loading' ? (
        <Card>
          <Spinner label={t('gate.loadingProjects')} />
        </Card>
      ) : state.status === 'error' ? (
        <Banner
          title={t('gate.projectsFailed')}
          actions={
            <Button size="sm" onClick={() => void reload()}>
              {t('common.tryAgain')}
            </Button>
          }
        >
          {state.error.message}
        </Banner>
      ) : projects.length === 0 ? (
        <Card>
          <EmptyState
            icon="folder"
            title={t('projects.none')}
            actions={
              <Button variant="primary" icon="plus" onClick={() => setCreating(true)}>
                {t('projects.create')}
              </Button>
            }
          >
            {t('projects.noneBody')}
          </EmptyState>
        </Card>
      ) : (
        <Card flush>
          <Table caption={t('nav.projects')} columns={columns} rows={projects} rowKey={(project) => project.id} />
        </Card>
      )}

      <CreateProjectDialog open={creating} projects={projects} onClose={() => setCreating(false)} />
      <DeleteProjectDialog project={deleting} onClose={() => setDeleting(null)} />
    </>
  );
}

function CreateProjectDialog({ open, projects, onClose }: { open: boolean; projects: Project[]; onClose: () => void }) {
  const { create } = useProjects();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [nameError, setNameError] = useState<string | null>(null);
  const [descriptionError, setDescriptionError] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const close = () => {
    setName('');
    setDescription('');
    setNameError(null);
    setDescriptionError(null);
    setFailure(null);
    onClose();
  };

  const submit = async () => {
    const nameProblem = projectNameError(name, projects);
    const descriptionProblem = projectDescriptionError(description);
    setNameError(nameProblem);
    setDescriptionError(descriptionProblem);
    setFailure(null);
    if (nameProblem || descriptionProblem) return;
    setBusy(true);
    try {
      await create(name, description);
      close();
    } catch (error) {
      const apiError = toStudioApiError(error);
      // A name clash found by the core belongs next to the name; anything else above the buttons.
      if (apiError.code === 'conflict' || apiError.code === 'invalid_input') setNameError(apiError.message);
      else setFailure(apiError.message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      open={open}
      title={t('projects.new')}
      busy={busy}
      onClose={close}
      onSubmit={() => void submit()}
      actions={
        <>
          <Button variant="ghost" onClick={close} disabled={busy}>
            {t('common.cancel')}
          </Button>
          <Button variant="primary" type="submit" busy={busy}>
            {t('projects.createButton')}
          </Button>
        </>
      }
    >
      <TextField
        label={t('projects.name')}
        hint={t('projects.nameHint')}
        value={name}
        autoFocus
        maxLength={200}
        error={nameError}
        onChange={(event) => {
          setName(event.target.value);
          if (nameError) setNameError(null);
        }}
      />
      <TextField
        label={t('projects.descriptionLabel')}
        hint={t('projects.descriptionHint')}
        value={description}
        error={descriptionError}
        onChange={(event) => {
          setDescription(event.target.value);
          if (descriptionError) setDescriptionError(null);
        }}
      />
      {failure ? <Banner title={t('projects.notCreated')}>{failure}</Banner> : null}
    </Dialog>
  );
}

function RenameForm({ project, projects, onDone }: { project: Project; projects: Project[]; onDone: () => void }) {
  const { rename } = useProjects();
  const [name, setName] = useState(project.name);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const save = async () => {
    if (name.trim() === project.name) return onDone();
    const problem = projectNameError(name, projects, project.id);
    setError(problem);
    if (problem) return;
    setBusy(true);
    try {
      await rename(project.id, name);
      onDone();
    } catch (failure) {
      setError(toStudioApiError(failure).message);
      setBusy(false);
    }
  };

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      onDone();
    }
  };

  return (
    <form
      className="rename-form"
      onSubmit={(event) => {
        event.preventDefault();
        void save();
      }}
      onKeyDown={onKeyDown}
      noValidate
    >
      <TextField
        label={t('projects.newName', { name: project.name })}
        hideLabel
        size="sm"
        value={name}
        autoFocus
        onFocus={(event) => event.currentTarget.select()}
        maxLength={200}
        error={error}
        disabled={busy}
        onChange={(event) => {
          setName(event.target.value);
          if (error) setError(null);
        }}
      />
      <Button size="sm" variant="primary" type="submit" busy={busy}>
        {t('common.save')}
      </Button>
      <Button size="sm" variant="ghost" onClick={onDone} disabled={busy}>
        {t('common.cancel')}
      </Button>
    </form>
  );
}

function DeleteProjectDialog({ project, onClose }: { project: Project | null; onClose: () => void }) {
  const { remove } = useProjects();
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const close = () => {
    setFailure(null);
    onClose();
  };

  const confirm = async () => {
    if (!project) return;
    setBusy(true);
    setFailure(null);
    try {
      await remove(project.id);
      close();
    } catch (error) {
      setFailure(toStudioApiError(error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      open={project !== null}
      title={t('projects.deleteTitle')}
      busy={busy}
      onClose={close}
      onSubmit={() => void confirm()}
      actions={
        <>
          <Button variant="secondary" onClick={close} disabled={busy} autoFocus>
            {t('common.cancel')}
          </Button>
          <Button variant="danger" type="submit" busy={busy}>
            {t('projects.deleteButton')}
          </Button>
        </>
      }
    >
      <p>
        <strong className="project-name">{project?.name}</strong> {t('projects.deleteBody')}
      </p>
      {failure ? <Banner title={t('projects.notDeleted')}>{failure}</Banner> : null}
    </Dialog>
  );
}
