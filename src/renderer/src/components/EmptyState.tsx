import type { ReactNode } from 'react';
import { Icon, type IconName } from './Icon.tsx';

/**
 * What a page shows when it has nothing to show yet: what the page is for, and the one step that comes
 * first. Never sample data.
 */
export function EmptyState({ icon, title, children, points, actions }: { icon: IconName; title: string; children?: ReactNode; points?: string[]; actions?: ReactNode }) {
  return (
    <div className="empty-state">
      <div className="empty-state-icon">
        <Icon name={icon} />
      </div>
      <h2 className="empty-state-title">{title}</h2>
      {children ? <div className="empty-state-body">{children}</div> : null}
      {points && points.length > 0 ? (
        <ul className="empty-state-list">
          {points.map((point) => (
            <li key={point}>{point}</li>
          ))}
        </ul>
      ) : null}
      {actions ? <div className="empty-state-actions">{actions}</div> : null}
    </div>
  );
}
