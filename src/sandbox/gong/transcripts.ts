import { intBetween, pick, rngFor } from '../random.js';
import { CALL_TOPICS, callFrame, callParties, speakersOf } from './calls.js';
import type { GongData, GongRecord } from './data.js';

const SENTENCES = [
  'Thanks for making the time today.',
  'Could you walk me through how your team handles this now?',
  'That makes sense.',
  'We looked at a couple of other tools last quarter.',
  'Let me share my screen for a second.',
  'What would success look like for you in six months?',
  'Pricing depends on the number of seats.',
  'I will send over a summary after the call.',
  'No wait, I think we should check that out first.',
  'Does next Tuesday work for a follow-up?',
];
// Keeps page bodies small: a sandbox transcript covers at most this many monologues of the call.
const MOST_MONOLOGUES = 40;

/**
 * `POST /v2/calls/transcript` record: `{callId, transcript[{speakerId, topic, sentences[{start, end, text}]}]}`
 * with times in milliseconds from the call's start (Gong API v2, POST /v2/calls/transcript). A call where nobody spoke, or
 * one Gong could not transcribe (about one in twelve), has an empty transcript — the reference does not
 * say whether Gong lists such calls at all; the sandbox lists them, so paging stays index-arithmetic.
 */
export function callTranscript(data: GongData, index: number): GongRecord {
  const frame = callFrame(data, index);
  const random = rngFor(data.seed, 'gong', 'call-transcript', index);
  const speakers = speakersOf(callParties(data, frame));
  const transcript: GongRecord[] = [];
  const durationMs = frame.durationSeconds * 1000;
  const transcribed = speakers.length > 0 && random() >= 0.08;
  let speaker = transcribed ? pick(random, speakers).speakerId : '';
  let atMs = intBetween(random, 0, 3000);
  while (transcribed && atMs < durationMs && transcript.length < MOST_MONOLOGUES) {
    const topic = CALL_TOPICS[Math.floor((atMs / durationMs) * CALL_TOPICS.length)]!;
    const sentences: GongRecord[] = [];
    for (let n = intBetween(random, 1, 4); n > 0 && atMs < durationMs; n--) {
      const end = Math.min(durationMs, atMs + intBetween(random, 1500, 12_000));
      sentences.push({ start: atMs, end, text: pick(random, SENTENCES) });
      atMs = end + intBetween(random, 100, 1500);
    }
    transcript.push({ speakerId: speaker, topic, sentences });
    const others = speakers.filter((candidate) => candidate.speakerId !== speaker);
    if (others.length) speaker = pick(random, others).speakerId;
  }
  return { callId: frame.id, transcript };
}
