import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { csdlToJsonSchemas } from '../../../src/providers/fourfour/metadata.js';
import { ajv } from '../../../src/util/schema.js';

const csdl = readFileSync(new URL('./metadata.xml', import.meta.url), 'utf8');
const schemas = csdlToJsonSchemas(csdl);
const contact = schemas.get('Contacts')!;
const field = (name: string) => (contact.properties as Record<string, unknown>)[name];

describe('csdlToJsonSchemas', () => {
  it('describes every entity set whose type is declared, under the set name', () => {
    expect([...schemas.keys()]).toEqual(['Contacts', 'Accounts']);
    for (const schema of schemas.values()) expect(ajv.validateSchema(schema)).toBe(true);
  });

  it.each([
    ['updated', { type: ['string', 'null'], format: 'date-time' }],
    ['birthday', { type: ['string', 'null'], format: 'date' }],
    ['employees', { type: ['integer', 'null'] }],
    ['rank', { type: ['integer', 'null'] }],
    ['score', { type: ['integer', 'null'] }],
    ['revenue', { type: ['number', 'null'] }],
    ['ratio', { type: ['number', 'null'] }],
    ['active', { type: 'boolean' }],
    ['email', { type: ['string', 'null'] }],
    ['mood', { type: ['string', 'null'] }],
    ['tags', { type: 'array', items: { type: 'string' } }],
    ['shape', {}],
  ])('maps %s to %j', (name, expected) => {
    expect(field(name)).toEqual(expected);
  });

  it('inherits the key and fields of the base type, and makes the key required and non-null', () => {
    expect(Object.keys(contact.properties as object).slice(0, 2)).toEqual(['id', 'updated']);
    expect(field('id')).toEqual({ type: 'string', format: 'uuid' });
    expect(contact.required).toEqual(['id']);
  });

  it('expands complex types, stopping where a type contains itself', () => {
    expect(field('address')).toEqual({ type: ['object', 'null'], properties: { city: { type: ['string', 'null'] }, zip: { type: 'string' } } });
    expect(field('thread')).toEqual({
      type: ['object', 'null'],
      properties: { text: { type: ['string', 'null'] }, replies: { type: ['array', 'null'], items: { type: ['object', 'null'] } } },
    });
  });

  it('leaves navigation properties out', () => {
    expect(Object.keys(contact.properties as object)).not.toContain('account');
    expect(Object.keys(contact.properties as object)).not.toContain('calls');
  });

  it('accepts the records it describes', () => {
    const validate = ajv.compile(contact);
    const record = { id: '0b6f1c1e-9d1a-4c47-8f0e-2f4b8f1a9c3d', updated: '2026-01-02T03:04:05Z', active: true, tags: [], address: { city: null, zip: '10115' }, shape: { type: 'Point' } };
    expect(validate(record), ajv.errorsText(validate.errors)).toBe(true);
    expect(validate({ ...record, id: null })).toBe(false);
  });

  it('refuses a document that is not CSDL', () => {
    expect(() => csdlToJsonSchemas('<html><body>Sign in</body></html>')).toThrow(/not OData CSDL/);
  });
});
