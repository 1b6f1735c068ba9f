import { Fragment, type ReactNode } from 'react';

export interface Column<Row> {
  key: string;
  header: ReactNode;
  render: (row: Row) => ReactNode;
  /** Extra class for the cells, e.g. 'cell-actions' (right-aligned) or 'cell-nowrap'. */
  className?: string;
  width?: string;
}

/**
 * A table of rows. `expanded` gives a row's details (null: closed): they open in a full-width row directly under it,
 * with the id `detailsId(rowKey)` for the toggle's aria-controls, so the details sit where their row is.
 */
export function Table<Row>({
  columns,
  rows,
  rowKey,
  caption,
  expanded,
}: {
  columns: Column<Row>[];
  rows: Row[];
  rowKey: (row: Row) => string;
  caption: string;
  expanded?: (row: Row) => ReactNode | null;
}) {
  return (
    <div className="table-wrap">
      <table className="table">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column.key} scope="col" className={column.className} style={column.width ? { width: column.width } : undefined}>
                {column.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => {
            const details = expanded?.(row) ?? null;
            return (
              <Fragment key={rowKey(row)}>
                <tr className={details ? 'table-row-open' : undefined}>
                  {columns.map((column) => (
                    <td key={column.key} className={column.className}>
                      {column.render(row)}
                    </td>
                  ))}
                </tr>
                {details ? (
                  <tr className="table-detail-row">
                    <td colSpan={columns.length} id={detailsId(rowKey(row))}>
                      {details}
                    </td>
                  </tr>
                ) : null}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** The id of a row's details cell (for the toggle's aria-controls). */
export function detailsId(key: string): string {
  return `row-details-${key.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}
