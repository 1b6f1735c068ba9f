import type { ReactNode } from 'react';

export function Card({ title, actions, flush = false, children, className }: { title?: ReactNode; actions?: ReactNode; flush?: boolean; children: ReactNode; className?: string }) {
  return (
    <section className={['card', flush ? 'card-flush' : '', className ?? ''].filter(Boolean).join(' ')}>
      {title || actions ? (
        <header className="card-header">
          {title ? <h2 className="card-title">{title}</h2> : <span />}
          {actions}
        </header>
      ) : null}
      <div className="card-body">{children}</div>
    </section>
  );
}
