// `candidates`: several candidate changes per round, asked for at once, each in the edit format its
// model writes best and at the temperature the plan gives it (src/plan/planner.ts spreads them).
// Candidates that share model, format and temperature go in one request with `n` where the
// endpoint honours it: a reply with fewer choices than asked shows it does not, and the rest are
// asked one request each. Every call is admitted by the task's budget before it is made, in the
// plan's order, and holds its bound until its reply is counted: so under pressure fewer candidates
// are asked for, never more than the budget pays for. A malformed reply (no readable edit) is asked
// again once, with the parse error, as the single strategy does, admitted by the budget like any
// call; malformed twice (or not admitted), the candidate is dropped. A repair round asks again only
// for the failed candidates the select step chose (the best one or two), each with its own failure.
import type { ChatMessage } from '../../ports/types.js';
import type { Admission } from '../budget.js';
import { MIN_REPLY_TOKENS } from '../budget.js';
import { editFormat } from '../formats/index.js';
import { buildMessages } from '../prompt.js';
import {
  ReplyFormatError,
  type CandidateOrigin,
  type DroppedCandidate,
  type Generation,
  type RepairFeedback,
  type Strategy,
  type StrategyInput,
  type StrategyOutcome,
} from '../types.js';
import { ask } from './single.js';

/** One candidate to ask for: its request's settings and, in a repair round, what it repairs. */
interface Slot {
  model: string;
  format: string;
  temperature: number;
  repair: RepairFeedback | null;
  repairs?: string;
  /** Set when this asks again for a malformed reply: why it could not be used, and what that reply cost. */
  reask?: { formatError: string; promptTokens: number; completionTokens: number };
}

/** Admitted calls: one request for `slots` (n = slots.length when more than one). */
interface Call {
  slots: Slot[];
  messages: ChatMessage[];
  admission: Admission & { ok: true };
}

export const candidatesStrategy: Strategy = {
  name: 'candidates',
  async generate(input: StrategyInput): Promise<StrategyOutcome> {
    const { budget } = input;
    const over = budget.exhausted();
    if (over) return { status: 'stopped', reason: over, budget: true };
    const slots = slotsOf(input);
    const generated: Generation[] = [];
    const dropped: DroppedCandidate[] = [];
    const notes: string[] = [];
    let refusal: string | null = null;
    // Waves: the first asks every group (with `n` where it has several candidates); a second asks
    // one by one what a server that ignored `n` did not answer.
    let pending: Slot[][] = groups(slots);
    let nHonoured: boolean | null = null;
    while (pending.length > 0 && refusal === null) {
      const calls: Call[] = [];
      for (const [g, group] of pending.entries()) {
        const admitted = admitGroup(input, group, nHonoured !== false);
        calls.push(...admitted.calls);
        if (admitted.refusal) {
          refusal = admitted.refusal;
          // A malformed reply the budget does not let be asked again is dropped as it was.
          const called = new Set(admitted.calls.flatMap((call) => call.slots));
          for (const slot of pending.slice(g).flat()) {
            if (slot.reask && !called.has(slot)) {
              const reason = `malformed reply: ${slot.reask.formatError} (not asked again: ${refusal})`;
              dropped.push({ origin: originOf(slot, 0, 0), reason });
              input.warn(`candidate from ${slot.model} (t=${slot.temperature}) dropped: ${reason}`);
            }
          }
          break;
        }
      }
      pending = [];
      const answers = await Promise.allSettled(calls.map((call) => makeCall(input, call)));
      let firstError: unknown = null;
      answers.forEach((answer, i) => {
        const call = calls[i];
        if (answer.status === 'rejected') {
          budget.release(call.admission);
          firstError ??= answer.reason;
          for (const slot of call.slots) dropped.push({ origin: originOf(slot, 0, 0), reason: errorText(answer.reason) });
          return;
        }
        const { contents, promptTokens, completionTokens } = answer.value;
        if (call.slots.length > 1) {
          nHonoured = contents.length >= call.slots.length;
          if (!nHonoured) pending.push(...call.slots.slice(contents.length).map((slot) => [slot]));
        }
        contents.slice(0, call.slots.length).forEach((content, k) => {
          const slot = call.slots[k];
          // One request's tokens, shared by the replies it carried.
          const origin = originOf(slot, Math.round(promptTokens / contents.length), Math.round(completionTokens / contents.length));
          try {
            generated.push({ ...editFormat(slot.format).parse(content), origin });
          } catch (error) {
            if (!(error instanceof ReplyFormatError)) throw error;
            const who = `candidate from ${slot.model} (t=${slot.temperature})`;
            if (slot.reask) {
              dropped.push({ origin, reason: `malformed reply, twice: ${error.message}` });
              input.warn(`${who} was malformed again (${error.message}); dropped`);
              return;
            }
            const { promptTokens: spentPrompt, completionTokens: spentCompletion } = origin;
            pending.push([
              { ...slot, reask: { formatError: error.message, promptTokens: spentPrompt, completionTokens: spentCompletion } },
            ]);
            input.warn(`${who} was malformed (${error.message}); asking again`);
          }
        });
      });
      // Nothing came back and every call failed: the failure is the step's (a transient one is retried).
      if (firstError !== null && generated.length === 0 && pending.length === 0) throw firstError;
    }
    const asked = generated.length + dropped.length;
    // Refused only a re-ask, every candidate was asked for: its drop says why, no note of fewer.
    if (refusal !== null && asked < slots.length) {
      notes.push(`fewer candidates: ${asked} of ${slots.length} asked for (${refusal})`);
      input.warn(notes[notes.length - 1]);
    }
    if (generated.length === 0) {
      if (asked === 0 && refusal !== null) return { status: 'stopped', reason: refusal, budget: true };
      const why = dropped.map((d) => d.reason).join('; ');
      return { status: 'stopped', reason: `no usable candidate: ${asked} asked for, none usable (${why})` };
    }
    return { status: 'generated', candidates: generated, dropped, notes };
  },
};

/** The round's candidates: the plan's, or in a repair round one per failed candidate to repair. */
function slotsOf(input: StrategyInput): Slot[] {
  if (input.repairs?.length) {
    return input.repairs.map((r) => ({
      model: r.model,
      format: r.format,
      temperature: r.temperature,
      repair: { feedback: r.feedback, previousPatch: r.previousPatch },
      repairs: r.id,
    }));
  }
  const { settings } = input;
  const planned = settings.candidates?.length
    ? settings.candidates
    : [{ model: settings.model, format: settings.format, temperature: settings.temperature }];
  return planned.map((spec) => ({ ...spec, repair: input.repair }));
}

/** Candidates with the same request (model, format, temperature, repair) side by side, in the plan's order. */
function groups(slots: Slot[]): Slot[][] {
  const byKey = new Map<string, Slot[]>();
  for (const slot of slots) {
    const key = slot.repairs ?? JSON.stringify([slot.model, slot.format, slot.temperature]);
    const group = byKey.get(key);
    if (group) group.push(slot);
    else byKey.set(key, [slot]);
  }
  return [...byKey.values()];
}

/**
 * Admits a group's calls: one request with `n` for as many of its candidates as the budget pays
 * for (when `n` may be tried), else one request per candidate, until the budget refuses one.
 */
function admitGroup(input: StrategyInput, group: Slot[], tryN: boolean): { calls: Call[]; refusal: string | null } {
  const { budget, settings } = input;
  const messages = buildMessages({
    ...input,
    repair: group[0].repair,
    format: editFormat(group[0].format),
    formatError: group[0].reask?.formatError ?? null,
  });
  const floor = Math.min(settings.maxTokens, MIN_REPLY_TOKENS);
  if (tryN && group.length > 1) {
    for (let n = group.length; n >= 2; n--) {
      const admission = budget.admit(messages, settings.maxTokens * n);
      if (admission.ok && admission.maxTokens >= floor * n) {
        const calls: Call[] = [{ slots: group.slice(0, n), messages, admission }];
        if (n === group.length) return { calls, refusal: null };
        const rest = admitOneByOne(input, group.slice(n), messages);
        return { calls: [...calls, ...rest.calls], refusal: rest.refusal };
      }
      budget.release(admission);
    }
  }
  return admitOneByOne(input, group, messages);
}

function admitOneByOne(input: StrategyInput, slots: Slot[], messages: ChatMessage[]): { calls: Call[]; refusal: string | null } {
  const calls: Call[] = [];
  for (const slot of slots) {
    const admission = input.budget.admit(messages, input.settings.maxTokens);
    if (!admission.ok) return { calls, refusal: admission.reason };
    calls.push({ slots: [slot], messages, admission });
  }
  return { calls, refusal: null };
}

async function makeCall(input: StrategyInput, call: Call): Promise<{ contents: string[]; promptTokens: number; completionTokens: number }> {
  const [first] = call.slots;
  const n = call.slots.length;
  const reply = await ask(input.llm, {
    messages: call.messages,
    model: first.model,
    temperature: first.temperature,
    // With `n`, the admitted reply tokens are shared by the n replies.
    maxTokens: n > 1 ? Math.floor(call.admission.maxTokens / n) : call.admission.maxTokens,
    ...(n > 1 ? { n } : {}),
    signal: input.signal,
  });
  input.budget.record(reply.promptTokens, reply.completionTokens, call.admission);
  const contents = reply.choices?.length ? reply.choices : [reply.content];
  return { contents, promptTokens: reply.promptTokens, completionTokens: reply.completionTokens };
}

/** A candidate's origin; its tokens include those of the malformed reply it was asked again for. */
function originOf(slot: Slot, promptTokens: number, completionTokens: number): CandidateOrigin {
  return {
    model: slot.model,
    requestedFormat: slot.format,
    temperature: slot.temperature,
    promptTokens: promptTokens + (slot.reask?.promptTokens ?? 0),
    completionTokens: completionTokens + (slot.reask?.completionTokens ?? 0),
    ...(slot.repairs ? { repairs: slot.repairs } : {}),
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
