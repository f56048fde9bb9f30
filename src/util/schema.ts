import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** One shared ajv: every schema check in tap-convo (config, state, catalog, records in tests). */
export const ajv = addFormats(new Ajv({ allErrors: true, strict: false, useDefaults: false }));

/** The one ajv that writes into what it checks: it fills a loaded config's absent settings with their schema defaults. */
const defaultsAjv = addFormats(new Ajv({ strict: false, useDefaults: true }));

/** Fills, in place, every absent property that `schema` gives a default, in the objects the document has. */
export function defaultsFiller(schema: object): (document: unknown) => void {
  const fill = defaultsAjv.compile(schema);
  return (document) => void fill(document);
}

/** Turns ajv's errors into one line per problem, with dotted paths a user recognises. */
export function describeErrors(errors: readonly ErrorObject[] | null | undefined, root = ''): string[] {
  return (errors ?? []).map((error) => {
    const at = [root, ...error.instancePath.split('/').filter(Boolean)].filter(Boolean).join('.');
    const where = (name?: string) => [at, name].filter(Boolean).join('.') || 'the document';
    const params = error.params as Record<string, unknown>;
    switch (error.keyword) {
      case 'required':
        return `${where(String(params.missingProperty))} is required`;
      case 'dependencies':
      case 'dependentRequired':
        return `${where(String(params.missingProperty))} is required when ${where(String(params.property))} is set`;
      case 'additionalProperties':
        return `${where(String(params.additionalProperty))} is not a known setting`;
      case 'type':
        return `${where()} must be ${String(params.type)}`;
      case 'enum':
        return `${where()} must be one of ${(params.allowedValues as unknown[]).join(', ')}`;
      case 'format':
        return `${where()} must be a valid ${String(params.format)}`;
      default:
        return `${where()} ${error.message ?? 'is invalid'}`;
    }
  });
}

/** Compiles a schema into a check that returns undefined, or every problem joined into one line. */
export function validator(schema: object, root = ''): (value: unknown) => string | undefined {
  const validate: ValidateFunction = ajv.compile(schema);
  return (value) => (validate(value) ? undefined : [...new Set(describeErrors(validate.errors, root))].join('; '));
}
