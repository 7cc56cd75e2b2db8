// "Send test data": posts JSON to the running graph with ?wait=true and shows what came out
// (results, errors, counts per sink), or the server's refusal.
import { useState } from 'react';
import { api, ApiError, type Json } from './api';

interface Props {
  deployed: string | null;
  dirty: boolean;
  nodeIds: string[];
}

export function SendPanel({ deployed, dirty, nodeIds }: Props) {
  const [body, setBody] = useState('{"hello": "world"}');
  const [node, setNode] = useState('');
  const [sending, setSending] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | null>(null);

  let jsonProblem: string | null = null;
  try {
    JSON.parse(body);
  } catch (e) {
    jsonProblem = (e as Error).message;
  }

  const send = () => {
    if (!deployed) return;
    setSending(true);
    api
      .postPackets(deployed, body, node)
      .then((result: Json) => setOutcome({ ok: true, text: JSON.stringify(result, null, 2) }))
      .catch((e: ApiError) => setOutcome({ ok: false, text: `${e.status || 'no answer'}: ${JSON.stringify(e.body, null, 2)}` }))
      .finally(() => setSending(false));
  };

  return (
    <div className="sl-send" data-testid="send-panel">
      {!deployed && <p className="sl-muted">Save the graph first: data goes to the graph the server runs.</p>}
      {deployed && dirty && <p className="sl-warning">Unsaved changes: the server still runs the last saved '{deployed}'.</p>}
      <label htmlFor="send-body">JSON: one object (one packet) or an array (one packet each)</label>
      <textarea id="send-body" rows={8} spellCheck={false} value={body} onChange={(e) => setBody(e.target.value)} />
      {jsonProblem && <p className="sl-field-error">{jsonProblem}</p>}
      <label htmlFor="send-node">Enter at</label>
      <select id="send-node" value={node} onChange={(e) => setNode(e.target.value)}>
        <option value="">the source nodes</option>
        {nodeIds.map((id) => (
          <option key={id} value={id}>
            {id}
          </option>
        ))}
      </select>
      <button type="button" className="sl-primary" disabled={!deployed || jsonProblem !== null || sending} onClick={send}>
        {sending ? 'Sending…' : 'Send and wait'}
      </button>
      {outcome && (
        <pre className={outcome.ok ? 'sl-result' : 'sl-result sl-bad'} data-testid="send-result">
          {outcome.text}
        </pre>
      )}
    </div>
  );
}
