import { DateTime } from 'luxon';
import { companyName, intBetween, personName, pick } from '../random.js';
import type { ValueSource } from './edm.js';

/** Small value sources the entity-set table is written in. */

export const between = (min: number, max: number): ValueSource => (_r, random) => intBetween(random, min, max);

export const oneOf = (values: readonly string[]): ValueSource => (_r, random) => pick(random, values);

export const chance = (probability: number): ValueSource => (_r, random) => random() < probability;

/** A number in [min, max) rounded to `decimals` places. */
export const amount = (min: number, max: number, decimals: number): ValueSource => (_r, random) =>
  Number((min + random() * (max - min)).toFixed(decimals));

export const firstName: ValueSource = (_r, random) => personName(random).first;
export const lastName: ValueSource = (_r, random) => personName(random).last;

export const company: ValueSource = (_r, random) => `${companyName(random)} ${pick(random, ['Labs', 'Systems', 'Group', 'Holdings', 'Analytics', 'Health', 'Logistics'])}`;

const slug = (name: unknown) => String(name).toLowerCase().replace(/[^a-z]+/g, '');
const mailbox = (first: unknown, last: unknown, domain: unknown) => `${slug(first)}.${slug(last)}@${String(domain)}`;

const toDomain = (name: unknown) => `${slug(name)}.example.com`;

/** The web domain of the company named by another property of the record. */
export const domainOf = (property: string): ValueSource => (r) => toDomain(r.get(property));

/** The domain of a company of its own, for people whose company is not a property of the record. */
export const someCompanyDomain: ValueSource = (r, random) => toDomain(company(r, random));

/** `first.last@<domain>` from the record's own name properties. */
export const emailOf = (first: string, last: string, domain: ValueSource): ValueSource => (r, random) => mailbox(r.get(first), r.get(last), domain(r, random));

/** `first.last@example.com` from a `First Last` name held in another property. */
export const emailOfName = (property: string): ValueSource => (r) => {
  const [first, ...last] = String(r.get(property)).split(' ');
  return mailbox(first, last.join(' '), 'example.com');
};

export const fullName: ValueSource = (_r, random) => {
  const { first, last } = personName(random);
  return `${first} ${last}`;
};

export const someEmail: ValueSource = (_r, random) => {
  const { first, last } = personName(random);
  return mailbox(first, last, 'example.com');
};

export const phone: ValueSource = (_r, random) => `+1-555-${String(intBetween(random, 100, 999))}-${String(intBetween(random, 1000, 9999))}`;

/** A calendar date (`Edm.Date`) up to `maxDays` after the record's creation. */
export const dateAfterCreation = (maxDays: number): ValueSource => (r, random) =>
  DateTime.fromMillis(r.createdMs, { zone: 'utc' }).plus({ days: intBetween(random, 0, maxDays) }).toISODate()!;

/** A `[min, max]` count of draws from `source`. */
export const listOf = (min: number, max: number, source: ValueSource): ValueSource => (r, random) =>
  Array.from({ length: intBetween(random, min, max) }, () => source(r, random));

/** A CRM-style record id (Salesforce-like 18 characters), as linked CRM records carry. */
export const crmId = (prefix: string): ValueSource => (_r, random) => {
  let id = prefix;
  while (id.length < 18) id += pick(random, CRM_ID_ALPHABET);
  return id;
};
const CRM_ID_ALPHABET = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'];

/** A short note about a sales subject: summaries, transcript lines, comments. */
export const sentence: ValueSource = (_r, random) => `${pick(random, OPENERS)} ${pick(random, SUBJECTS)} ${pick(random, CLOSERS)}`;

export const REGIONS = ['NA', 'EMEA', 'APAC', 'LATAM'];
export const INDUSTRIES = ['Software', 'Healthcare', 'Finance', 'Retail', 'Manufacturing', 'Education', 'Logistics'];
export const TITLES = ['VP Sales', 'Account Executive', 'Head of RevOps', 'CFO', 'Procurement Manager', 'IT Director', 'Sales Engineer', 'CEO'];
export const DEPARTMENTS = ['Sales', 'Finance', 'IT', 'Operations', 'Marketing', 'Procurement'];
export const LEAD_SOURCES = ['Web', 'Referral', 'Event', 'Outbound', 'Partner'];
export const LANGUAGES = ['en', 'en', 'en', 'de', 'fr', 'es'];
const SUBJECTS = ['pricing', 'the renewal', 'onboarding', 'the security review', 'integration with the CRM', 'the pilot results', 'contract terms', 'the rollout plan'];
const OPENERS = ['We discussed', 'Customer asked about', 'Follow up on', 'Concern raised about', 'Agreed next steps for', 'Questions on'];
const CLOSERS = ['before end of quarter.', 'with the buying committee.', 'next week.', 'for the EMEA team.', 'after the demo.', 'in detail.'];
