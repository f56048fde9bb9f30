import type { JsonSchema } from '../../protocol/messages.js';
import { columnTypeOf, fromCatalogType, widen, type ColumnType } from './types.js';

/**
 * Identifier rule, for schemas, tables (from stream names) and columns (from property names):
 * every character outside `[A-Za-z0-9_]` becomes `_`, a name that would start with a digit (or be
 * empty) gets a leading `_`, and case is kept. The result is always double-quoted in SQL, so
 * reserved words are fine. DuckDB compares identifiers case-insensitively even when quoted, so two
 * properties whose names differ only in case (after this rule) cannot both be columns.
 */
export function sanitizeIdentifier(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(safe) ? safe : `_${safe}`;
}

/** An identifier in SQL (names read back from the catalog may hold anything, so quotes are doubled). */
export function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

/** A string as an SQL literal. */
export function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** One table column: the record property it comes from (none for metadata), its name and type. */
export interface Column {
  property?: string;
  name: string;
  type: ColumnType;
}

/** Metadata columns (Meltano SDK conventions; docs/sources.md#singer-and-meltano) added with `add_record_metadata`. */
export const METADATA_COLUMNS: readonly Column[] = [
  { name: '_sdc_extracted_at', type: 'TIMESTAMPTZ' },
  { name: '_sdc_received_at', type: 'TIMESTAMPTZ' },
  { name: '_sdc_batched_at', type: 'TIMESTAMPTZ' },
  { name: '_sdc_sequence', type: 'BIGINT' },
  { name: '_sdc_table_version', type: 'BIGINT' },
  { name: '_sdc_deleted_at', type: 'TIMESTAMPTZ' },
];

/** The metadata columns a stream needs even without `add_record_metadata` once it uses versions. */
export const VERSION_COLUMNS: readonly Column[] = METADATA_COLUMNS.filter((c) => c.name === '_sdc_table_version' || c.name === '_sdc_deleted_at');

/** The columns a SCHEMA message asks for, one per top-level property. Throws on a name clash. */
export function columnsOfSchema(schema: JsonSchema): Column[] {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const byName = new Map<string, Column>();
  for (const [property, propertySchema] of Object.entries(properties)) {
    const column: Column = { property, name: sanitizeIdentifier(property), type: columnTypeOf(propertySchema ?? {}) };
    const clash = byName.get(column.name.toLowerCase());
    if (clash) throw new Error(`properties ${JSON.stringify(clash.property)} and ${JSON.stringify(property)} would both be column ${quote(column.name)}`);
    byName.set(column.name.toLowerCase(), column);
  }
  return [...byName.values()];
}

/** A table's columns as the database has them, by lower-cased name (DuckDB's own matching). */
export type TableColumns = Map<string, { name: string; type: ColumnType; exact: boolean }>;

export function tableColumnsFromCatalog(rows: ReadonlyArray<{ column_name: string; data_type: string }>): TableColumns {
  return new Map(rows.map((row) => [row.column_name.toLowerCase(), { name: row.column_name, ...fromCatalogType(row.data_type) }]));
}

/**
 * The DDL that makes `table` hold `wanted`: CREATE when it does not exist, otherwise ADD COLUMN
 * for new names and SET DATA TYPE to the join of the old and wanted type; nothing is ever dropped
 * or narrowed. Returns the statements and the columns the table has after them.
 */
export function planTable(table: string, existing: TableColumns | undefined, wanted: readonly Column[]): { statements: string[]; columns: TableColumns } {
  if (!existing) {
    const columns: TableColumns = new Map(wanted.map((c) => [c.name.toLowerCase(), { name: c.name, type: c.type, exact: true }]));
    return { statements: [`CREATE TABLE IF NOT EXISTS ${table} (${wanted.map((c) => `${quote(c.name)} ${c.type}`).join(', ')})`], columns };
  }
  const columns: TableColumns = new Map(existing);
  const statements: string[] = [];
  for (const column of wanted) {
    const key = column.name.toLowerCase();
    const current = columns.get(key);
    if (!current) {
      statements.push(`ALTER TABLE ${table} ADD COLUMN ${quote(column.name)} ${column.type}`);
      columns.set(key, { name: column.name, type: column.type, exact: true });
      continue;
    }
    const type = widen(current.type, column.type);
    if (type !== current.type || !current.exact) {
      statements.push(`ALTER TABLE ${table} ALTER COLUMN ${quote(current.name)} SET DATA TYPE ${type}`);
      columns.set(key, { name: current.name, type, exact: true });
    }
  }
  return { statements, columns };
}
