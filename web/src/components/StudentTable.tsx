import { useMemo, useState } from 'react';
import { Link } from 'react-router-dom';
import { formatDateTime, num, pct, timeAgo } from '../format.ts';
import type { StudentSummary } from '../types.ts';

export const STUCK_LIMIT = 0.3;
export const CONFIDENCE_LIMIT = 5;

/** Why a student needs attention, in words; empty when they do not. */
export function attentionReasons(s: StudentSummary): string[] {
  const out: string[] = [];
  const { stuck, confidence } = s.averages;
  if (stuck !== null && stuck > STUCK_LIMIT) out.push(`stuck ${pct(stuck)}`);
  if (confidence !== null && confidence < CONFIDENCE_LIMIT) {
    out.push(`confidence ${num(confidence)}`);
  }
  return out;
}

type Key =
  'student' | 'attention' | 'count' | 'stuck' | 'got_it' | 'pause' | 'example' | 'confidence';
type Dir = 'ascending' | 'descending';

// `numeric`: right-aligned; `first`: the direction of a first click (biggest first for numbers).
const COLUMNS: { key: Key; label: string; numeric: boolean; first: Dir }[] = [
  { key: 'student', label: 'Student', numeric: false, first: 'ascending' },
  { key: 'attention', label: 'Status', numeric: false, first: 'descending' },
  { key: 'count', label: 'Records', numeric: true, first: 'descending' },
  { key: 'stuck', label: 'Stuck rate', numeric: true, first: 'descending' },
  { key: 'got_it', label: 'Got-it rate', numeric: true, first: 'descending' },
  { key: 'pause', label: 'Pause rate', numeric: true, first: 'descending' },
  { key: 'example', label: 'Example rate', numeric: true, first: 'descending' },
  { key: 'confidence', label: 'Avg confidence', numeric: true, first: 'descending' },
];

interface Row extends StudentSummary {
  name: string;
  reasons: string[];
}

function valueOf(r: Row, key: Key): string | number | null {
  if (key === 'student') return r.student_id;
  if (key === 'attention') return r.reasons.length;
  if (key === 'count') return r.count;
  return r.averages[key];
}

interface Props {
  students: StudentSummary[];
  names: Map<string, string>;
  classId: string;
}

export function StudentTable({ students, names, classId }: Props) {
  const [sort, setSort] = useState<{ key: Key; dir: Dir }>({ key: 'student', dir: 'ascending' });
  const [onlyFlagged, setOnlyFlagged] = useState(false);

  const rows = useMemo(() => {
    const all: Row[] = students.map((s) => ({
      ...s,
      name: names.get(s.student_id) ?? '',
      reasons: attentionReasons(s),
    }));
    const shown = onlyFlagged ? all.filter((r) => r.reasons.length > 0) : all;
    const sign = sort.dir === 'ascending' ? 1 : -1;
    return shown.sort((a, b) => {
      const x = valueOf(a, sort.key);
      const y = valueOf(b, sort.key);
      // Blanks go last whichever the direction.
      if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
      const c =
        typeof x === 'number' && typeof y === 'number'
          ? x - y
          : String(x).localeCompare(String(y), undefined, { numeric: true });
      return c * sign || a.student_id.localeCompare(b.student_id, undefined, { numeric: true });
    });
  }, [students, names, onlyFlagged, sort]);

  const flagged = students.filter((s) => attentionReasons(s).length > 0).length;

  const toggle = (key: Key, first: Dir) =>
    setSort((s) =>
      s.key === key
        ? { key, dir: s.dir === 'ascending' ? 'descending' : 'ascending' }
        : { key, dir: first },
    );

  return (
    <div>
      <div className="table-tools">
        <p className="muted">
          {flagged === 0
            ? 'No student needs attention in this range.'
            : `${flagged} of ${students.length} students need attention (stuck rate above ${pct(STUCK_LIMIT)} or average confidence below ${CONFIDENCE_LIMIT}).`}
        </p>
        <label className="checkbox">
          <input
            type="checkbox"
            checked={onlyFlagged}
            onChange={(e) => setOnlyFlagged(e.target.checked)}
          />
          Only students who need attention
        </label>
      </div>
      <div className="table-scroll" tabIndex={0} role="region" aria-labelledby="students-caption">
        <table className="data-table" data-testid="student-table">
          <caption id="students-caption" className="visually-hidden">
            Students of {classId}; the column headers sort the table.
          </caption>
          <thead>
            <tr>
              {COLUMNS.map((c) => {
                const active = sort.key === c.key;
                return (
                  <th
                    key={c.key}
                    scope="col"
                    aria-sort={active ? sort.dir : 'none'}
                    className={c.numeric ? 'num' : undefined}
                  >
                    <button
                      type="button"
                      className="sort-button"
                      onClick={() => toggle(c.key, c.first)}
                    >
                      {c.label}
                      <span className="sort-icon" aria-hidden="true">
                        {active ? (sort.dir === 'ascending' ? '▲' : '▼') : '↕'}
                      </span>
                    </button>
                  </th>
                );
              })}
              <th scope="col">Last seen</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr
                key={r.student_id}
                className={r.reasons.length ? 'row-flagged' : undefined}
                data-student={r.student_id}
              >
                <th scope="row">
                  <Link
                    to={`/learners/${encodeURIComponent(r.student_id)}`}
                    state={{ fromClass: classId }}
                  >
                    {r.student_id}
                  </Link>
                  {r.name && <span className="student-name">{r.name}</span>}
                </th>
                <td className="status-cell">
                  {r.reasons.length > 0 ? (
                    <span className="flag" data-testid="needs-attention">
                      <span className="flag-text">
                        <span aria-hidden="true">⚠ </span>Needs attention
                      </span>
                      <span className="flag-why">
                        <span className="visually-hidden">: </span>
                        {r.reasons.join(', ')}
                      </span>
                    </span>
                  ) : (
                    <span className="muted">OK</span>
                  )}
                </td>
                <td className="num">{r.count}</td>
                <td className="num">{pct(r.averages.stuck)}</td>
                <td className="num">{pct(r.averages.got_it)}</td>
                <td className="num">{pct(r.averages.pause)}</td>
                <td className="num">{pct(r.averages.example)}</td>
                <td className="num">{num(r.averages.confidence)}</td>
                <td>
                  {r.last_ts ? (
                    <time dateTime={r.last_ts} title={formatDateTime(r.last_ts)}>
                      {timeAgo(r.last_ts)}
                    </time>
                  ) : (
                    '—'
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
