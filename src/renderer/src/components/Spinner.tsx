export function Spinner({ label }: { label?: string }) {
  return label ? (
    <span className="row muted" role="status">
      <span className="spinner" aria-hidden="true" />
      {label}
    </span>
  ) : (
    <span className="spinner" aria-hidden="true" />
  );
}
