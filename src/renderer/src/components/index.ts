// The studio's base components. Pages build from these and the CSS variables in styles/tokens.css.
export { Banner } from './Banner.tsx';
export { Button, type ButtonProps, type ButtonVariant } from './Button.tsx';
export { Card } from './Card.tsx';
export { Dialog } from './Dialog.tsx';
export { EmptyState } from './EmptyState.tsx';
export { Icon, type IconName } from './Icon.tsx';
export { PageHeader } from './PageHeader.tsx';
export { Spinner } from './Spinner.tsx';
export { Table, detailsId, type Column } from './Table.tsx';
export { TextField, type TextFieldProps } from './TextField.tsx';
export { ConnectionIndicator } from './ConnectionIndicator.tsx';
export { QueryView } from './QueryView.tsx';
export { ProgressBar } from './ProgressBar.tsx';
export { StatusBadge, type WorkStatus } from './StatusBadge.tsx';
// MetricChart is not re-exported here: it brings recharts, so pages import it directly from
// './MetricChart.tsx' and are themselves loaded lazily (see RunsPage), keeping the first load small.
