/** Enumerations of CLARI-OAS (`components.schemas`) and the word banks the simulated tenant draws from. */

export const CALL_STATUSES = [
  'SCHEDULED',
  'INITIATED',
  'INPROGRESS',
  'WAITING_IN_QUEUE',
  'PROCESSING',
  'PROCESSED',
  'ERROR_IN_TRANSCRIBE',
  'ERROR_IN_PROCESSING',
  'ERROR_IN_RECORDING',
  'UNABLE_TO_JOIN',
  'CALL_DID_NOT_HAPPEN',
  'IGNORED_BY_USER',
  'BOTJOIN_DISABLED',
  'POST_PROCESSING_DONE',
  'NO_DATA_INCALL',
  'NOBODY_JOINED_CALL',
  'BOTJOIN_DENIED',
] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

/** `CallType` plus `APICallType`: the fixtures show API-created `RECORDING` calls in `/calls` (docs/sources.md#clari-copilot-records). */
export const CALL_TYPES = [
  'ZOOM',
  'GOOGLE_MEET',
  'FRESHCALLER',
  'AIRCALL_RECORDING',
  'RINGCENTRAL',
  'GOTO_MEETING',
  'OUTREACH',
  'HUBSPOT',
  'BLUE_JEANS',
  'SALESLOFT',
  'MS_TEAMS',
  'DIALPAD',
  'FRONTSPIN',
  'TALKDESK',
  'RECORDING',
  'VENDASTA',
  'KNOWLARITY',
  'CALL_HIPPO',
  'RINGOVER',
] as const;
export type CallType = (typeof CALL_TYPES)[number];

export const MEETING_TYPES: readonly CallType[] = ['ZOOM', 'ZOOM', 'GOOGLE_MEET', 'MS_TEAMS', 'GOTO_MEETING'];
export const DIALER_TYPES: readonly CallType[] = ['DIALPAD', 'AIRCALL_RECORDING', 'RINGCENTRAL', 'OUTREACH', 'SALESLOFT', 'TALKDESK', 'RECORDING'];

export type CallDisposition =
  | 'UNKNOWN_CALL_DISPOSITION'
  | 'CALL_CONNECTED_WITH_PROSPECT'
  | 'CALL_DID_NOT_CONNECT_WITH_PROSPECT'
  | 'CALL_NOBODY_JOINED'
  | 'CALL_BOTJOIN_DENIED';

export type BotNotJoinReason = 'IGNORED_BY_USER' | 'IGNORED_NOT_EXTERNAL_MEETING' | 'RECORDING_PERMISSION_DENIED';

export const MEETING_PURPOSES = ['Discovery', 'Product demo', 'Pricing review', 'Security review', 'Kickoff', 'Quarterly business review', 'Negotiation', 'Technical deep dive'];
export const INTERNAL_MEETINGS = ['Pipeline review', 'Forecast call', 'Deal strategy', 'Team standup', 'Win/loss review'];
export const RENAMED_SUFFIXES = ['(rescheduled)', '- follow-up', '- notes shared', '(exec sponsor joined)'];
export const DEAL_KINDS = ['New Business', 'Expansion', 'Renewal'];
export const DEAL_STAGES = ['Prospecting', 'Discovery', 'Solution Design', 'Proposal', 'Negotiation', 'Closed Won'];

/**
 * Topics of the workspace. The v2 record has no modified time although `/v2/topics` filters on one
 * (docs/sources.md#clari-copilot-records), so the sandbox keeps it aside: `createdDays` and `editHours` are relative to
 * the dataset's anchor, and an edit changes the topic's content. Topics with a later date appear or
 * change as the clock passes it.
 */
export interface TopicDefinition {
  name: string;
  type: 'KEYWORD' | 'CUSTOM';
  createdDays: number;
  editHours: readonly number[];
  trackers?: readonly string[];
  /** A keyword topic's first edit adds this tracker; its second drops the oldest one. */
  addedTracker?: string;
  /** A custom topic's edits revise its description, and may set this status. */
  description?: string;
  editedStatus?: 'INACTIVE';
}

export const TOPICS: readonly TopicDefinition[] = [
  { name: 'Pricing', type: 'KEYWORD', createdDays: -120, editHours: [-480], trackers: ['price', 'pricing', 'discount', 'budget'], addedTracker: 'quote' },
  { name: 'Competitors', type: 'KEYWORD', createdDays: -118, editHours: [], trackers: [] },
  { name: 'Security', type: 'KEYWORD', createdDays: -100, editHours: [6], trackers: ['SOC 2', 'SSO', 'GDPR'], addedTracker: 'penetration test' },
  { name: 'Next steps', type: 'KEYWORD', createdDays: -95, editHours: [], trackers: ['follow up', 'next week', 'send over'] },
  { name: 'Integrations', type: 'KEYWORD', createdDays: -60, editHours: [-200, 30], trackers: ['Salesforce', 'HubSpot', 'API'], addedTracker: 'Slack' },
  { name: 'Pain points', type: 'CUSTOM', createdDays: -110, editHours: [], description: 'The prospect describes a problem the product solves' },
  { name: 'Decision process', type: 'CUSTOM', createdDays: -90, editHours: [-300], description: 'Who signs off, and how the buying decision is made' },
  { name: 'Objection handling', type: 'CUSTOM', createdDays: -75, editHours: [30], description: 'The rep answers a concern raised by the prospect', editedStatus: 'INACTIVE' },
  { name: 'Timeline', type: 'CUSTOM', createdDays: -40, editHours: [], description: 'When the prospect wants to go live' },
  { name: 'Renewal risk', type: 'CUSTOM', createdDays: 1, editHours: [], description: 'Signals that a customer may not renew' },
];

export const SCORECARD_TEMPLATES = [
  { name: 'Discovery call', questions: [['Discovery', 'Did the rep uncover the pain points?'], ['Qualification', 'Was budget confirmed?'], ['Closing', 'Were next steps agreed?']] },
  { name: 'Product demo', questions: [['Preparation', 'Was the demo tailored to the prospect?'], ['Objections', 'Were objections handled?'], ['Rapport', 'Did the rep build rapport early?'], ['Closing', 'Did the rep ask for the next meeting?']] },
  { name: 'Cold call', questions: [['Opening', 'Was the opener clear within 30 seconds?'], ['Discovery', 'Did the rep ask open questions?']] },
] as const;

export const REMARKS = ['Strong discovery, keep it up.', 'Talk less in the first ten minutes.', 'Great objection handling on pricing.', 'Confirm the decision maker earlier.'];

/** Lines a rep says; `{phrase}` takes a tracker phrase, which the transcript annotates. */
export const REP_LINES = [
  'Thanks for making the time today, shall we start with your priorities?',
  'How does your team handle this today?',
  'Happy to walk you through our {phrase} options.',
  'I can {phrase} with the proposal by Friday.',
  'What would make this a success for you in the first quarter?',
  'Who else should be part of the evaluation?',
];

export const PROSPECT_LINES = [
  'We lose a lot of time reconciling notes after every call.',
  'Our main concern is {phrase}.',
  'We looked at a few vendors already.',
  'The team would need this live before the next quarter.',
  'Can you share how {phrase} works for a team our size?',
  'That makes sense, let me check with my manager.',
];

export const ACTION_ITEMS = ['Send the proposal', 'Schedule a security review', 'Share the pricing sheet', 'Book a demo for the wider team', 'Loop in procurement'];
export const SENTIMENTS = ['POSITIVE', 'NEUTRAL', 'NEGATIVE'];
