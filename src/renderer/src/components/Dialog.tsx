import { useEffect, useId, useRef, type FormEvent, type ReactNode } from 'react';

/**
 * A modal built on the native <dialog>: the browser traps focus, restores it on close and maps Escape to
 * `cancel`, which we route to onClose so the parent owns the open state. The body is a form, so Enter
 * submits and the primary action is a submit button. A dialog that shows what was wrong with its fields (a Banner
 * set on submit) passes onEdit to clear it: any edit of a field inside the form calls it, so a message about a
 * value the user has since corrected does not stay on screen until the next submit.
 */
export function Dialog({
  open,
  title,
  children,
  actions,
  onClose,
  onSubmit,
  onEdit,
  busy = false,
}: {
  open: boolean;
  title: string;
  children: ReactNode;
  actions: ReactNode;
  onClose: () => void;
  onSubmit: () => void;
  /** Called on every change of a field in the dialog (typing, a choice, a checkbox): e.g. to clear a stale error. */
  onEdit?: () => void;
  /** While an action runs, Escape does not close the dialog under it. */
  busy?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit();
  };

  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault();
        if (!busy) onClose();
      }}
    >
      {open ? (
        <form className="dialog-form" onSubmit={submit} onChange={onEdit} noValidate>
          <h2 className="dialog-title" id={titleId}>
            {title}
          </h2>
          <div className="dialog-body">{children}</div>
          <div className="dialog-actions">{actions}</div>
        </form>
      ) : null}
    </dialog>
  );
}

