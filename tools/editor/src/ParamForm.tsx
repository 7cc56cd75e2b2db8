// The parameter form of one node, generated from its component's typed table: a field per
// param (a select where the values are fixed), required marks, defaults as placeholders, the
// description, and the problem with each value (the form's own check or the server's).
import type { ComponentDescriptor, ParamSpec } from './api';
import { checkParams, describeValue, draftOf, type ParamDrafts } from './params';

interface Props {
  nodeId: string;
  descriptor: ComponentDescriptor | undefined;
  drafts: ParamDrafts;
  serverErrors: { param?: string; message: string }[];
  onChange: (drafts: ParamDrafts, changed: string) => void;
}

function placeholderOf(spec: ParamSpec): string {
  if (spec.default !== undefined) return `default: ${draftOf(spec, spec.default).replace(/\n/g, ', ')}`;
  switch (spec.type) {
    case 'string_list':
      return 'one value per line';
    case 'list':
      return 'JSON list, e.g. ["a", 1]';
    case 'object':
      return 'JSON object, e.g. {"key": "value"}';
    case 'any':
      return 'JSON value or text';
    default:
      return spec.required ? 'required' : 'not set';
  }
}

function rangeText(spec: ParamSpec): string {
  if (spec.minimum !== undefined && spec.maximum !== undefined) return ` ${spec.minimum}…${spec.maximum}`;
  if (spec.minimum !== undefined) return ` ≥ ${spec.minimum}`;
  if (spec.maximum !== undefined) return ` ≤ ${spec.maximum}`;
  return '';
}

function Field({ spec, id, value, onChange }: { spec: ParamSpec; id: string; value: string; onChange: (v: string) => void }) {
  const choices =
    spec.allowed && spec.allowed.length > 0 && spec.type !== 'list' && spec.type !== 'object'
      ? spec.allowed
      : spec.type === 'boolean'
        ? [true, false]
        : null;
  if (choices) {
    const unsetLabel = spec.default !== undefined ? `(default: ${describeValue(spec.default)})` : spec.required ? '(choose)' : '(not set)';
    return (
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">{unsetLabel}</option>
        {choices.map((choice) => {
          const draft = draftOf(spec, choice);
          return (
            <option key={draft} value={draft}>
              {draft}
            </option>
          );
        })}
      </select>
    );
  }
  if (spec.type === 'string_list' || spec.type === 'list' || spec.type === 'object' || spec.type === 'any')
    return (
      <textarea
        id={id}
        rows={spec.type === 'string_list' ? 3 : 2}
        spellCheck={false}
        value={value}
        placeholder={placeholderOf(spec)}
        onChange={(e) => onChange(e.target.value)}
      />
    );
  return (
    <input
      id={id}
      type="text"
      inputMode={spec.type === 'integer' ? 'numeric' : spec.type === 'number' ? 'decimal' : undefined}
      spellCheck={false}
      value={value}
      placeholder={placeholderOf(spec)}
      onChange={(e) => onChange(e.target.value)}
    />
  );
}

export function ParamForm({ nodeId, descriptor, drafts, serverErrors, onChange }: Props) {
  const { problems } = checkParams(descriptor, drafts);
  const specs = descriptor?.params ?? [];
  const undeclared = Object.keys(drafts).filter((name) => !specs.some((s) => s.name === name));
  const messagesFor = (param: string) => [
    ...problems.filter((p) => p.param === param).map((p) => p.message),
    ...serverErrors.filter((e) => e.param === param).map((e) => e.message),
  ];
  const set = (name: string, value: string) => {
    const next = { ...drafts };
    if (value === '') delete next[name];
    else next[name] = value;
    onChange(next, name);
  };

  if (specs.length === 0 && undeclared.length === 0) return <p className="sl-muted">{descriptor?.name ?? 'This component'} takes no parameters.</p>;
  return (
    <div className="sl-params">
      {specs.map((spec) => {
        const id = `param-${nodeId}-${spec.name}`;
        const messages = messagesFor(spec.name);
        return (
          <div key={spec.name} className={`sl-param${messages.length > 0 ? ' invalid' : ''}`} data-testid={`param-${spec.name}`}>
            <label htmlFor={id}>
              {spec.name}
              {spec.required && (
                <span className="sl-required" title="required">
                  *
                </span>
              )}
              <span className="sl-type">
                {spec.type}
                {rangeText(spec)}
              </span>
            </label>
            <Field spec={spec} id={id} value={drafts[spec.name] ?? ''} onChange={(v) => set(spec.name, v)} />
            <p className="sl-help">{spec.description}</p>
            {messages.map((m) => (
              <p key={m} className="sl-field-error" role="alert">
                {m}
              </p>
            ))}
          </div>
        );
      })}
      {undeclared.map((name) => (
        <div key={name} className="sl-param invalid" data-testid={`param-${name}`}>
          <label>
            {name}
            <span className="sl-type">not in the table</span>
          </label>
          <code>{drafts[name]}</code>
          {messagesFor(name).map((m) => (
            <p key={m} className="sl-field-error" role="alert">
              {m}
            </p>
          ))}
          <button type="button" onClick={() => set(name, '')}>
            Remove
          </button>
        </div>
      ))}
    </div>
  );
}
