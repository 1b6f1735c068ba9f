// "Browse…" beside a path field: the system picker through dialogs.pick, which only the desktop app answers.
// In a browser (serve) the page cannot see the user's disk, so the button is not shown and the typed path is
// the way in.
import { useState } from 'react';
import { toStudioApiError } from '../../api/client.ts';
import { Button } from '../../components/index.ts';
import { useStudio } from '../../state/studio.tsx';
import { t } from '../../i18n/t.ts';

export function BrowseButton({ kind, title, extensions, onPick, onError }: { kind: 'folder' | 'file'; title: string; extensions?: string[]; onPick: (path: string) => void; onError: (message: string) => void }) {
  const client = useStudio();
  const [busy, setBusy] = useState(false);
  if (typeof window === 'undefined' || window.studio === undefined) return null;
  const pick = async () => {
    setBusy(true);
    try {
      const { path } = await client.invoke('dialogs.pick', { kind, title, ...(extensions ? { extensions } : {}) });
      if (path !== null) onPick(path);
    } catch (e) {
      onError(toStudioApiError(e).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Button busy={busy} onClick={() => void pick()}>
      {t('common.browse')}
    </Button>
  );
}
