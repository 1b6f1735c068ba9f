// The run config editor (#/new/config): every field of RunConfig as a form with the contract's explanations,
// and the same config as JSON beside it; an edit on either side shows on the other at once, and both are
// checked by the contract's schema with each problem at its field. Presets are saved in this browser; a past
// run's config can be duplicated; the config can start a run.
import { useMemo, useState } from 'react';
import type { Project } from '../../../common/api/projects.ts';
import { toStudioApiError } from '../api/client.ts';
import { useQuery } from '../api/hooks.ts';
import { Banner, Button, Card, TextField } from '../components/index.ts';
import { routeHref } from '../routes.ts';
import { useStudio } from '../state/studio.tsx';
import {
  applyPreset, defaultConfig, displayValue, fieldHint, getAt, issuesByField, loadPresets, parseTyped, presetOf, PRESETS_KEY, SECTIONS, setAt, withDefaults,
  type ConfigValue, type FieldSpec,
} from './ConfigEditorModel.ts';
import './wizard/wizard.css';
import { t } from '../i18n/t.ts';

/** The wizard leaves its config here for the editor to start from. */
export const CONFIG_EDITOR_KEY_PREFIX = 'lora-studio.config-editor.';

interface EditorState {
  value: ConfigValue;
  text: string;
  jsonError: string | null;
}

function fromValue(value: ConfigValue): EditorState {
  return { value, text: JSON.stringify(value, null, 2), jsonError: null };
}

function initialValue(projectId: string): ConfigValue {
  try {
    const raw = window.localStorage.getItem(CONFIG_EDITOR_KEY_PREFIX + projectId);
    if (raw) return withDefaults(JSON.parse(raw) as ConfigValue);
  } catch {
    // an unreadable hand-over starts from the defaults
  }
  return defaultConfig();
}

export function ConfigEditor({ project }: { project: Project }) {
  const client = useStudio();
  const [state, setState] = useState<EditorState>(() => fromValue(initialValue(project.id)));
  const [presets, setPresets] = useState(() => loadPresets(window.localStorage));
  const [presetName, setPresetName] = useState('');
  const [notice, setNotice] = useState<string | null>(null);
  const [startError, setStartError] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const runs = useQuery('runs.list', { projectId: project.id });
  const issues = useMemo(() => issuesByField(state.value), [state.value]);

  const setValue = (value: ConfigValue) => {
    setState(fromValue(value));
    window.localStorage.setItem(CONFIG_EDITOR_KEY_PREFIX + project.id, JSON.stringify(value));
  };
  const editJson = (text: string) => {
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('the config must be a JSON object ({ … })');
      setState({ value: parsed as ConfigValue, text, jsonError: null });
      window.localStorage.setItem(CONFIG_EDITOR_KEY_PREFIX + project.id, text);
    } catch (e) {
      // Keep the text as typed; the form keeps the last valid JSON until this parses again.
      setState((s) => ({ ...s, text, jsonError: t('editor.notJson', { reason: (e as Error).message }) }));
    }
  };

  const savePreset = () => {
    const name = presetName.trim();
    if (!name) return;
    const next = { ...presets, [name]: presetOf(state.value) };
    window.localStorage.setItem(PRESETS_KEY, JSON.stringify(next));
    setPresets(next);
    setPresetName('');
    setNotice(t('editor.savedPreset', { name }));
  };
  const start = async () => {
    if (!issues.config) return;
    setStarting(true);
    setStartError(null);
    try {
      const run = await client.invoke('runs.start', { projectId: project.id, config: issues.config });
      window.location.hash = routeHref('runs', run.id);
    } catch (e) {
      setStartError(toStudioApiError(e).message);
      setStarting(false);
    }
  };

  const problemCount = Object.keys(issues.byField).length + issues.other.length + (state.jsonError ? 1 : 0);
  return (
    <div className="stack">
      <Card title={t('editor.startFrom')}>
        <div className="field-row">
          <div className="field select-field">
            <label className="field-label" htmlFor="config-from-run">
              {t('editor.duplicate')}
            </label>
            <select
              id="config-from-run"
              value=""
              onChange={(e) => {
                const run = runs.state.status === 'ready' ? runs.state.data.find((r) => r.id === e.target.value) : undefined;
                if (run) {
                  setValue(run.config as unknown as ConfigValue);
                  setNotice(t('editor.loaded', { name: run.name }));
                }
              }}
            >
              <option value="">{runs.state.status === 'ready' ? (runs.state.data.length ? t('editor.chooseRun') : t('editor.noRuns')) : t('compare.loadingRuns')}</option>
              {runs.state.status === 'ready'
                ? runs.state.data.map((r) => (
                    <option key={r.id} value={r.id}>
                      {r.name} ({r.config.method}, r={r.config.lora.r}, lr={r.config.learning_rate})
                    </option>
                  ))
                : null}
            </select>
          </div>
          <div className="field select-field">
            <label className="field-label" htmlFor="config-preset">
              {t('editor.applyPreset')}
            </label>
            <select
              id="config-preset"
              value=""
              onChange={(e) => {
                const preset = presets[e.target.value];
                if (preset) {
                  setValue(withDefaults(applyPreset(state.value, preset)));
                  setNotice(t('editor.applied', { name: e.target.value }));
                }
              }}
            >
              <option value="">{Object.keys(presets).length ? t('editor.choosePreset') : t('editor.noPresets')}</option>
              {Object.keys(presets).map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </div>
          <Button onClick={() => setValue(defaultConfig())}>{t('editor.reset')}</Button>
        </div>
        {notice ? <p className="muted" role="status">{notice}</p> : null}
      </Card>

      <div className="config-editor">
        <form className="config-form" aria-label={t('editor.form')} onSubmit={(e) => e.preventDefault()}>
          {SECTIONS.map((section) => (
            <fieldset key={section.title}>
              <legend>{t(section.title)}</legend>
              {section.fields.map((field) => (
                <ConfigField key={field.path.join('.')} field={field} value={state.value} error={issues.byField[field.path.join('.')]} onChange={(next) => setValue(setAt(state.value, field.path, next))} />
              ))}
            </fieldset>
          ))}
        </form>
        <div className="json-pane">
          <label className="field-label" htmlFor="config-json">
            {t('editor.json')}
          </label>
          <textarea id="config-json" className="textarea" value={state.text} onChange={(e) => editJson(e.target.value)} spellCheck={false} aria-invalid={state.jsonError ? true : undefined} />
          {state.jsonError ? <span className="field-error" role="alert">{state.jsonError}</span> : null}
          {problemCount === 0 ? (
            <p className="muted" role="status">{t('editor.valid')}</p>
          ) : (
            <p className="text-warning" role="status">
              {t('editor.problems', { count: problemCount, other: issues.other.join('; ') })}
            </p>
          )}
          <div className="field-row">
            <TextField label={t('editor.presetName')} size="sm" value={presetName} onChange={(e) => setPresetName(e.target.value)} placeholder={t('editor.presetPlaceholder')} />
            <Button size="sm" disabled={presetName.trim() === ''} onClick={savePreset}>
              {t('editor.saveAsPreset')}
            </Button>
          </div>
          <Button variant="primary" icon="spark" disabled={!issues.config || state.jsonError !== null} busy={starting} onClick={() => void start()}>
            {t('editor.start')}
          </Button>
          {startError ? <Banner title={t('quick.notStarted')}>{startError}</Banner> : null}
        </div>
      </div>
    </div>
  );
}

function ConfigField({ field, value, error, onChange }: { field: FieldSpec; value: ConfigValue; error: string | undefined; onChange: (next: unknown) => void }) {
  const id = `cfg-${field.path.join('-')}`;
  const label = t(field.label);
  const current = getAt(value, field.path);
  const describedBy = `${id}-hint${error ? ` ${id}-error` : ''}`;
  const hint = (
    <>
      <span id={`${id}-hint`} className="field-hint">
        {fieldHint(field)}
      </span>
      {error ? (
        <span id={`${id}-error`} className="field-error" role="alert">
          {error}
        </span>
      ) : null}
    </>
  );
  if (field.kind === 'bool') {
    return (
      <div className="field">
        <label className="check-field">
          <input type="checkbox" id={id} checked={current === true} onChange={(e) => onChange(e.target.checked)} aria-describedby={describedBy} />
          <span className="field-label">{label}</span>
        </label>
        {hint}
      </div>
    );
  }
  if (field.kind === 'enum') {
    return (
      <div className="field select-field">
        <label className="field-label" htmlFor={id}>
          {label}
        </label>
        <select id={id} value={String(current ?? '')} onChange={(e) => onChange(e.target.value)} aria-describedby={describedBy} aria-invalid={error ? true : undefined}>
          {field.options!.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
        {hint}
      </div>
    );
  }
  if (field.kind === 'template') {
    const tpl = (current ?? { kind: 'auto' }) as { kind: string; template?: string };
    return (
      <div className="field field-wide">
        <label className="field-label" htmlFor={id}>
          {label}
        </label>
        <select id={id} value={tpl.kind} onChange={(e) => onChange(e.target.value === 'prompt' || e.target.value === 'chat_template' ? { kind: e.target.value, template: tpl.template ?? '' } : { kind: e.target.value })} aria-describedby={describedBy}>
          {['auto', 'chat', 'chat_template', 'prompt', 'plain'].map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
        {tpl.kind === 'prompt' || tpl.kind === 'chat_template' ? (
          <textarea className="textarea" aria-label={t('editor.templateText', { label })} value={tpl.template ?? ''} onChange={(e) => onChange({ kind: tpl.kind, template: e.target.value })} aria-invalid={error ? true : undefined} spellCheck={false} />
        ) : null}
        {hint}
      </div>
    );
  }
  if (field.kind === 'eval-split') {
    const s = (current ?? { kind: 'ratio', ratio: 0.1 }) as { kind: string; ratio?: unknown; path?: string };
    return (
      <div className="field field-wide">
        <label className="field-label" htmlFor={id}>
          {label}
        </label>
        <div className="field-row">
          <select id={id} value={s.kind} onChange={(e) => onChange(e.target.value === 'ratio' ? { kind: 'ratio', ratio: 0.1 } : e.target.value === 'file' ? { kind: 'file', path: '' } : { kind: 'none' })} aria-describedby={describedBy}>
            {['ratio', 'file', 'none'].map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
          {s.kind === 'ratio' ? (
            <input className="input input-sm" aria-label={t('editor.evalShare')} value={displayValue('number', s.ratio)} onChange={(e) => onChange({ kind: 'ratio', ratio: parseTyped('number', e.target.value) })} aria-invalid={error ? true : undefined} />
          ) : null}
          {s.kind === 'file' ? <input className="input input-sm" aria-label={t('editor.evalFile')} value={s.path ?? ''} onChange={(e) => onChange({ kind: 'file', path: e.target.value })} aria-invalid={error ? true : undefined} /> : null}
        </div>
        {hint}
      </div>
    );
  }
  return (
    <div className={field.kind === 'string' || field.kind === 'targets' ? 'field field-wide' : 'field'}>
      <label className="field-label" htmlFor={id}>
        {label}
      </label>
      <TypedInput id={id} field={field} current={current} onChange={onChange} describedBy={describedBy} invalid={Boolean(error)} />
      {hint}
    </div>
  );
}

/**
 * A text input over a typed value: it keeps the text as typed ("0.", "q_proj, ") while that text still means
 * the current value, and shows the value afresh when it changes from elsewhere (the JSON pane, a preset).
 */
function TypedInput({ id, field, current, onChange, describedBy, invalid }: { id: string; field: FieldSpec; current: unknown; onChange: (next: unknown) => void; describedBy: string; invalid: boolean }) {
  const [text, setText] = useState(() => displayValue(field.kind, current));
  const shown = JSON.stringify(parseTyped(field.kind, text)) === JSON.stringify(current ?? null) || (current === undefined && text === '') ? text : displayValue(field.kind, current);
  return (
    <input
      id={id}
      className="input"
      value={shown}
      onChange={(e) => {
        setText(e.target.value);
        onChange(parseTyped(field.kind, e.target.value));
      }}
      aria-describedby={describedBy}
      aria-invalid={invalid ? true : undefined}
      spellCheck={false}
      inputMode={field.kind === 'string' || field.kind === 'targets' ? 'text' : 'decimal'}
    />
  );
}
