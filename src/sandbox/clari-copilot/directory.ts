import { Duration, type DateTime } from 'luxon';
import { companyName, personName, pick, rngFor, uuid, type Random } from '../random.js';
import { SCORECARD_TEMPLATES, TOPICS, type TopicDefinition } from './vocabulary.js';

/** An API-shaped record, keys in the order CLARI-OAS lists them. */
export type ApiRecord = Record<string, unknown>;

export interface ClariUser {
  id: string;
  email: string;
  name: string;
  role: 'REP' | 'MANAGER' | 'OBSERVER';
  is_recording: boolean;
  manager_id?: string;
}

export interface Topic {
  id: string;
  definition: TopicDefinition;
  createdMs: number;
  editMs: readonly number[];
  trackers: readonly string[];
}

/** Every sixth user manages the five after them; every tenth only observes. */
const MANAGER_EVERY = 6;
const OBSERVER_EVERY = 10;
const HOUR_MS = Duration.fromObject({ hours: 1 }).as('milliseconds');
const DAY_MS = Duration.fromObject({ days: 1 }).as('milliseconds');

/**
 * The slowly changing part of the tenant: the workspace, its users, topics and scorecard templates.
 * Small lists, generated once from the seed.
 */
export class Directory {
  readonly company: string;
  readonly domain: string;
  /** The customer id scorecard templates carry. */
  readonly customerId: string;
  readonly crm: 'SALESFORCE' | 'HUBSPOT';
  readonly users: readonly ClariUser[];
  /** Users who record calls: the hosts of calls. */
  readonly recorders: readonly ClariUser[];
  readonly teamIds: readonly string[];
  readonly topics: readonly Topic[];
  readonly templates: readonly ApiRecord[];
  /** Companies the workspace sells against; the Competitors topic tracks their names. */
  readonly competitors: readonly string[];

  constructor(seed: number, anchor: DateTime, userCount: number) {
    const random = rngFor(seed, 'clari-copilot', 'workspace');
    this.company = companyName(random);
    this.domain = `${this.company.toLowerCase()}.example`;
    this.customerId = uuid(random);
    this.crm = random() < 0.7 ? 'SALESFORCE' : 'HUBSPOT';
    const competitors = new Set<string>();
    while (competitors.size < 3) competitors.add(this.prospectCompany(random));
    this.competitors = [...competitors];
    this.users = this.generateUsers(seed, userCount);
    this.recorders = this.users.filter((user) => user.is_recording);
    this.teamIds = Array.from({ length: 3 }, () => uuid(random));
    this.topics = TOPICS.map((definition, index) => {
      const topicRandom = rngFor(seed, 'clari-copilot', 'topic', index);
      return {
        id: uuid(topicRandom),
        definition,
        createdMs: anchor.toMillis() + definition.createdDays * DAY_MS + Math.floor(topicRandom() * HOUR_MS),
        editMs: definition.editHours.map((hours) => anchor.toMillis() + hours * HOUR_MS + Math.floor(topicRandom() * HOUR_MS)),
        trackers: definition.name === 'Competitors' ? this.competitors : (definition.trackers ?? []),
      };
    });
    this.templates = SCORECARD_TEMPLATES.map((template, index) => ({
      id: uuid(rngFor(seed, 'clari-copilot', 'template', index)),
      customer_id: this.customerId,
      name: template.name,
      type: 'CALL',
      questions: template.questions.map(([skill, label], order) => ({ skill, label, order: String(order + 1) })),
    }));
  }

  /** Users in id order; manager ids point at users generated before them, so one pass suffices. */
  private generateUsers(seed: number, count: number): ClariUser[] {
    const users: ClariUser[] = [];
    for (let index = 0; index < count; index++) {
      const random = rngFor(seed, 'clari-copilot', 'user', index);
      const { first, last } = personName(random);
      const role = index % MANAGER_EVERY === 0 ? 'MANAGER' : index % OBSERVER_EVERY === OBSERVER_EVERY - 1 ? 'OBSERVER' : 'REP';
      // The users.json fixture has no manager_id: some reps report to nobody in Copilot.
      const manager = role !== 'MANAGER' && random() < 0.85 ? users[index - (index % MANAGER_EVERY)] : undefined;
      users.push({
        id: uuid(random),
        email: `${first}.${last}.${index + 1}@${this.domain}`.toLowerCase(),
        name: `${first} ${last}`,
        role,
        is_recording: role !== 'OBSERVER' && (index === 0 || random() < 0.9),
        ...(manager ? { manager_id: manager.id } : {}),
      });
    }
    return users;
  }

  /** Who scores a user's calls: their manager, else the first other manager. */
  scorerOf(user: ClariUser): ClariUser {
    const managers = this.users.filter((candidate) => candidate.role === 'MANAGER' && candidate !== user);
    return this.users.find((candidate) => candidate.id === user.manager_id) ?? managers[0] ?? this.users[0]!;
  }

  /** Any company but the workspace's own. */
  prospectCompany(random: Random): string {
    for (;;) {
      const name = companyName(random);
      if (name !== this.company) return name;
    }
  }

  /** A person outside the workspace, at `company`. */
  prospect(random: Random, company: string): { name: string; email: string } {
    const { first, last } = personName(random);
    return { name: `${first} ${last}`, email: `${first}.${last}@${company}.example`.toLowerCase() };
  }

  visibleTopics(nowMs: number): Topic[] {
    return this.topics.filter((topic) => topic.createdMs <= nowMs);
  }

  /** When the topic last changed at `nowMs`: its creation or its latest edit by then. */
  topicModifiedMs(topic: Topic, nowMs: number): number {
    return Math.max(topic.createdMs, ...topic.editMs.filter((ms) => ms <= nowMs));
  }

  /** A `/v2/topics` record as it reads at `nowMs`: each edit passed so far changes its content. */
  topicRecord(topic: Topic, nowMs: number): ApiRecord {
    const edits = topic.editMs.filter((ms) => ms <= nowMs).length;
    const { definition } = topic;
    const teams = this.teamIds.slice(0, 1 + (this.topics.indexOf(topic) % this.teamIds.length));
    const base = { topic_id: topic.id, topic_name: definition.name, type: definition.type, team_ids: teams };
    if (definition.type === 'KEYWORD') {
      const added = edits >= 1 && definition.addedTracker ? [definition.addedTracker] : [];
      return { ...base, keyword_topic: { trackers: [...topic.trackers.slice(edits >= 2 ? 1 : 0), ...added] } };
    }
    const description = edits === 0 ? definition.description : `${definition.description} (revision ${edits})`;
    return { ...base, custom_topic: { description, status: edits >= 1 && definition.editedStatus ? definition.editedStatus : 'ACTIVE' } };
  }

  /** A topic a call made at `timeMs` can be tagged with. */
  pickTopic(random: Random, timeMs: number): Topic {
    const existing = this.topics.filter((topic) => topic.createdMs <= timeMs);
    return pick(random, existing.length > 0 ? existing : this.topics);
  }
}
