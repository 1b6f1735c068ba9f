import { useState, type KeyboardEvent } from 'react';
import type { Project } from '../../../common/api/projects.ts';
import { toStudioApiError } from '../api/client.ts';
import { UnreadableRecords } from './UnreadableRecords.tsx';
import { Banner, Button, Card, Dialog, EmptyState, PageHeader, Spinner, Table, TextField, type Column } from '../components/index.ts';
import { formatDateTime } from '../format.ts';
import { useProjects } from '../state/projects.tsx';
import { projectDescriptionError, projectNameError } from '../validation.ts';

export function ProjectsPage() {
  const { state, reload, currentProject, setCurrentProjectId } = useProjects();
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Project | null>(null);
  const [renamingId, setRenamingId] = useState<string | null>(null);

  const projects = state.status === 'ready' ? state.projects : [];

  const columns: Column<Project>[] = [
    {
      key: 'name',
      header: 'Name',
      render: (project) =>
        renamingId === project.id ? (
          <RenameForm project={project} projects={projects} onDone={() => setRenamingId(null)} />
        ) : (
          <div className="project-cell">
            <span className="row">
              <span className="project-name">{project.name}</span>
              {currentProject?.id === project.id ? <span className="badge badge-accent">Current</span> : null}
            </span>
            {project.description ? <span className="project-description">{project.description}</span> : null}
          </div>
        ),
    },
    { key: 'created', header: 'Created', className: 'cell-nowrap muted', width: '190px', render: (project) => formatDateTime(project.createdAt) },
    { key: 'updated', header: 'Last changed', className: 'cell-nowrap muted', width: '190px', render: (project) => formatDateTime(project.updatedAt) },
    {
      key: 'actions',
      header: <span className="visually-hidden">Actions</span>,
      className: 'cell-actions',
      width: '220px',
      render: (project) => (
        <span className="row-actions">
          {currentProject?.id !== project.id ? (
            <Button size="sm" variant="ghost" onClick={() => setCurrentProjectId(project.id)} aria-label={`Make ${project.name} the current project`}>
              Make current
            </Button>
          ) : null}
          <Button
            size="sm"
            variant="ghost"
            icon="pencil"
            onClick={() => setRenamingId(project.id)}
            aria-label={`Rename ${project.name}`}
            title="Rename"
            disabled={renamingId === project.id}
          />
          <Button size="sm" variant="ghost" icon="trash" className="btn-danger-ghost" onClick={() => setDeleting(project)} aria-label={`Delete ${project.name}`} title="Delete" />
        </span>
      ),
    },
  ];

  return (
    <>
      <PageHeader
        title="Projects"
        description="A project keeps one fine-tuning effort together: its base model, datasets, runs, adapters and exports."
        actions={
          state.status === 'ready' && projects.length > 0 ? (
            <Button variant="primary" icon="plus" onClick={() => setCreating(true)}>
              New project
            </Button>
          ) : null
        }
      />
      <UnreadableRecords />

      {state.status === 'loading' ? (
        <Card>
          <Spinner label="Loading projects…" />
        </Card>
      ) : state.status === 'error' ? (
        <Banner
          title="Could not load the projects"
          actions={
            <Button size="sm" onClick={() => void reload()}>
              Try again
            </Button>
          }
        >
          {state.error.message}
        </Banner>
      ) : projects.length === 0 ? (
        <Card>
          <EmptyState
            icon="folder"
            title="No projects yet"
            actions={
              <Button variant="primary" icon="plus" onClick={() => setCreating(true)}>
                Create a project
              </Button>
            }
          >
            Everything in the studio belongs to a project. Create one to start: you then pick a base model and a dataset for your first
            fine-tune.
          </EmptyState>
        </Card>
      ) : (
        <Card flush>
          <Table caption="Projects" columns={columns} rows={projects} rowKey={(project) => project.id} />
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
      title="New project"
      busy={busy}
      onClose={close}
      onSubmit={() => void submit()}
      actions={
        <>
          <Button variant="ghost" onClick={close} disabled={busy}>
            Cancel
          </Button>
          <Button variant="primary" type="submit" busy={busy}>
            Create project
          </Button>
        </>
      }
    >
      <TextField
        label="Name"
        hint="Unique among your projects; you can rename it later."
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
        label="Description"
        hint="Optional: what this fine-tune is for."
        value={description}
        error={descriptionError}
        onChange={(event) => {
          setDescription(event.target.value);
          if (descriptionError) setDescriptionError(null);
        }}
      />
      {failure ? <Banner title="The project was not created">{failure}</Banner> : null}
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
        label={`New name for ${project.name}`}
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
        Save
      </Button>
      <Button size="sm" variant="ghost" onClick={onDone} disabled={busy}>
        Cancel
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
      title="Delete this project?"
      busy={busy}
      onClose={close}
      onSubmit={() => void confirm()}
      actions={
        <>
          <Button variant="secondary" onClick={close} disabled={busy} autoFocus>
            Cancel
          </Button>
          <Button variant="danger" type="submit" busy={busy}>
            Delete project
          </Button>
        </>
      }
    >
      <p>
        <strong className="project-name">{project?.name}</strong> and everything recorded under it (datasets, runs, adapters, evaluations and
        exports) will be removed from this machine. This cannot be undone.
      </p>
      {failure ? <Banner title="The project was not deleted">{failure}</Banner> : null}
    </Dialog>
  );
}
