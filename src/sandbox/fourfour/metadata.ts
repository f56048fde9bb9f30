import { ENTITY_SET_NAMES, NAMESPACE, type ComplexTypeDefinition, type EntitySetName, type PropertyDefinition } from './edm.js';
import { COMPLEX_TYPES, CURRENT_USER_TYPE, ENTITY_SETS } from './entity-sets.js';

/**
 * `GET /odata/$metadata` (https://help.alchemer.com/help/odata-api-reference: full schema, no auth): an OData v4 CSDL XML document
 * generated from the same entity-set table the records come from.
 */
export function metadataDocument(): string {
  const lines = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">',
    '  <edmx:DataServices>',
    `    <Schema Namespace="${NAMESPACE}" xmlns="http://docs.oasis-open.org/odata/ns/edm">`,
  ];
  for (const [name, type] of Object.entries(COMPLEX_TYPES)) lines.push(...complexType(name, type));
  for (const set of ENTITY_SET_NAMES) lines.push(...entityType(set));
  lines.push(`      <EntityType Name="${CURRENT_USER_TYPE.name}">`, '        <Key>', '          <PropertyRef Name="id"/>', '        </Key>');
  lines.push(...Object.entries(CURRENT_USER_TYPE.properties).map(([name, p]) => `        ${property(name, p.type, false, p.nullable)}`));
  lines.push('      </EntityType>', `      <EntityContainer Name="Container">`);
  for (const set of ENTITY_SET_NAMES) {
    const bindings = navigations(set);
    const open = `        <EntitySet Name="${set}" EntityType="${NAMESPACE}.${ENTITY_SETS[set].entityType}"`;
    if (bindings.length === 0) {
      lines.push(`${open}/>`);
      continue;
    }
    lines.push(`${open}>`);
    for (const navigation of bindings) lines.push(`          <NavigationPropertyBinding Path="${navigation.name}" Target="${navigation.target}"/>`);
    lines.push('        </EntitySet>');
  }
  lines.push(`        <Singleton Name="me" Type="${NAMESPACE}.${CURRENT_USER_TYPE.name}"/>`, '      </EntityContainer>', '    </Schema>', '  </edmx:DataServices>', '</edmx:Edmx>');
  return lines.join('\n') + '\n';
}

interface Navigation {
  name: string;
  target: EntitySetName;
  /** For a foreign key: the property holding it. Absent for the to-many side. */
  via?: string;
  nullable: boolean;
}

/** `account_id` → `account`; a parent also gets its children (`Conversations.fragments`). */
function navigations(set: EntitySetName): Navigation[] {
  const toOne = Object.entries(ENTITY_SETS[set].properties)
    .filter((entry): entry is [string, PropertyDefinition & { references: EntitySetName }] => entry[1].references !== undefined)
    .map(([name, p]) => ({ name: name.replace(/_id$/, ''), target: p.references, via: name, nullable: p.nullable }));
  const toMany = ENTITY_SET_NAMES.filter((child) => {
    const { layout } = ENTITY_SETS[child];
    return layout.kind === 'children' && layout.parent === set;
  }).map((child) => ({ name: child.toLowerCase(), target: child, nullable: false }));
  return [...toOne, ...toMany];
}

function entityType(set: EntitySetName): string[] {
  const { entityType: name, properties } = ENTITY_SETS[set];
  const lines = [`      <EntityType Name="${name}">`, '        <Key>', '          <PropertyRef Name="id"/>', '        </Key>'];
  for (const [propertyName, p] of Object.entries(properties)) lines.push(`        ${property(propertyName, p.type, p.collection, p.nullable, p.scale)}`);
  for (const navigation of navigations(set)) {
    const type = `${NAMESPACE}.${ENTITY_SETS[navigation.target].entityType}`;
    if (!navigation.via) {
      lines.push(`        <NavigationProperty Name="${navigation.name}" Type="Collection(${type})"/>`);
      continue;
    }
    lines.push(
      `        <NavigationProperty Name="${navigation.name}" Type="${type}"${navigation.nullable ? '' : ' Nullable="false"'}>`,
      `          <ReferentialConstraint Property="${navigation.via}" ReferencedProperty="id"/>`,
      '        </NavigationProperty>',
    );
  }
  lines.push('      </EntityType>');
  return lines;
}

function complexType(name: string, type: ComplexTypeDefinition): string[] {
  return [
    `      <ComplexType Name="${name}">`,
    ...Object.entries(type.properties).map(([propertyName, p]) => `        ${property(propertyName, p.type, false, p.nullable)}`),
    '      </ComplexType>',
  ];
}

function property(name: string, type: string, isCollection: boolean, nullable: boolean, scale?: number): string {
  const attributes = [`Name="${name}"`, `Type="${isCollection ? `Collection(${type})` : type}"`];
  if (!nullable) attributes.push('Nullable="false"');
  if (type === 'Edm.Decimal') attributes.push('Precision="18"', `Scale="${scale ?? 0}"`);
  return `<Property ${attributes.join(' ')}/>`;
}
