// Quick-add: a wire dragged from a port and dropped on empty canvas opens this chooser where it
// was dropped. Typing filters the components that can take the wire (an out port's wire needs
// a component with an input, an in port's one with an output); Enter or a click adds the
// first (or the one chosen with the arrow keys) there, already wired; Escape or a click
// elsewhere cancels.
import { useMemo, useState } from 'react';
import type { ComponentDescriptor } from './api';

export interface QuickAddRequest {
  node: string; // the node the wire came from
  port: string;
  fromOutput: boolean; // the wire came from an out port (it needs the new node's input)
  at: { x: number; y: number }; // where it was dropped, in pixels from the canvas's corner
  position: { x: number; y: number }; // the same point in the graph's coordinates
}

interface Props {
  request: QuickAddRequest;
  components: ComponentDescriptor[];
  onPick: (component: ComponentDescriptor) => void;
  onCancel: () => void;
}

export function QuickAdd({ request, components, onPick, onCancel }: Props) {
  const [query, setQuery] = useState('');
  const [chosen, setChosen] = useState(0);
  const matching = useMemo(() => {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    return components
      .filter((c) => (request.fromOutput ? c.inputs.length > 0 : c.outputs.length > 0))
      .filter((c) => words.every((w) => `${c.name} ${c.summary} ${c.kind}`.toLowerCase().includes(w)))
      .sort((a, b) => Number(!a.name.startsWith(words[0] ?? '')) - Number(!b.name.startsWith(words[0] ?? '')) || a.name.localeCompare(b.name));
  }, [components, query, request.fromOutput]);
  const shown = matching.slice(0, 8);
  const highlighted = Math.min(chosen, shown.length - 1);

  return (
    <div
      className="sl-quick-add"
      role="dialog"
      aria-label="add a wired node"
      data-testid="quick-add"
      style={{ left: request.at.x, top: request.at.y }}
      onBlur={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) onCancel();
      }}
    >
      <input
        autoFocus
        type="search"
        placeholder={`add ${request.fromOutput ? 'after' : 'before'} ${request.node}.${request.port}…`}
        aria-label="component to add"
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setChosen(0);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Escape') onCancel();
          else if (e.key === 'Enter' && shown[highlighted]) onPick(shown[highlighted]);
          else if (e.key === 'ArrowDown') setChosen(Math.min(highlighted + 1, shown.length - 1));
          else if (e.key === 'ArrowUp') setChosen(Math.max(highlighted - 1, 0));
          else return;
          e.preventDefault();
        }}
      />
      <ul role="listbox">
        {shown.length === 0 && <li className="sl-muted">No component matches that can take this wire.</li>}
        {shown.map((c, i) => (
          <li
            key={c.name}
            role="option"
            aria-selected={i === highlighted}
            data-testid={`quick-add-${c.name}`}
            onMouseDown={(e) => e.preventDefault()} // keeps the focus (and the chooser) until the click
            onClick={() => onPick(c)}
          >
            <span className="sl-palette-name">{c.name}</span> <span className="sl-muted">{c.kind}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
