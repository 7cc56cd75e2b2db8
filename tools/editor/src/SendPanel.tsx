// "Send test data": posts a body of a chosen type to the running graph with ?wait=true and
// shows what came out (results, errors, counts per sink, where packets were dropped), or the
// server's refusal. JSON is one packet (an array, one each), NDJSON one per line; any other
// type is one raw packet (field `data`, meta mimetype) for an adapter to read. A local file fills the body and the type.
import { useState } from 'react';
import { api, ApiError, type Json } from './api';

interface Props {
  deployed: string | null;
  dirty: boolean;
  nodeIds: string[];
}

const TYPES = [
  { label: 'JSON', type: 'application/json', hint: 'one object (one packet) or an array (one packet each)', extensions: ['json'] },
  { label: 'NDJSON', type: 'application/x-ndjson', hint: 'one JSON object per line, a packet each', extensions: ['ndjson', 'jsonl'] },
  { label: 'CSV', type: 'text/csv', hint: 'one raw packet (field data) for csv_adapter', extensions: ['csv', 'tsv'] },
  { label: 'Text', type: 'text/plain', hint: 'one raw packet (field data)', extensions: ['txt', 'log'] },
  { label: 'XML', type: 'application/xml', hint: 'one raw packet (field data) for an XML adapter', extensions: ['xml'] },
  { label: 'HTML', type: 'text/html', hint: 'one raw packet (field data) for an HTML adapter', extensions: ['html', 'htm'] },
] as const;

// Why the body is not of its type, or null (only the JSON types are checked here).
function bodyProblem(type: string, body: string): string | null {
  const lines = type === 'application/x-ndjson' ? body.split('\n') : type === 'application/json' ? [body] : [];
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '' && lines.length > 1) continue;
    try {
      JSON.parse(line);
    } catch (e) {
      return lines.length > 1 ? `line ${i + 1}: ${(e as Error).message}` : (e as Error).message;
    }
  }
  return null;
}

// "3 dropped: keep (filtered) 2, parse.unmatched 1" from a stream's dropped_at, or null.
function droppedSummary(result: Json): string | null {
  const at = (result as { dropped_at?: Record<string, Record<string, number>> }).dropped_at ?? {};
  const parts: string[] = [];
  let total = 0;
  for (const [node, causes] of Object.entries(at))
    for (const [cause, n] of Object.entries(causes)) {
      parts.push(`${cause.startsWith('(') ? `${node} ${cause}` : `${node}.${cause}`} ${n}`);
      total += n;
    }
  return total > 0 ? `${total} dropped, reaching no sink: ${parts.join(', ')}` : null;
}

export function SendPanel({ deployed, dirty, nodeIds }: Props) {
  const [body, setBody] = useState('{"hello": "world"}');
  const [type, setType] = useState<string>('application/json');
  const [file, setFile] = useState<string | null>(null); // the name of the file the body came from
  const [node, setNode] = useState('');
  const [sending, setSending] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string; dropped?: string | null } | null>(null);

  const problem = bodyProblem(type, body);
  const chosen = TYPES.find((t) => t.type === type)!;

  const load = (picked: File) => {
    const extension = picked.name.split('.').pop()?.toLowerCase() ?? '';
    const known = TYPES.find((t) => (t.extensions as readonly string[]).includes(extension));
    void picked.text().then((text) => {
      setBody(text);
      setFile(picked.name);
      if (known) setType(known.type);
    });
  };

  const send = () => {
    if (!deployed) return;
    setSending(true);
    api
      .postPackets(deployed, body, node, type, file)
      .then((result: Json) => setOutcome({ ok: true, text: JSON.stringify(result, null, 2), dropped: droppedSummary(result) }))
      .catch((e: ApiError) => setOutcome({ ok: false, text: `${e.status || 'no answer'}: ${JSON.stringify(e.body, null, 2)}` }))
      .finally(() => setSending(false));
  };

  return (
    <div className="sl-send" data-testid="send-panel">
      {!deployed && <p className="sl-muted">Save the graph first: data goes to the graph the server runs.</p>}
      {deployed && dirty && <p className="sl-warning">Unsaved changes: the server still runs the last saved '{deployed}'.</p>}
      <label htmlFor="send-type">Content type</label>
      <select id="send-type" value={type} onChange={(e) => setType(e.target.value)}>
        {TYPES.map((t) => (
          <option key={t.type} value={t.type}>
            {t.label} ({t.type})
          </option>
        ))}
      </select>
      <label htmlFor="send-body">
        {chosen.label}: {chosen.hint}
        {file && <span className="sl-muted"> — from {file}</span>}
      </label>
      <textarea
        id="send-body"
        rows={8}
        spellCheck={false}
        value={body}
        onChange={(e) => {
          setBody(e.target.value);
          setFile(null);
        }}
      />
      {problem && <p className="sl-field-error">{problem}</p>}
      <label htmlFor="send-file">Or a local file</label>
      <input
        id="send-file"
        type="file"
        onChange={(e) => {
          const picked = e.target.files?.[0];
          e.target.value = '';
          if (picked) load(picked);
        }}
      />
      <label htmlFor="send-node">Enter at</label>
      <select id="send-node" value={node} onChange={(e) => setNode(e.target.value)}>
        <option value="">the source nodes</option>
        {nodeIds.map((id) => (
          <option key={id} value={id}>
            {id}
          </option>
        ))}
      </select>
      <button type="button" className="sl-primary" disabled={!deployed || problem !== null || sending} onClick={send}>
        {sending ? 'Sending…' : 'Send and wait'}
      </button>
      {outcome?.dropped && (
        <p className="sl-warning" data-testid="send-dropped">
          {outcome.dropped}
        </p>
      )}
      {outcome && (
        <pre className={outcome.ok ? 'sl-result' : 'sl-result sl-bad'} data-testid="send-result">
          {outcome.text}
        </pre>
      )}
    </div>
  );
}
