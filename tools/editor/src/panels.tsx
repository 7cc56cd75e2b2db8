// The palette and the side panel beside the canvas: each can be collapsed to a thin strip and
// resized by dragging its border; widths and collapsed states are kept in localStorage, so a
// reload (or the next day) finds them as they were left.
import { useCallback, useEffect, useState, type PointerEvent as ReactPointerEvent } from 'react';

export type PanelName = 'palette' | 'side';
export interface PanelState {
  width: number;
  collapsed: boolean;
}
export type Panels = Record<PanelName, PanelState>;

const STORAGE_KEY = 'sluice-panels';
export const PANEL_MIN_WIDTH = 160;
export const PANEL_MAX_WIDTH = 640;
export const COLLAPSED_WIDTH = 28;
const DEFAULTS: Panels = { palette: { width: 220, collapsed: false }, side: { width: 340, collapsed: false } };

const clampWidth = (width: number) => Math.round(Math.min(PANEL_MAX_WIDTH, Math.max(PANEL_MIN_WIDTH, width)));

// What was kept, where it is whole; the defaults for the rest (an old or hand-edited entry).
function loadPanels(): Panels {
  try {
    const kept = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}') as Partial<Record<PanelName, Partial<PanelState>>>;
    const read = (name: PanelName): PanelState => ({
      width: typeof kept[name]?.width === 'number' ? clampWidth(kept[name]!.width!) : DEFAULTS[name].width,
      collapsed: kept[name]?.collapsed === true,
    });
    return { palette: read('palette'), side: read('side') };
  } catch {
    return DEFAULTS;
  }
}

export function usePanels() {
  const [panels, setPanels] = useState<Panels>(loadPanels);
  useEffect(() => localStorage.setItem(STORAGE_KEY, JSON.stringify(panels)), [panels]);
  const update = useCallback(
    (name: PanelName, change: Partial<PanelState>) => setPanels((current) => ({ ...current, [name]: { ...current[name], ...change } })),
    [],
  );
  return {
    panels,
    // The grid's columns: palette | canvas | side.
    columns: [panels.palette, panels.side].map((p) => `${p.collapsed ? COLLAPSED_WIDTH : p.width}px`).join(' 1fr '),
    toggle: (name: PanelName) => update(name, { collapsed: !panels[name].collapsed }),
    resize: (name: PanelName, width: number) => update(name, { width: clampWidth(width) }),
  };
}

interface BorderProps {
  name: PanelName;
  state: PanelState;
  // The palette grows to the right (its border is on its right), the side panel to the left.
  side: 'left' | 'right';
  onToggle: () => void;
  onResize: (width: number) => void;
}

// The strip along a panel's inner border: drag it to resize, click the button to collapse or
// expand. The label names what the button will do.
export function PanelBorder({ name, state, side, onToggle, onResize }: BorderProps) {
  const label = name === 'palette' ? 'components' : 'side panel';
  const startDrag = (e: ReactPointerEvent<HTMLDivElement>) => {
    if (state.collapsed || e.button !== 0) return;
    e.preventDefault();
    const startX = e.clientX;
    const startWidth = state.width;
    const grip = e.currentTarget;
    grip.setPointerCapture(e.pointerId);
    const move = (m: PointerEvent) => onResize(startWidth + (side === 'right' ? m.clientX - startX : startX - m.clientX));
    const end = () => {
      grip.removeEventListener('pointermove', move);
      grip.removeEventListener('pointerup', end);
      grip.removeEventListener('pointercancel', end);
    };
    grip.addEventListener('pointermove', move);
    grip.addEventListener('pointerup', end);
    grip.addEventListener('pointercancel', end);
  };
  const arrow = (side === 'right') === state.collapsed ? '»' : '«';
  return (
    <div className={`sl-panel-border sl-panel-border-${side}${state.collapsed ? ' collapsed' : ''}`}>
      <div
        className="sl-panel-grip"
        role="separator"
        aria-orientation="vertical"
        aria-label={`resize the ${label}`}
        aria-valuenow={state.width}
        data-testid={`resize-${name}`}
        onPointerDown={startDrag}
      />
      <button
        type="button"
        className="sl-panel-toggle"
        aria-label={`${state.collapsed ? 'show' : 'hide'} the ${label}`}
        title={`${state.collapsed ? 'Show' : 'Hide'} the ${label}`}
        onClick={onToggle}
      >
        {arrow}
      </button>
    </div>
  );
}
