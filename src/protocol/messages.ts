/**
 * Singer messages as they appear on the wire (one JSON object per line). The engine emits these
 * neutral shapes; `singer.ts` and `airbyte.ts` encode them, and the target decodes Singer lines back.
 */
export type JsonSchema = Record<string, unknown>;
export type JsonRecord = Record<string, unknown>;

export interface SchemaMessage {
  type: 'SCHEMA';
  stream: string;
  schema: JsonSchema;
  key_properties: string[];
  bookmark_properties?: string[];
}

export interface RecordMessage {
  type: 'RECORD';
  stream: string;
  record: JsonRecord;
  time_extracted?: string;
  version?: number;
}

export interface StateMessage {
  type: 'STATE';
  value: unknown;
}

export interface ActivateVersionMessage {
  type: 'ACTIVATE_VERSION';
  stream: string;
  version: number;
}

export type SingerMessage = SchemaMessage | RecordMessage | StateMessage | ActivateVersionMessage;
