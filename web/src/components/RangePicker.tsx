import { useEffect, useId, useState } from 'react';
import { addDays, todayUtc } from '../format.ts';
import type { Range } from '../types.ts';

export function presetRange(preset: '7' | '30' | 'all'): Range {
  if (preset === 'all') return { from: '', to: '' };
  const to = todayUtc();
  return { from: addDays(to, -(Number(preset) - 1)), to };
}

const PRESETS = [
  { key: '7', label: 'Last 7 days' },
  { key: '30', label: 'Last 30 days' },
  { key: 'all', label: 'All' },
] as const;

interface Props {
  range: Range;
  onChange: (r: Range) => void;
}

/** Two date inputs (UTC days, either may be open) and presets. */
export function RangePicker({ range, onChange }: Props) {
  const id = useId();
  const [draft, setDraft] = useState(range);
  useEffect(() => setDraft(range), [range]);

  const wrong = draft.from !== '' && draft.to !== '' && draft.from > draft.to;
  const update = (next: Range) => {
    setDraft(next);
    const bad = next.from !== '' && next.to !== '' && next.from > next.to;
    if (!bad) onChange(next);
  };

  return (
    <fieldset className="range">
      <legend>Date range (UTC)</legend>
      <div className="range-fields">
        <div className="field">
          <label htmlFor={`${id}-from`}>From</label>
          <input
            id={`${id}-from`}
            type="date"
            value={draft.from}
            max={draft.to || undefined}
            onChange={(e) => update({ ...draft, from: e.target.value })}
            aria-invalid={wrong || undefined}
            aria-describedby={wrong ? `${id}-error` : undefined}
            data-testid="range-from"
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-to`}>To</label>
          <input
            id={`${id}-to`}
            type="date"
            value={draft.to}
            min={draft.from || undefined}
            onChange={(e) => update({ ...draft, to: e.target.value })}
            aria-invalid={wrong || undefined}
            aria-describedby={wrong ? `${id}-error` : undefined}
            data-testid="range-to"
          />
        </div>
        <div className="presets" role="group" aria-label="Presets">
          {PRESETS.map((p) => {
            const r = presetRange(p.key);
            const active = r.from === range.from && r.to === range.to;
            return (
              <button
                key={p.key}
                type="button"
                className="btn btn-small btn-toggle"
                aria-pressed={active}
                onClick={() => update(r)}
              >
                {p.label}
              </button>
            );
          })}
        </div>
      </div>
      {wrong && (
        <p id={`${id}-error`} className="field-error" role="alert">
          The start date is after the end date.
        </p>
      )}
    </fieldset>
  );
}
