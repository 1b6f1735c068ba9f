// The renderer's entry, the same in Electron and in a browser opened from `lora-studio serve`.
import './zod-setup.ts';
import './styles/tokens.css';
import './styles/base.css';
import './styles/components.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { connectStudio, toStudioApiError, type StudioConnection } from './api/client.ts';
import { Banner } from './components/index.ts';
import { ProjectsProvider } from './state/projects.tsx';
import { StudioProvider } from './state/studio.tsx';
import { applyStoredTheme, ThemeProvider } from './state/theme.tsx';
import { applyStoredLocale, LocaleProvider } from './state/locale.tsx';
import { t } from './i18n/t.ts';

applyStoredTheme();
applyStoredLocale();

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root element');
const root = createRoot(container);

let client: StudioConnection | null = null;
let startupError: string | null = null;
try {
  client = connectStudio();
} catch (error) {
  startupError = toStudioApiError(error).message;
}

root.render(
  <StrictMode>
    {client ? (
      <ThemeProvider>
        <StudioProvider client={client}>
          <ProjectsProvider>
            <LocaleProvider>
              <App />
            </LocaleProvider>
          </ProjectsProvider>
        </StudioProvider>
      </ThemeProvider>
    ) : (
      <div className="page startup-error">
        <h1 className="page-title">{t('app.notConnected')}</h1>
        <Banner title={t('app.couldNotStart')}>{startupError}</Banner>
      </div>
    )}
  </StrictMode>,
);
