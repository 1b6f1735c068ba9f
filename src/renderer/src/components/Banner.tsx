import type { ReactNode } from 'react';
import { Icon } from './Icon.tsx';

/** An inline message: `error` for a failed action (role=alert), `info` for context. */
export function Banner({ tone = 'error', title, children, actions }: { tone?: 'error' | 'info'; title?: string; children?: ReactNode; actions?: ReactNode }) {
  return (
    <div className={`banner banner-${tone}`} role={tone === 'error' ? 'alert' : 'status'}>
      <Icon name={tone === 'error' ? 'alert' : 'spark'} />
      <div className="banner-body">
        {title ? <div className="banner-title">{title}</div> : null}
        {children}
      </div>
      {actions}
    </div>
  );
}
