// The debug sidebar: the packets passing one edge, live, from the server's tap on the edge's
// out port (GET /v1/graphs/{g}/tap). Pause holds new packets back without losing them, the
// filter shows the packets whose JSON contains its text, Clear empties the list. A redeploy
// (Save) ends the server's tap; the panel opens it again on the new version.
import { useEffect, useMemo, useState } from 'react';
import { ApiError, readTap, type TapEvent } from './api';

// Packets kept in the list; older ones go (the server's `seq` numbers still show the gaps).
const KEPT = 500;
const REOPEN_AFTER_MS = 300;

export interface TappedEdge {
  source: string;
  port: string;
  target: string;
}

interface Props {
  deployed: string | null;
  dirty: boolean;
  edge: TappedEdge | null;
}

type Shown = { key: number; seq: number; text: string };
let nextKey = 0; // list keys: `seq` starts again when the tap is opened again
type Stats = Extract<TapEvent, { event: 'stats' }>['data'];

export function TapPanel({ deployed, dirty, edge }: Props) {
  const [packets, setPackets] = useState<Shown[]>([]);
  const [held, setHeld] = useState<Shown[]>([]);
  const [paused, setPaused] = useState(false);
  const [filter, setFilter] = useState('');
  const [stats, setStats] = useState<Stats | null>(null);
  const [state, setState] = useState<{ kind: 'info' | 'live' | 'error'; text: string }>({ kind: 'info', text: '' });
  const [opened, setOpened] = useState(0); // bumped to open the tap again

  const source = edge?.source;
  const port = edge?.port;
  useEffect(() => {
    setPackets([]);
    setHeld([]);
    setStats(null);
  }, [deployed, source, port]);

  useEffect(() => {
    if (!deployed || !source || !port) return;
    const abort = new AbortController();
    let reopen: number | undefined;
    setState({ kind: 'info', text: `Opening the tap on ${source}.${port}…` });
    readTap(
      deployed,
      source,
      port,
      (event) => {
        if (event.event === 'open') setState({ kind: 'live', text: `Live: packets leaving ${source}.${port} (at most ${event.data.limit} a second).` });
        else if (event.event === 'stats') setStats(event.data);
        else if (event.event === 'packet') {
          const shown = { key: ++nextKey, seq: event.data.seq, text: JSON.stringify(event.data.packet, null, 1) };
          setHeld((current) => [...current, shown].slice(-KEPT));
        } else if (event.event === 'end') {
          if (event.data.reason === 'redeployed') {
            setState({ kind: 'info', text: 'The graph was redeployed: opening the tap again…' });
            reopen = window.setTimeout(() => setOpened((n) => n + 1), REOPEN_AFTER_MS);
          } else {
            setState({ kind: 'info', text: `The tap ended: ${event.data.reason}.` });
          }
        }
      },
      abort.signal,
    ).catch((e: ApiError) => setState({ kind: 'error', text: `Cannot tap ${source}.${port}: ${e.body.error}` }));
    return () => {
      abort.abort();
      window.clearTimeout(reopen);
    };
  }, [deployed, source, port, opened]);

  // Packets arrive into `held`; unless paused they move to the list at once.
  useEffect(() => {
    if (paused || held.length === 0) return;
    setPackets((current) => [...current, ...held].slice(-KEPT));
    setHeld([]);
  }, [paused, held]);

  const shown = useMemo(() => (filter ? packets.filter((p) => p.text.includes(filter)) : packets), [packets, filter]);

  if (!edge) return <p className="sl-muted">Click an edge to see the packets passing it, live.</p>;
  if (!deployed) return <p className="sl-muted">Save the graph first: the tap watches the graph the server runs.</p>;
  const dropped = stats ? stats.dropped.rate + stats.dropped.buffer + stats.dropped.slow_client : 0;
  return (
    <div className="sl-tap" data-testid="tap-panel">
      <h3>
        {edge.source}.{edge.port} → {edge.target}
      </h3>
      {dirty && <p className="sl-warning">Unsaved changes: the tap shows the last saved '{deployed}'.</p>}
      <p className={state.kind === 'error' ? 'sl-field-error' : 'sl-muted'} data-testid="tap-state">
        {state.text}
      </p>
      {stats && (
        <p className="sl-muted" data-testid="tap-stats">
          seen {stats.seen} · shown {stats.sent} · dropped {dropped}
          {stats.sampled_out > 0 && ` · sampled out ${stats.sampled_out}`}
        </p>
      )}
      <div className="sl-tap-tools">
        <button type="button" onClick={() => setPaused((p) => !p)} aria-pressed={paused}>
          {paused ? `Resume${held.length ? ` (${held.length} new)` : ''}` : 'Pause'}
        </button>
        <button type="button" onClick={() => setPackets([])} disabled={packets.length === 0}>
          Clear
        </button>
        <label htmlFor="tap-filter" className="sl-visually-hidden">
          filter packets
        </label>
        <input id="tap-filter" type="search" placeholder="filter" value={filter} onChange={(e) => setFilter(e.target.value)} />
      </div>
      <ol className="sl-tap-list" data-testid="tap-packets">
        {shown.map((p) => (
          <li key={p.key} data-seq={p.seq}>
            <span className="sl-muted">#{p.seq}</span>
            <pre>{p.text}</pre>
          </li>
        ))}
      </ol>
      {packets.length > 0 && shown.length === 0 && <p className="sl-muted">No packet matches the filter.</p>}
    </div>
  );
}
