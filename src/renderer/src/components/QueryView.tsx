import type { ReactNode } from 'react';
import type { QueryState } from '../api/hooks.ts';
import { Banner } from './Banner.tsx';
import { Button } from './Button.tsx';
import { Spinner } from './Spinner.tsx';
import { t } from '../i18n/t.ts';

/**
 * Renders a query's three states the same way on every page: a spinner with what is loading, the error's
 * own message with a way to try again, or the data.
 */
export function QueryView<T>({
  state,
  loadingLabel,
  errorTitle,
  onRetry,
  children,
}: {
  state: QueryState<T>;
  loadingLabel: string;
  errorTitle: string;
  onRetry?: () => void;
  children: (data: T) => ReactNode;
}) {
  if (state.status === 'loading') return <Spinner label={loadingLabel} />;
  if (state.status === 'error') {
    return (
      <Banner
        title={errorTitle}
        actions={
          onRetry ? (
            <Button size="sm" onClick={onRetry}>
              {t('common.tryAgain')}
            </Button>
          ) : undefined
        }
      >
        {state.error.message}
      </Banner>
    );
  }
  return <>{children(state.data)}</>;
}
