import { XMLParser } from 'fast-xml-parser';
import type { HttpRequest, HttpResponse } from '../../http/client.js';
import type { JsonSchema } from '../../protocol/messages.js';

/** CSDL primitive types as JSON Schema, for the values the OData JSON format writes for them. */
const PRIMITIVES: Record<string, JsonSchema> = {
  'Edm.String': { type: 'string' },
  'Edm.Guid': { type: 'string', format: 'uuid' },
  'Edm.Boolean': { type: 'boolean' },
  'Edm.Byte': { type: 'integer' },
  'Edm.SByte': { type: 'integer' },
  'Edm.Int16': { type: 'integer' },
  'Edm.Int32': { type: 'integer' },
  'Edm.Int64': { type: 'integer' },
  'Edm.Decimal': { type: 'number' },
  'Edm.Double': { type: 'number' },
  'Edm.Single': { type: 'number' },
  'Edm.DateTimeOffset': { type: 'string', format: 'date-time' },
  'Edm.Date': { type: 'string', format: 'date' },
  // Times of day carry no offset, which JSON Schema's `time` format requires.
  'Edm.TimeOfDay': { type: 'string' },
  'Edm.Duration': { type: 'string', format: 'duration' },
  'Edm.Binary': { type: 'string', contentEncoding: 'base64' },
};

interface CsdlProperty {
  Name: string;
  Type: string;
  Nullable?: string;
}

interface CsdlStructuredType {
  Name: string;
  BaseType?: string;
  Key?: { PropertyRef?: Array<{ Name: string }> };
  Property?: CsdlProperty[];
}

interface CsdlSchema {
  Namespace: string;
  Alias?: string;
  EntityType?: CsdlStructuredType[];
  ComplexType?: CsdlStructuredType[];
  EnumType?: Array<{ Name: string }>;
  TypeDefinition?: Array<{ Name: string; UnderlyingType: string }>;
  EntityContainer?: Array<{ EntitySet?: Array<{ Name: string; EntityType: string }> }>;
}

const REPEATED = new Set(['Schema', 'EntityType', 'ComplexType', 'EnumType', 'TypeDefinition', 'EntityContainer', 'EntitySet', 'Property', 'PropertyRef']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  removeNSPrefix: true,
  parseAttributeValue: false,
  isArray: (name, _path, _leaf, isAttribute) => !isAttribute && REPEATED.has(name),
});

/**
 * Turns an OData CSDL XML document (`/odata/$metadata`) into one JSON Schema per entity set.
 * Structural and complex properties become fields (base types included); navigation properties are
 * links to other sets, not data of this record, and are left out. Unknown types accept any value.
 */
export function csdlToJsonSchemas(xml: string): Map<string, JsonSchema> {
  const document = parser.parse(xml) as { Edmx?: { DataServices?: { Schema?: CsdlSchema[] } } };
  const schemas = document.Edmx?.DataServices?.Schema;
  if (!schemas?.length) throw new Error('the document is not OData CSDL (no edmx:Edmx/edmx:DataServices/Schema)');

  // CSDL references a type by its namespace- or its alias-qualified name.
  const structured = new Map<string, CsdlStructuredType>();
  const enums = new Set<string>();
  const definitions = new Map<string, string>();
  for (const schema of schemas) {
    for (const qualifier of [schema.Namespace, ...(schema.Alias ? [schema.Alias] : [])]) {
      for (const type of [...(schema.EntityType ?? []), ...(schema.ComplexType ?? [])]) structured.set(`${qualifier}.${type.Name}`, type);
      for (const type of schema.EnumType ?? []) enums.add(`${qualifier}.${type.Name}`);
      for (const type of schema.TypeDefinition ?? []) definitions.set(`${qualifier}.${type.Name}`, type.UnderlyingType);
    }
  }

  function keysOf(type: CsdlStructuredType): string[] {
    const base = type.BaseType ? structured.get(type.BaseType) : undefined;
    return type.Key?.PropertyRef?.map((ref) => ref.Name) ?? (base ? keysOf(base) : []);
  }

  /** `visiting` holds the types being expanded, so a complex type that contains itself ends as a plain object. */
  function properties(type: CsdlStructuredType, visiting: ReadonlySet<string>): Record<string, JsonSchema> {
    const base = type.BaseType ? structured.get(type.BaseType) : undefined;
    const own = (type.Property ?? []).map((p) => [p.Name, typeSchema(p.Type, p.Nullable !== 'false', visiting)]);
    return { ...(base ? properties(base, visiting) : {}), ...Object.fromEntries(own) };
  }

  function typeSchema(typeName: string, allowNull: boolean, visiting: ReadonlySet<string>): JsonSchema {
    const orNull = (schema: JsonSchema): JsonSchema => (allowNull ? { ...schema, type: [schema.type, 'null'] } : schema);
    const collection = /^Collection\((.+)\)$/.exec(typeName);
    if (collection) return orNull({ type: 'array', items: typeSchema(collection[1]!, allowNull, visiting) });
    const name = definitions.get(typeName) ?? typeName;
    const primitive = PRIMITIVES[name];
    if (primitive) return orNull(primitive);
    // The OData JSON format writes enum values as member names.
    if (enums.has(name)) return orNull({ type: 'string' });
    const complex = structured.get(name);
    if (!complex) return {};
    if (visiting.has(name)) return orNull({ type: 'object' });
    return orNull({ type: 'object', properties: properties(complex, new Set([...visiting, name])) });
  }

  const out = new Map<string, JsonSchema>();
  for (const schema of schemas) {
    for (const container of schema.EntityContainer ?? []) {
      for (const set of container.EntitySet ?? []) {
        const type = structured.get(set.EntityType);
        if (!type) continue;
        const keys = keysOf(type);
        out.set(set.Name, {
          $schema: 'http://json-schema.org/draft-07/schema#',
          type: 'object',
          properties: properties(type, new Set([set.EntityType])),
          ...(keys.length ? { required: keys } : {}),
        });
      }
    }
  }
  return out;
}

/**
 * Reads `<service root>/$metadata` through the provider's client (its retries and rate limit) and
 * converts it. https://help.alchemer.com/help/odata-api-reference: it needs no auth, so it is sent without, and no token is spent
 * (or rotated) to describe the API. A non-2xx answer rejects with the client's HttpStatusError.
 */
export async function fetchEntitySetSchemas(send: (request: HttpRequest) => Promise<HttpResponse>, serviceRoot: string): Promise<Map<string, JsonSchema>> {
  const response = await send({ method: 'GET', url: `${serviceRoot}/$metadata`, headers: { accept: 'application/xml' }, anonymous: true, text: true });
  return csdlToJsonSchemas(String(response.body ?? ''));
}
