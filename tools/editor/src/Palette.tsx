// The components the server offers, grouped by kind, with a search box. Drag one onto the
// canvas to add a node (or press Enter / double-click: it lands in the middle of the view).
import { useMemo, useState } from 'react';
import type { ComponentDescriptor } from './api';

export const DRAG_TYPE = 'application/x-sluice-component';
// In the order data flows: what makes packets first, what only takes them last.
const KIND_ORDER = ['source', 'adapter', 'transformer', 'filter', 'extractor', 'operator', 'publisher'];

interface Props {
  components: ComponentDescriptor[];
  onAdd: (component: string) => void;
}

export function Palette({ components, onAdd }: Props) {
  const [query, setQuery] = useState('');
  const groups = useMemo(() => {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    const matching = components.filter((c) => {
      const text = `${c.name} ${c.summary} ${c.kind} ${c.package}`.toLowerCase();
      return words.every((w) => text.includes(w));
    });
    const kinds = [...new Set(matching.map((c) => c.kind))].sort(
      (a, b) => (KIND_ORDER.indexOf(a) + 1 || 99) - (KIND_ORDER.indexOf(b) + 1 || 99) || a.localeCompare(b),
    );
    return kinds.map((kind) => ({
      kind,
      items: matching.filter((c) => c.kind === kind).sort((a, b) => a.name.localeCompare(b.name)),
    }));
  }, [components, query]);

  return (
    <aside className="sl-palette" aria-label="components">
      <input
        type="search"
        placeholder="Search components"
        aria-label="search components"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
      />
      <div className="sl-palette-list">
        {groups.length === 0 && (
          <p className="sl-muted">{components.length === 0 ? 'The server offers no components.' : 'No component matches.'}</p>
        )}
        {groups.map((group) => (
          <section key={group.kind}>
            <h3>{group.kind}</h3>
            {group.items.map((c) => (
              <div
                key={c.name}
                className={`sl-palette-item kind-${c.kind}`}
                data-testid={`palette-${c.name}`}
                draggable
                tabIndex={0}
                role="button"
                title={`${c.name} ${c.version} (${c.package}) — drag onto the canvas, or press Enter`}
                onDragStart={(e) => {
                  e.dataTransfer.setData(DRAG_TYPE, c.name);
                  e.dataTransfer.effectAllowed = 'copy';
                }}
                onDoubleClick={() => onAdd(c.name)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter') onAdd(c.name);
                }}
              >
                <span className="sl-palette-name">{c.name}</span>
                <span className="sl-palette-summary">{c.summary}</span>
              </div>
            ))}
          </section>
        ))}
      </div>
    </aside>
  );
}
