// A node's parameters as the form edits them (drafts: the text in each field) and as the graph
// holds them (typed JSON values), checked against the component's parameter table the way the
// server checks them, so most mistakes show before a save.
//
// A draft per type: boolean "true"/"false"; integer, number: the number's text; string: the
// text; string_list: one string per line; list, object: JSON; any (and params the component
// does not declare): JSON, or else the text as a string. An empty draft leaves the param out.
import type { ComponentDescriptor, Json, ParamSpec, ParamType } from './api';

export type ParamDrafts = Record<string, string>;

export interface ParamProblem {
  param: string;
  message: string;
}

export interface ParamCheck {
  values: Record<string, Json>; // what the graph file says, drafts that failed kept as text
  problems: ParamProblem[];
}

type Parsed = { ok: true; value: Json } | { ok: false; message: string };

function parseJson(text: string): Parsed {
  try {
    return { ok: true, value: JSON.parse(text) as Json };
  } catch (e) {
    return { ok: false, message: `is not valid JSON (${(e as Error).message})` };
  }
}

function parseDraft(type: ParamType, draft: string): Parsed {
  switch (type) {
    case 'boolean':
      if (draft === 'true' || draft === 'false') return { ok: true, value: draft === 'true' };
      return { ok: false, message: 'must be true or false' };
    case 'integer': {
      const text = draft.trim();
      const value = Number(text);
      if (!/^[-+]?\d+$/.test(text) || !Number.isSafeInteger(value))
        return { ok: false, message: `must be a whole number, got '${draft}'` };
      return { ok: true, value };
    }
    case 'number': {
      const text = draft.trim();
      const value = Number(text);
      if (text === '' || !Number.isFinite(value))
        return { ok: false, message: `must be a number, got '${draft}'` };
      return { ok: true, value };
    }
    case 'string':
      return { ok: true, value: draft };
    case 'string_list':
      return {
        ok: true,
        value: draft
          .split('\n')
          .map((line) => line.trim())
          .filter((line) => line !== ''),
      };
    case 'list': {
      const parsed = parseJson(draft);
      if (parsed.ok && !Array.isArray(parsed.value))
        return { ok: false, message: 'must be a JSON list, like ["a", 1]' };
      return parsed;
    }
    case 'object': {
      const parsed = parseJson(draft);
      if (parsed.ok && (parsed.value === null || typeof parsed.value !== 'object' || Array.isArray(parsed.value)))
        return { ok: false, message: 'must be a JSON object, like {"key": "value"}' };
      return parsed;
    }
    case 'any': {
      const parsed = parseJson(draft);
      return parsed.ok ? parsed : { ok: true, value: draft };
    }
  }
}

const sameJson = (a: Json, b: Json) => JSON.stringify(a) === JSON.stringify(b);

export function describeValue(value: Json): string {
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
}

function rangeProblem(spec: ParamSpec, value: number): string | null {
  if (spec.minimum !== undefined && value < spec.minimum) return `must be at least ${spec.minimum}, got ${value}`;
  if (spec.maximum !== undefined && value > spec.maximum) return `must be at most ${spec.maximum}, got ${value}`;
  return null;
}

// Checks the drafts against the table: required params, types, ranges, allowed values, and
// params the component does not take. Without a descriptor (a component the server does not
// offer) every draft is read as an `any` value.
export function checkParams(descriptor: ComponentDescriptor | undefined, drafts: ParamDrafts): ParamCheck {
  const values: Record<string, Json> = {};
  const problems: ParamProblem[] = [];
  const specs = descriptor?.params ?? [];
  for (const spec of specs) {
    const draft = drafts[spec.name] ?? '';
    // A string of spaces is a value; other types ignore surrounding blanks.
    const unset = spec.type === 'string' ? draft === '' : draft.trim() === '';
    if (unset) {
      if (spec.required) problems.push({ param: spec.name, message: `missing required param '${spec.name}'` });
      continue;
    }
    const parsed = parseDraft(spec.type, draft);
    if (!parsed.ok) {
      values[spec.name] = draft;
      problems.push({ param: spec.name, message: `param '${spec.name}' ${parsed.message}` });
      continue;
    }
    values[spec.name] = parsed.value;
    if (typeof parsed.value === 'number') {
      const problem = rangeProblem(spec, parsed.value);
      if (problem) problems.push({ param: spec.name, message: `param '${spec.name}' ${problem}` });
    }
    if (spec.allowed && spec.allowed.length > 0) {
      const items = spec.type === 'string_list' && Array.isArray(parsed.value) ? parsed.value : [parsed.value];
      for (const item of items)
        if (!spec.allowed.some((allowed) => sameJson(allowed, item)))
          problems.push({
            param: spec.name,
            message: `param '${spec.name}' must be one of ${spec.allowed.map(describeValue).join(', ')}, got ${describeValue(item)}`,
          });
    }
  }
  for (const [name, draft] of Object.entries(drafts)) {
    if (specs.some((spec) => spec.name === name) || draft.trim() === '') continue;
    values[name] = (parseDraft('any', draft) as { value: Json }).value;
    if (descriptor) problems.push({ param: name, message: `unknown param '${name}' (${descriptor.name} does not take it)` });
  }
  return { values, problems };
}

// The form's text for a value read from a graph.
export function draftOf(spec: ParamSpec | undefined, value: Json): string {
  const type = spec?.type ?? 'any';
  if (type === 'string' && typeof value === 'string') return value;
  if (type === 'string_list') {
    if (typeof value === 'string') return value;
    if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value.join('\n');
  }
  if ((type === 'boolean' || type === 'integer' || type === 'number') && typeof value !== 'object')
    return String(value);
  // `any`: a string that does not read as JSON stays bare; everything else is JSON.
  if (typeof value === 'string' && !parseJson(value).ok) return value;
  return JSON.stringify(value);
}

export function draftsOf(descriptor: ComponentDescriptor | undefined, params: Record<string, Json>): ParamDrafts {
  const drafts: ParamDrafts = {};
  for (const [name, value] of Object.entries(params))
    drafts[name] = draftOf(descriptor?.params.find((spec) => spec.name === name), value);
  return drafts;
}
