import { useEffect, useRef, type ReactElement } from 'react';
import { Button, ConnectionIndicator, Icon } from './components/index.ts';
import { ProjectsPage } from './pages/ProjectsPage.tsx';
import { SettingsPage } from './pages/SettingsPage.tsx';
import { EvaluatePage } from './pages/EvaluatePage.tsx';
import { WizardPage } from './pages/wizard/WizardPage.tsx';
import { DatasetsPage } from './pages/DatasetsPage.tsx';
import { ChatPage } from './pages/ChatPage.tsx';
import { AdaptersPage } from './pages/AdaptersPage.tsx';
import { ExportsPage } from './pages/ExportsPage.tsx';
import { ComparePage } from './pages/ComparePage.tsx';
import { RunsPage } from './pages/RunsPage.tsx';
import { TryItPage } from './pages/TryItPage.tsx';
import { parseLocation, routeHref, routeInfo, ROUTES, type RouteId, type RouteInfo } from './routes.ts';
import { useHash } from './state/location.ts';
import { useProjects } from './state/projects.tsx';
import { useConnectionState } from './state/studio.tsx';
import { useTheme } from './state/theme.tsx';
import { toggledPreference } from './theme.ts';
import { t } from './i18n/t.ts';

const PAGES: Record<RouteId, () => ReactElement> = {
  projects: ProjectsPage,
  new: WizardPage,
  datasets: DatasetsPage,
  runs: RunsPage,
  evaluate: EvaluatePage,
  compare: ComparePage,
  chat: ChatPage,
  try: TryItPage,
  adapters: AdaptersPage,
  exports: ExportsPage,
  settings: SettingsPage,
};

const GROUPS: RouteInfo['group'][] = ['Workspace', 'Fine-tune', 'Use'];

export function App() {
  const hash = useHash();
  const { route } = parseLocation(hash);
  const mainRef = useRef<HTMLElement>(null);
  const shownHash = useRef(hash);
  const Page = PAGES[route];

  useEffect(() => {
    document.title = `${t(`nav.${routeInfo(route).id}`)} · ${t('app.name')}`;
    // Moving focus to the new page tells keyboard and screen-reader users that the page changed; the
    // first page of a load keeps the browser's own starting point.
    if (shownHash.current !== hash) {
      shownHash.current = hash;
      mainRef.current?.focus();
    }
  }, [route, hash]);

  return (
    <div className="app">
      <a
        className="skip-link"
        href="#main"
        onClick={(event) => {
          event.preventDefault();
          mainRef.current?.focus();
        }}
      >
        {t('app.skipToContent')}
      </a>
      <aside className="sidebar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            <Icon name="layers" />
          </span>
          {t('app.name')}
        </div>
        <ProjectSwitcher />
        <nav className="nav" aria-label={t('app.navLabel')}>
          {GROUPS.map((group) => (
            <div key={group}>
              <div className="nav-group-label">{t(`nav.group.${group}`)}</div>
              <NavList routes={ROUTES.filter((r) => r.group === group)} current={route} />
            </div>
          ))}
          <div className="nav-bottom">
            <NavList routes={ROUTES.filter((r) => r.group === 'Studio')} current={route} />
          </div>
        </nav>
        <div className="sidebar-footer">
          <ConnectionIndicator state={useConnectionState()} />
          <ThemeToggle />
        </div>
      </aside>
      <main className="main" id="main" ref={mainRef} tabIndex={-1}>
        <div className="page">
          <Page />
        </div>
      </main>
    </div>
  );
}

function NavList({ routes, current }: { routes: readonly RouteInfo[]; current: RouteId }) {
  return (
    <ul className="nav-list">
      {routes.map((r) => (
        <li key={r.id}>
          <a className="nav-link" href={routeHref(r.id)} aria-current={r.id === current ? 'page' : undefined}>
            <Icon name={r.icon} />
            {t(`nav.${r.id}`)}
          </a>
        </li>
      ))}
    </ul>
  );
}

function ProjectSwitcher() {
  const { state, currentProject, setCurrentProjectId } = useProjects();
  if (state.status !== 'ready' || state.projects.length === 0) return null;
  return (
    <div className="project-switcher">
      <label htmlFor="current-project" className="nav-group-label">
        {t('app.currentProject')}
      </label>
      <select
        id="current-project"
        value={currentProject?.id ?? ''}
        onChange={(event) => setCurrentProjectId(event.target.value)}
      >
        {state.projects.map((project) => (
          <option key={project.id} value={project.id}>
            {project.name}
          </option>
        ))}
      </select>
    </div>
  );
}

function ThemeToggle() {
  const { effective, setPreference } = useTheme();
  const next = effective === 'dark' ? 'light' : 'dark';
  return (
    <Button
      variant="ghost"
      size="sm"
      icon={effective === 'dark' ? 'sun' : 'moon'}
      aria-label={t('app.themeSwitch', { theme: next })}
      title={t('app.themeSwitch', { theme: next })}
      onClick={() => setPreference(toggledPreference(effective))}
    />
  );
}
