import { COMPANY_NAMES, FIRST_NAMES, LAST_NAMES, hashParts, intBetween, pick, rngFor, uuid } from '../random.js';
import { compact, iso, phone, stageAt, type CallFactory } from './calls.js';
import type { ApiRecord, Directory } from './directory.js';
import { DEAL_KINDS, DEAL_STAGES } from './vocabulary.js';

export type CrmObject = 'account' | 'contact' | 'deal';

/** What a CRM id the calls name (`crm_info`) stands for. */
type CrmName =
  | { object: 'account'; company: string }
  | { object: 'deal'; company: string; kind: string }
  | { object: 'contact'; first: string; last: string; company?: string };

/** One CRM record in this many was deleted after the calls named it: GET /get-… answers 404 for it. */
const DELETED_ONE_IN = 25;
const JOB_TITLES = ['VP Sales', 'Head of RevOps', 'Account Executive', 'CTO', 'Procurement Manager', 'Director of Engineering'];
const CONTACT_STAGES = ['Lead', 'Marketing Qualified', 'Sales Qualified', 'Opportunity', 'Customer'];
const PLACES = [
  { city: 'Austin', state: 'TX', country: 'United States', zip: '787' },
  { city: 'Denver', state: 'CO', country: 'United States', zip: '802' },
  { city: 'Boston', state: 'MA', country: 'United States', zip: '021' },
  { city: 'Toronto', state: 'ON', country: 'Canada', zip: 'M5V' },
];
const INDUSTRIES = ['Software', 'Manufacturing', 'Financial Services', 'Healthcare', 'Retail'];
/** Salesforce's forecast category of each stage in DEAL_STAGES. */
const FORECAST_CATEGORIES = ['Pipeline', 'Pipeline', 'Best Case', 'Best Case', 'Commit', 'Closed'];

/**
 * The accounts, contacts and deals that `GET /get-account|get-contact|get-deal?id=` serve (Clari
 * Copilot OpenAPI, `Account`, `Contact`, `Deal`): one for each CRM id a call can name. The ids are
 * hashes of names, so the finite space of names is indexed once, on the first lookup.
 */
export class CrmRecords {
  private index?: Map<string, CrmName>;

  constructor(
    private readonly seed: number,
    private readonly calls: CallFactory,
    private readonly directory: Directory,
  ) {}

  /** The record behind a CRM id of that object type, or undefined where the API answers 404. */
  record(object: CrmObject, crmId: string, nowMs: number): ApiRecord | undefined {
    const name = this.names().get(crmId);
    if (name?.object !== object || hashParts(this.seed, 'crm-deleted', crmId) % DELETED_ONE_IN === 0) return undefined;
    const random = rngFor(this.seed, 'clari-copilot', 'crm-record', crmId);
    const id = uuid(random);
    switch (name.object) {
      case 'account':
        return this.account(id, crmId, name.company, random);
      case 'contact':
        return this.contact(id, crmId, name, random);
      case 'deal':
        return this.deal(id, crmId, name, nowMs, random);
    }
  }

  private account(id: string, crmId: string, company: string, random: () => number): ApiRecord {
    const place = pick(random, PLACES);
    const industry = pick(random, INDUSTRIES);
    return {
      id,
      crm_id: crmId,
      name: company,
      phones: [phone(random)],
      description: `${company}, ${industry.toLowerCase()}`,
      website: `https://www.${company.toLowerCase()}.example`,
      address: `${intBetween(random, 1, 999)} Market Street`,
      city: place.city,
      state: place.state,
      country: place.country,
      zip: `${place.zip}${intBetween(random, 10, 99)}`,
      custom_fields: [{ key: 'Industry', value: industry }],
    };
  }

  private contact(id: string, crmId: string, name: Extract<CrmName, { object: 'contact' }>, random: () => number): ApiRecord {
    const email = name.company && `${name.first}.${name.last}@${name.company}.example`.toLowerCase();
    return compact({
      id,
      crm_id: crmId,
      account_crm_id: name.company && this.calls.crmId('account', name.company),
      first_name: name.first,
      last_name: name.last,
      job_title: pick(random, JOB_TITLES),
      phones: [phone(random)],
      stage: pick(random, CONTACT_STAGES),
      emails: email ? [email] : [],
      // A phone-only prospect has no account: a lead, as the CRM keeps it.
      is_lead: !name.company,
      custom_fields: [],
    });
  }

  private deal(id: string, crmId: string, name: Extract<CrmName, { object: 'deal' }>, nowMs: number, random: () => number): ApiRecord {
    const deal = this.calls.dealOf(name.company, name.kind);
    const stage = stageAt(deal, nowMs);
    const changedAt = (step: number) => iso(deal.startMs + step * deal.stageMs);
    const owner = pick(random, this.directory.recorders);
    return {
      id,
      crm_id: crmId,
      owner_crm_id: this.calls.crmId('user', owner.email),
      deal_name: deal.name,
      amount: deal.value,
      close_date: changedAt(DEAL_STAGES.length - 1),
      created_date: changedAt(0),
      stage: DEAL_STAGES[stage],
      probability: String(Math.round((stage / (DEAL_STAGES.length - 1)) * 100)),
      forecast_category: FORECAST_CATEGORIES[stage],
      account_crm_id: this.calls.crmId('account', name.company),
      stage_change_history: Array.from({ length: stage }, (_, i) => ({ stage: DEAL_STAGES[i + 1], prev_stage: DEAL_STAGES[i], date_changed: changedAt(i + 1) })),
      close_date_change_history: [],
      custom_fields: [{ key: 'Deal kind', value: name.kind }],
    };
  }

  /** Every CRM id a call can name: accounts and deals of each prospect company, contacts by email (or by name when only a phone is known). */
  private names(): Map<string, CrmName> {
    if (this.index) return this.index;
    const index = new Map<string, CrmName>();
    const people = FIRST_NAMES.flatMap((first) => LAST_NAMES.map((last) => ({ first, last })));
    for (const person of people) index.set(this.calls.crmId('contact', `${person.first} ${person.last}`), { object: 'contact', ...person });
    for (const company of COMPANY_NAMES.filter((name) => name !== this.directory.company)) {
      index.set(this.calls.crmId('account', company), { object: 'account', company });
      for (const kind of DEAL_KINDS) index.set(this.calls.crmId('deal', `${company}/${kind}`), { object: 'deal', company, kind });
      for (const person of people) index.set(this.calls.crmId('contact', `${person.first}.${person.last}@${company}.example`.toLowerCase()), { object: 'contact', ...person, company });
    }
    return (this.index = index);
  }
}
