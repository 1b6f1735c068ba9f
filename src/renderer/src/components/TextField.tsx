import { useId, type InputHTMLAttributes, type Ref } from 'react';

export interface TextFieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, 'size'> {
  label: string;
  /** One line saying what the value is for. */
  hint?: string;
  /** A sentence saying what is wrong and what is expected; marks the input invalid. */
  error?: string | null;
  /** Keep the label for screen readers only (e.g. inline editing in a table row). */
  hideLabel?: boolean;
  size?: 'md' | 'sm';
  ref?: Ref<HTMLInputElement>;
}

export function TextField({ label, hint, error, hideLabel = false, size = 'md', id, className, ref, ...rest }: TextFieldProps) {
  const autoId = useId();
  const inputId = id ?? autoId;
  const hintId = hint ? `${inputId}-hint` : undefined;
  const errorId = error ? `${inputId}-error` : undefined;
  return (
    <div className={['field', className ?? ''].filter(Boolean).join(' ')}>
      <label htmlFor={inputId} className={hideLabel ? 'visually-hidden' : 'field-label'}>
        {label}
      </label>
      <input
        ref={ref}
        id={inputId}
        className={size === 'sm' ? 'input input-sm' : 'input'}
        aria-invalid={error ? true : undefined}
        aria-describedby={[hintId, errorId].filter(Boolean).join(' ') || undefined}
        {...rest}
      />
      {hint && !error ? (
        <span id={hintId} className="field-hint">
          {hint}
        </span>
      ) : null}
      {error ? (
        <span id={errorId} className="field-error" role="alert">
          {error}
        </span>
      ) : null}
    </div>
  );
}
